"""Shared by the samples (not part of soapkit): where the sandbox is.

Every sample takes ``--sandbox DIR`` (the data folder of a running sandbox, e.g. one started with
``soapkit sandbox --data-dir DIR``) and otherwise starts a sandbox of its own on a free loopback port
for as long as it runs. Either way the sample gets the content of ``sandbox.json``: the base URL, the
tenant, and the credentials a real integration would read from its own configuration.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def sample_parser(description: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=(description or "").strip().splitlines()[0])
    parser.add_argument("--sandbox", metavar="DIR",
                        help="data folder of a running sandbox (default: start one for this run)")
    return parser


@contextmanager
def sandbox_config(directory: str | None) -> Iterator[dict[str, Any]]:
    """The sandbox.json of the sandbox in ``directory``, or of a fresh in-process sandbox."""
    if directory:
        yield json.loads((Path(directory) / "sandbox.json").read_text(encoding="utf-8"))
        return
    from soapkit.sandbox import Sandbox

    with tempfile.TemporaryDirectory(prefix="soapkit-sample-") as data, Sandbox(data, port=0) as running:
        yield running.config
