"""soapkit's version: the one place it is written (pyproject.toml reads it through hatch's dynamic version)."""

from __future__ import annotations

import argparse
from importlib import metadata
from typing import Any

__version__ = "0.1.0"


def versions_text() -> str:
    """What ``soapkit --version`` prints: soapkit and the libraries whose versions matter in a bug report."""
    lines = [f"soapkit {__version__}"]
    for name in ("zeep", "lxml", "xmlsec"):
        try:
            found = metadata.version(name)
        except metadata.PackageNotFoundError:
            found = "not installed"
        lines.append(f"{name} {found}")
    try:
        from lxml import etree

        lines[2] += f" (libxml2 {'.'.join(map(str, etree.LIBXML_VERSION))})"
    except ImportError:
        pass
    try:
        import xmlsec

        lines[3] += f" (xmlsec1 {'.'.join(map(str, getattr(xmlsec, 'get_libxmlsec_version')()))})"  # noqa: B009
    except (ImportError, AttributeError):  # the xmlsec stubs do not know get_libxmlsec_version
        pass
    return "\n".join(lines)


class VersionAction(argparse.Action):
    """``--version``: print :func:`versions_text` (looked up only when asked for) and exit."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        kwargs.setdefault("help", "print the versions of soapkit, zeep, lxml and xmlsec and exit")
        super().__init__(option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        print(versions_text())
        parser.exit()
