"""Redaction and error messages stay linear and bounded on hostile text (1 MB inputs, under a timeout)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from soapkit.errors import AgentError, AuthenticationFailed, HttpError, SoapFault
from soapkit.redaction import MAX_MESSAGE_CHARS, clip, redact_text

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_redaction.py"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXZhbHVl"
SIGNED = "App-8k8Q7DmBgo.202611221705." + "B" * 342 + "=="


def _bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_redaction", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SHAPES = _bench().shapes()


@pytest.mark.timeout(10)
@pytest.mark.parametrize("name", sorted(SHAPES))
def test_a_megabyte_of_each_hostile_shape_is_redacted_quickly(name: str) -> None:
    text = SHAPES[name]
    out = redact_text(text)  # the quadratic patterns took minutes here; the timeout fails the test
    assert "7T:abc" not in out


@pytest.mark.timeout(10)
def test_secrets_inside_a_megabyte_of_noise_are_still_found() -> None:
    noise = "A" * 500_000
    text = f"{noise} {JWT} {noise} ticket 7T:hidden {SIGNED} " + "-----BEGIN PRIVATE KEY-----MIIsecret"
    out = redact_text(text)
    assert JWT not in out and "7T:hidden" not in out and "B" * 40 not in out and "MIIsecret" not in out
    assert "8k8Q7DmBgo" not in out


def test_clip_cuts_and_drops_a_secret_that_straddles_the_cut() -> None:
    text = "x " * 100 + JWT
    cut = clip(text, 200 + len(JWT) // 2)  # the cut falls inside the JWT
    assert "eyJ" not in cut and "characters cut" in cut
    assert clip("short") == "short"


@pytest.mark.timeout(10)
@pytest.mark.parametrize("make", [
    lambda text: SoapFault(f"SOAP Fault: {text}"),
    lambda text: AgentError(f"SoException: {text}", friendly_text=text, source=text),
    lambda text: HttpError(500, "bad", body=text),
    lambda text: AuthenticationFailed("refused", server_message=text),
])
def test_errors_built_from_huge_server_text_are_bounded(make) -> None:  # type: ignore[no-untyped-def]
    error = make("A" * 1_000_000 + " 7T:secret")
    for value in (error.message, getattr(error, "body", ""), getattr(error, "server_message", "") or "",
                  getattr(error, "friendly_text", "") or ""):
        assert len(value) <= MAX_MESSAGE_CHARS + 40
        assert "7T:secret" not in value


def test_the_redaction_benchmark_runs_with_its_floor() -> None:
    results = _bench().run(megabytes=0.01, repeat=1)
    assert results and all(set(t) == {"redact_text", "str.replace"} for t in results.values())
