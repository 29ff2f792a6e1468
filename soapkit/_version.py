"""soapkit's version: the one place it is written (pyproject.toml reads it through hatch's dynamic version)."""

from __future__ import annotations

import argparse
from typing import Any

__version__ = "0.1.0"


def versions_text(*, native: bool = False) -> str:
    """What ``soapkit --version`` prints: soapkit and the libraries whose versions matter in a bug report.

    The distributions' versions come from their metadata, without importing them (``--version`` starts at
    once). With ``native`` (``soapkit -v --version``) lxml and xmlsec are imported to add the libxml2 and
    xmlsec1 versions they were built with.
    """
    from importlib import metadata  # 20 ms of imports: only for --version, never for `import soapkit`

    lines = [f"soapkit {__version__}"]
    for name in ("zeep", "lxml", "xmlsec"):
        try:
            found = metadata.version(name)
        except metadata.PackageNotFoundError:
            found = "not installed"
        lines.append(f"{name} {found}")
    if native:
        lines[2] += _libxml2()
        lines[3] += _xmlsec1()
    return "\n".join(lines)


def _libxml2() -> str:
    try:
        from lxml import etree
    except ImportError:
        return ""
    return f" (libxml2 {'.'.join(map(str, etree.LIBXML_VERSION))})"


def _xmlsec1() -> str:
    try:
        import xmlsec

        return f" (xmlsec1 {'.'.join(map(str, getattr(xmlsec, 'get_libxmlsec_version')()))})"  # noqa: B009
    except (ImportError, AttributeError):  # the xmlsec stubs do not know get_libxmlsec_version
        return ""


class VersionAction(argparse.Action):
    """``--version``: print :func:`versions_text` (looked up only when asked for) and exit."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        kwargs.setdefault("help", "print the versions of soapkit, zeep, lxml and xmlsec and exit "
                          "(-v --version: also libxml2 and xmlsec1)")
        super().__init__(option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        print(versions_text(native=bool(getattr(namespace, "verbose", 0))))
        parser.exit()
