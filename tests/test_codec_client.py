"""The compiled codec in the call path: what users get is the same with codec="compiled" (the default) and
codec="zeep", on both drivers, and the compiled path really is the one taken."""

from __future__ import annotations

from typing import Any

import pytest

import soapkit
from soapkit import connect, plain
from soapkit.sandbox import Sandbox

pytestmark = pytest.mark.usefixtures("driver")  # every test runs on both drivers (tests/both_drivers.py)

CALLS: list[tuple[str, str, tuple[Any, ...]]] = [
    ("ContactAgent", "GetContactEntity", (1,)),
    ("ContactAgent", "GetContactList", ([1, 2, 3],)),
    ("PersonAgent", "GetPersonEntity", (2,)),
    ("ContactAgent", "GetPersons", (1,)),
    ("MDOAgent", "GetList", ("category", True, "", False)),
    ("ContactAgent", "GetContactEntity", (987654,)),  # nil: None
]


def _client(sb: Sandbox, codec: str) -> Any:
    cfg = sb.config
    return connect(cfg["context_identifier"], env=cfg["base_url"], app_token=cfg["client_secret"],
                   credentials=soapkit.SystemUser(cfg["system_user_token"], cfg["private_key_xml"]), codec=codec)


@pytest.mark.parametrize(("agent", "operation", "args"), CALLS, ids=[f"{a}.{o}" for a, o, _ in CALLS])
def test_compiled_and_zeep_give_the_same_values(sandbox: Sandbox, agent: str, operation: str,
                                                args: tuple[Any, ...]) -> None:
    ours = getattr(getattr(_client(sandbox, "compiled"), agent), operation)(*args)
    zeeps = getattr(getattr(_client(sandbox, "zeep"), agent), operation)(*args)
    assert plain(ours) == plain(zeeps)
    assert type(ours) is type(zeeps)


def test_the_compiled_path_reads_without_zeep(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    so = _client(sandbox, "compiled")
    so.ContactAgent.GetContactEntity(1)  # signed in, tenant located, operation built

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("zeep read an answer the codec reads")

    monkeypatch.setattr("zeep.wsdl.bindings.soap.SoapBinding.process_reply", forbidden)
    assert so.ContactAgent.GetContactEntity(1).ContactId == 1
    with pytest.raises(AssertionError, match="zeep read"):
        _client(sandbox, "zeep").ContactAgent.GetContactEntity(1)


def test_an_unknown_codec_is_refused() -> None:
    with pytest.raises(soapkit.ConfigurationError, match="codec"):
        soapkit.connect("Cust12345", env="http://127.0.0.1:9", ticket="7T:x", codec="fast")
