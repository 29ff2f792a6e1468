"""Public names imported on first use: the one mechanism behind ``soapkit``, ``soapkit.credentials``,
``soapkit.credentials.oauth`` and ``soapkit.sandbox``, so that importing a package does not load what its names
need (zeep, requests, cryptography, PyJWT, the sandbox's server) until a name is touched.

A package lists its names in one table (defining module -> names) and mirrors it with ``if TYPE_CHECKING:``
imports for type checkers (tests/test_startup.py holds the two equal); it installs the returned ``__getattr__``
only under ``if not TYPE_CHECKING:``, so a misspelt name stays an error for mypy.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, Iterable[str]]) -> tuple[
        dict[str, str], Callable[[str], Any], Callable[[], list[str]]]:
    """``(module_of, __getattr__, __dir__)`` for ``package``: name -> defining module, the module ``__getattr__``
    that imports a name on first use and keeps it, and a ``__dir__`` that lists every public name."""
    module_of = {name: module for module, names in exports.items() for name in names}
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        module = module_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value  # the next access is an ordinary attribute
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(module_of))

    return module_of, __getattr__, __dir__
