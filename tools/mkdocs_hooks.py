"""mkdocs hooks of the documentation site (``hooks:`` in mkdocs.yml; the wheel carries this file beside it).

soapkit's docstrings name other objects with Sphinx roles (``:class:`~soapkit.errors.SoapkitError```), which
mkdocstrings leaves as they are: the API reference would show ``:class:`` before the name. The roles become the
code they stand for (``~`` keeps the last part of the dotted name, as in Sphinx).
"""

from __future__ import annotations

import re
from typing import Any

# one role, then one <code> element holding a dotted name: no nested or overlapping repetition (linear time)
_ROLE = re.compile(r":(?:class|func|meth|mod|data|attr|exc|obj):<code>(~?)([A-Za-z_][\w.]*)</code>")


def plain_roles(html: str) -> str:
    return _ROLE.sub(lambda m: f"<code>{m[2].rpartition('.')[2] if m[1] else m[2]}</code>", html)


def on_page_content(html: str, **_: Any) -> str:
    return plain_roles(html)
