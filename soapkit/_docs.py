"""Where soapkit's documentation is: the one place hints, ``--help`` texts and ``soapkit docs`` take it from.

The documentation site is built with mkdocs from ``docs/`` (``mkdocs.yml`` at the top of the source tree; the
wheel carries both as ``soapkit/_site/``, so an installed soapkit has its own version's pages). There is no
hosted site yet, so a reference is the command that shows the page, ``soapkit docs credentials``, which works
offline and matches the installed version. Once the site is hosted, :data:`DOCS_URL` (or, for a site a company
hosts itself, the ``SOAPKIT_DOCS_URL`` environment variable) turns every reference into the page's URL.

A *topic* is a page name: ``credentials`` is ``docs/credentials.md`` and, with mkdocs' directory URLs,
``{base}credentials/`` on the site; ``ContactAgent`` is the agent reference page ``docs/agents/ContactAgent.md``.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The hosted documentation site's base URL (ending in ``/``); empty while there is none.
DOCS_URL = ""
#: Overrides :data:`DOCS_URL`: the base URL of a copy of the site you host (``soapkit docs --build DIR``).
DOCS_URL_VARIABLE = "SOAPKIT_DOCS_URL"

#: topic -> (page path inside docs/, title). The guides, in the order of the site's navigation.
PAGES: dict[str, tuple[str, str]] = {
    "index": ("index.md", "soapkit"),
    "getting-started": ("getting-started.md", "Getting started"),
    "credentials": ("credentials.md", "Credentials"),
    "oauth": ("oauth.md", "OAuth and tokens"),
    "configuration": ("configuration.md", "Configuration"),
    "sandbox": ("sandbox.md", "The sandbox"),
    "values": ("values.md", "Values in and out"),
    "archive": ("archive.md", "Archive export"),
    "async": ("async.md", "Async"),
    "retries": ("retries.md", "Retries, limits and deadlines"),
    "migrating-from-wcf": ("migrating-from-wcf.md", "Migrating from WCF"),
    "onsite": ("onsite.md", "Onsite NetServer"),
    "debugging": ("debugging.md", "Debugging envelopes"),
    "testing": ("testing.md", "Testing your integration"),
    "typing": ("typing.md", "Type checking"),
    "cli": ("cli.md", "The command line"),
    "decisions": ("decisions.md", "Decisions"),
    "reference": ("reference/index.md", "API reference"),
    "errors": ("reference/errors.md", "Errors (API reference)"),
    "agents": ("agents/index.md", "Agent reference"),
}

#: Other words users type for a topic.
ALIASES: dict[str, str] = {"wcf": "migrating-from-wcf", "migrate": "migrating-from-wcf", "api": "reference",
                           "types": "agents/types", "envelopes": "debugging", "start": "getting-started",
                           "exceptions": "errors"}

#: The page each command's ``--help`` points at.
COMMAND_TOPICS: dict[str, str] = {
    "call": "cli", "envelope": "debugging", "describe": "agents", "wsdl": "cli", "ticket": "credentials",
    "state": "credentials", "replay": "debugging", "diff": "debugging", "keys": "credentials",
    "migrate": "migrating-from-wcf", "completion": "cli", "login": "oauth", "config": "configuration",
    "sandbox": "sandbox", "demo": "getting-started", "docs": "index",
}

#: The page an error's ``docs`` points at, by exception class name; the most specific class listed wins.
ERROR_TOPICS: dict[str, str] = {
    "SoapkitError": "errors",
    "ConfigurationError": "",  # bad arguments of every kind: the message and hint say it all, no page is better
    "KeyFormatError": "credentials",
    "WsdlError": "cli",
    "CaptureFormatError": "debugging",
    "UnknownOperationError": "agents",
    "InvalidValue": "values",
    "CredentialError": "credentials",
    "OAuthError": "oauth",
    "LoginFailed": "oauth",
    "TenantError": "credentials",
    "TransportError": "retries",
    "RequestTimeout": "retries",
    "RateLimited": "retries",
    "ResponseTooLarge": "retries",
    "OutcomeUnknown": "retries",
    "ResponseRejected": "debugging",
    "ServiceError": "debugging",
    "CacheError": "credentials",
}


class UnknownTopic(KeyError):
    """No page by that name (raised for a mistyped topic in soapkit's own code: tests catch it)."""


def docs_root() -> Path:
    """The folder holding ``mkdocs.yml`` and ``docs/``: the source tree, or ``soapkit/_site`` in a wheel."""
    package = Path(__file__).resolve().parent
    installed = package / "_site"
    if (installed / "mkdocs.yml").is_file():
        return installed
    return package.parent


def docs_dir() -> Path:
    return docs_root() / "docs"


def resolve(topic: str) -> str:
    """The page path (inside docs/) of a topic: a guide, an alias, ``agents/X`` or an agent's name."""
    name = ALIASES.get(topic.lower(), topic)
    if name in PAGES:
        return PAGES[name][0]
    lowered = {key.lower(): key for key in PAGES}
    if name.lower() in lowered:
        return PAGES[lowered[name.lower()]][0]
    path = name if name.endswith(".md") else f"{name}.md"
    candidates = [path, f"agents/{path}"]
    folder = docs_dir()
    for candidate in candidates:
        if (folder / candidate).is_file():
            return candidate
    for candidate in candidates:  # agent names typed in another case (contactagent)
        parent = (folder / candidate).parent
        if parent.is_dir():
            for found in parent.glob("*.md"):
                if found.name.lower() == Path(candidate).name.lower():
                    return str(found.relative_to(folder))
    raise UnknownTopic(topic)


def site_path(page_path: str) -> str:
    """The page's path on the built site (mkdocs' directory URLs): ``credentials/``, ``agents/ContactAgent/``."""
    stem = page_path.removesuffix(".md")
    if stem == "index":
        return ""
    return f"{stem.removesuffix('/index')}/" if stem.endswith("/index") else f"{stem}/"


def base_url() -> str:
    base = os.environ.get(DOCS_URL_VARIABLE, "").strip() or DOCS_URL
    return base if not base or base.endswith("/") else base + "/"


def url(topic: str, anchor: str | None = None) -> str | None:
    """The hosted page's URL, or None while no base URL is set."""
    base = base_url()
    if not base:
        return None
    return base + site_path(resolve(topic)) + (f"#{anchor}" if anchor else "")


def page(topic: str, anchor: str | None = None) -> str:
    """How a hint names a page: its URL when the site is hosted, else the command that shows it."""
    resolve(topic)  # a mistyped topic fails here, in soapkit's own tests, not in front of a user
    found = url(topic, anchor)
    if found:
        return found
    return f"soapkit docs {topic}" + (f"#{anchor}" if anchor else "")


def topic_for_error(error_type: type[BaseException]) -> str | None:
    """The page for an exception class: the first class of its MRO named in :data:`ERROR_TOPICS` (None for a
    class listed with no page)."""
    for cls in error_type.__mro__:
        topic = ERROR_TOPICS.get(cls.__name__)
        if topic is not None:
            return topic or None
    return None
