"""Hints in the words of the command line.

The library's hints speak Python (``app_token=``, ``wsdl_dirs=``, ``timeout=``); on the command line the same
advice names options and commands. :func:`cli_hint` rewrites one hint; :data:`REWRITES` is the whole table
(``tests/test_cli_hints.py`` checks that every command and option a rewritten hint names exists).
"""

from __future__ import annotations

#: (Python wording, command-line wording), applied in order to every hint the command line prints.
REWRITES: tuple[tuple[str, str], ...] = (
    ("Pass app_token= (your application's client secret) or set SOAPKIT_APP_TOKEN.",
     "Pass --app-token-file FILE (your application's client secret) or set SOAPKIT_APP_TOKEN."),
    ("Pass app_token= or set SOAPKIT_APP_TOKEN (the application's client secret).",
     "Pass --app-token-file FILE or set SOAPKIT_APP_TOKEN (the application's client secret)."),
    ("Pass app_token= to connect() or client_secret= to the provider.",
     "Pass --app-token-file FILE or set SOAPKIT_APP_TOKEN (the application's client secret)."),
    ("Pass app_token= or set SOAPKIT_APP_TOKEN.", "Pass --app-token-file FILE or set SOAPKIT_APP_TOKEN."),
    ("into a folder and pass it as wsdl_dirs=.",
     "into a folder and pass it with --wsdl-dir DIR, or import it once: soapkit wsdl import URL-OR-FILE."),
    ("Point wsdl_dirs at a folder of .wsdl files.", "Point --wsdl-dir at a folder of .wsdl files."),
    ("or raise --timeout.", "or raise --login-timeout."),
    ("(soapkit login --tenant ...)", "(soapkit login --ctx CUST)"),
)


def cli_hint(hint: str | None) -> str | None:
    """``hint`` with Python wording replaced by the command line's options."""
    if not hint:
        return hint
    for python, cli in REWRITES:
        hint = hint.replace(python, cli)
    return hint
