"""``soapkit docs [TOPIC]``: the documentation of this version of soapkit, offline.

``soapkit docs`` lists the guides; ``soapkit docs credentials`` prints a page's Markdown (``--where`` prints
where it is instead: the file, its path on the site, its URL once hosted); ``soapkit docs
ContactAgent.GetContactEntity`` prints one operation of the agent reference. ``--build DIR`` builds the whole
site (mkdocs, strict) and ``--serve`` builds it into a temporary folder and serves it on loopback; both need
``pip install 'soapkit[docs]'``. Where the pages come from is :mod:`soapkit._docs`.
"""

from __future__ import annotations

import argparse
import difflib
import functools
import http.server
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

from soapkit import _docs
from soapkit.cli._output import stdout_output
from soapkit.errors import ConfigurationError

EXAMPLES = """\
examples:
  soapkit docs                                  the guides, with where each one is
  soapkit docs credentials                      print the credentials guide
  soapkit docs ContactAgent.GetContactEntity    one operation of the agent reference
  soapkit docs retries --where                  the page's file, site path and URL
  soapkit docs --serve --port 8000              the whole site, searchable, on http://127.0.0.1:8000/
  soapkit docs --build ./site                   build the site (to host it; set SOAPKIT_DOCS_URL to its URL)
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "docs", help="show this version's documentation (guides, API and agent reference), or serve the site",
        description="Show soapkit's documentation for this installed version, offline. Error messages and "
        "--help texts name pages as `soapkit docs TOPIC`.", epilog=EXAMPLES)
    parser.add_argument("topic", nargs="?", metavar="TOPIC",
                        help="a guide (credentials, async, ...), an agent (ContactAgent) or Agent.Operation")
    parser.add_argument("--where", action="store_true", help="print where the page is instead of its text")
    parser.add_argument("--build", metavar="DIR", type=Path, help="build the site into DIR (needs soapkit[docs])")
    parser.add_argument("--serve", action="store_true", help="build the site and serve it on 127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="port for --serve (default 8000; 0: any free port)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.build is not None or args.serve:
        if args.where:
            raise ConfigurationError("--where cannot be combined with --build or --serve.",
                                     hint="Run `soapkit docs TOPIC --where` on its own.")
        return _site(args)
    if args.topic is None:
        if args.where:
            print(f"pages:  {_docs.docs_dir()}\nconfig: {_docs.docs_root() / 'mkdocs.yml'}\n"
                  f"site:   {_docs.base_url() or 'not hosted (soapkit docs --serve)'}")
            return 0
        return _list(args)
    topic, anchor = _split(args.topic)
    page_path = _resolve(topic)
    if args.where:
        return _where(args, topic, page_path, anchor)
    text = (_docs.docs_dir() / page_path).read_text(encoding="utf-8")
    if anchor is not None:
        found = section(text, anchor)
        if found is None:
            raise ConfigurationError(f"{page_path} has no section {anchor!r}.",
                                     hint=f"Run `soapkit docs {topic}` for the whole page.")
        text = found
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def _split(word: str) -> tuple[str, str | None]:
    """``values#nil`` and ``ContactAgent.GetContactEntity`` name a section of a page."""
    if "#" in word:
        topic, _, anchor = word.partition("#")
        return topic, anchor or None
    if "." in word and not word.endswith(".md"):
        agent, _, operation = word.partition(".")
        return agent, operation or None
    return word, None


def _resolve(topic: str) -> str:
    try:
        return _docs.resolve(topic)
    except _docs.UnknownTopic:
        names = [*_docs.PAGES, *_docs.ALIASES, *_agent_names()]
        close = difflib.get_close_matches(topic, names, n=3, cutoff=0.6)
        raise ConfigurationError(
            f"There is no documentation page {topic!r}.",
            hint=("Did you mean " + " or ".join(close) + "? " if close else "")
            + "Run `soapkit docs` for the guides; agents are named as in `so.ContactAgent`.") from None


def _agent_names() -> list[str]:
    folder = _docs.docs_dir() / "agents"
    return sorted(p.stem for p in folder.glob("*.md") if p.stem not in ("index", "types"))


def _list(args: argparse.Namespace) -> int:
    out = stdout_output(args)
    rows: list[dict[str, str | None]] = [
        {"topic": topic, "title": title, "file": path, "site_path": _docs.site_path(path), "url": _docs.url(topic)}
        for topic, (path, title) in _docs.PAGES.items()]
    if out.json_mode:
        out.json({"pages": rows, "agents": _agent_names(), "docs_dir": str(_docs.docs_dir())})
        return 0
    width = max(len(topic) for topic in _docs.PAGES)
    for row in rows:
        print(f"  {row['topic']:<{width}}  {row['title']}")
    print(f"\nAgents: soapkit docs ContactAgent (one page per agent, {len(_agent_names())} in all), "
          "soapkit docs ContactAgent.GetContactEntity (one operation).")
    base = _docs.base_url()
    print(f"Site: {base}" if base else "Site: not hosted; `soapkit docs --serve` serves it from this machine.")
    return 0


def _where(args: argparse.Namespace, topic: str, page_path: str, anchor: str | None) -> int:
    out = stdout_output(args)
    fragment = f"#{anchor}" if anchor else ""
    found = {"topic": topic, "file": str(_docs.docs_dir() / page_path),
             "site_path": _docs.site_path(page_path) + fragment, "url": _docs.url(topic, anchor)}
    if out.json_mode:
        out.json(found)
        return 0
    print(f"file:       {found['file']}")
    print(f"site path:  {found['site_path'] or '(the home page)'}")
    print(f"url:        {found['url'] or f'none (no hosted site; set {_docs.DOCS_URL_VARIABLE} or use --serve)'}")
    return 0


# --- sections ---------------------------------------------------------------------------------

_HEADING = re.compile(r"^(#{1,6})[ \t]+([^\n]*?)(?:[ \t]+\{#([^}\s]+)\})?[ \t]*$")


def slug(title: str) -> str:
    """The anchor mkdocs' toc gives a heading (lower case, words joined by ``-``)."""
    text = re.sub(r"[^\w\s-]", "", title.replace("`", "")).strip().lower()
    return re.sub(r"[\s]+", "-", text)


def section(text: str, anchor: str) -> str | None:
    """The part of a Markdown page under the heading whose id (``{#Id}``) or slug is ``anchor``."""
    lines = text.splitlines(keepends=True)
    start = level = None
    fenced = False
    for number, line in enumerate(lines):
        if line.startswith("```"):
            fenced = not fenced
        match = None if fenced else _HEADING.match(line.rstrip("\n"))
        if match is None:
            continue
        depth = len(match[1])
        if start is None and anchor in (match[3], slug(match[2])):
            start, level = number, depth
        elif start is not None and level is not None and depth <= level:
            return "".join(lines[start:number])
    return "".join(lines[start:]) if start is not None else None


# --- the site ---------------------------------------------------------------------------------


def build_site(target: Path, *, strict: bool = True) -> Path:
    """Build the site into ``target`` with mkdocs (the ``docs`` extra), from this version's pages."""
    try:
        from mkdocs.commands.build import build
        from mkdocs.config import load_config
        from mkdocs.exceptions import MkDocsException
    except ImportError:
        raise ConfigurationError("Building the documentation site needs mkdocs.",
                                 hint="pip install 'soapkit[docs]' (mkdocs, its Material theme and "
                                      "mkdocstrings), or read a page with `soapkit docs TOPIC`.") from None
    config_file = _docs.docs_root() / "mkdocs.yml"
    if not config_file.is_file():
        raise ConfigurationError(f"This installation has no {config_file}.",
                                 hint="Reinstall soapkit from its wheel or source tree.")
    try:
        config = load_config(str(config_file), site_dir=str(target.resolve()), strict=strict)
        build(config)
    except (MkDocsException, OSError) as error:  # mkdocs' own errors (strict-mode aborts are among them)
        raise ConfigurationError(f"The documentation site did not build: {error}",
                                 hint="Run `mkdocs build --strict` in the source tree to see every warning.") from None
    return target


def _site(args: argparse.Namespace) -> int:
    if args.build is not None:
        build_site(args.build)
        print(f"built the site in {args.build.resolve()} (open index.html, or serve the folder)")
        return 0
    start = ""
    if args.topic:  # a bad topic or port is reported before the site is built (that takes seconds)
        topic, anchor = _split(args.topic)
        start = _docs.site_path(_resolve(topic)) + (f"#{anchor}" if anchor else "")
    with tempfile.TemporaryDirectory(prefix="soapkit-docs-") as folder:
        server = _server(Path(folder), args.port)
        try:
            build_site(Path(folder), strict=False)
        except BaseException:
            server.server_close()
            raise
        port = server.server_address[1]
        print(f"serving the documentation on http://127.0.0.1:{port}/{start}  (Ctrl-C stops)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:  # the way to stop it: not an error
            pass
        finally:
            server.server_close()
    return 0


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def _server(folder: Path, port: int) -> http.server.ThreadingHTTPServer:
    if not 0 <= port <= 65535:
        raise ConfigurationError(f"--port {port} is not a port number.", hint="Give 1-65535, or 0 for any free port.")
    handler = functools.partial(_QuietHandler, directory=str(folder))
    try:
        return http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)  # loopback only
    except OSError as error:
        raise ConfigurationError(f"Cannot listen on 127.0.0.1:{port}: {error.strerror or error}.",
                                 hint="Choose another --port, or --port 0 for any free one.") from None
