"""What only the async client has: ``async for`` over Archive rows, awaited list helpers, its own httpx client."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

import soapkit
from soapkit.sandbox import Sandbox


def _open(sb: Sandbox, **options: Any) -> soapkit.AsyncSuperOfficeClient:
    cfg = sb.config
    return soapkit.connect_async(cfg["context_identifier"], env=cfg["base_url"], app_token=cfg["client_secret"],
                                 credentials=soapkit.SystemUser(cfg["system_user_token"], cfg["private_key_xml"]),
                                 **options)


def test_archive_rows_are_read_with_async_for_and_equal_the_sync_rows(sandbox: Sandbox) -> None:
    cfg = sandbox.config
    sync = soapkit.connect(cfg["context_identifier"], env=cfg["base_url"], app_token=cfg["client_secret"],
                           credentials=soapkit.SystemUser(cfg["system_user_token"], cfg["private_key_xml"]))
    expected = list(sync.archive("Contact", ["contactId", "name"], page_size=2))

    async def read() -> tuple[list[Any], int]:
        async with _open(sandbox) as so:
            rows = so.archive("Contact", ["contactId", "name"], page_size=2)
            with pytest.raises(TypeError, match="async for"):
                next(rows)
            got = [row async for row in rows]
            return got, rows.page

    got, last_page = asyncio.run(read())
    assert got == expected and len(got) >= 5 and last_page >= 2


def test_list_helpers_are_awaited_and_cached(sandbox: Sandbox) -> None:
    async def read() -> tuple[Any, Any, int]:
        async with _open(sandbox) as so:
            first = await so.mdo_list("category")
            again = await so.mdo_list("category")
            return first, again, so.lists.fetch_count

    first, again, fetched = asyncio.run(read())
    assert first == again and first and fetched == 1


def test_a_client_of_your_own_is_used_and_left_open(sandbox: Sandbox) -> None:
    async def run() -> bool:
        async with httpx.AsyncClient() as http:
            async with _open(sandbox, http=http) as so:
                assert (await so.ContactAgent.GetContactEntity(1)).ContactId == 1
            return http.is_closed

    assert asyncio.run(run()) is False
    with pytest.raises(soapkit.ConfigurationError, match="connect_async"):
        soapkit.connect("Cust12345", env=sandbox.base_url, ticket="7T:x", http=object())


def test_a_bad_argument_is_raised_when_awaited_before_anything_is_sent(sandbox: Sandbox) -> None:
    recorder = soapkit.Recorder()

    async def run() -> None:
        async with _open(sandbox, recorder=recorder) as so:
            call = so.ContactAgent.GetContactEntity("not a number")
            with pytest.raises(soapkit.InvalidValue, match="ContactEntityId"):
                await call

    asyncio.run(run())
    assert len(recorder) == 0


def test_one_credential_serves_clients_on_successive_event_loops(sandbox: Sandbox) -> None:
    """Single flight takes an asyncio lock per event loop: a credential shared by clients of two loops (two
    asyncio.run calls, as a script or a test suite makes them) refreshes under each loop's own lock."""
    cfg = sandbox.config
    credential = soapkit.SystemUser(cfg["system_user_token"], cfg["private_key_xml"], reuse_for=0)

    async def run() -> list[int]:
        async with soapkit.connect_async(cfg["context_identifier"], env=cfg["base_url"],
                                         app_token=cfg["client_secret"], credentials=credential) as so:
            found = await asyncio.gather(*(so.ContactAgent.GetContactEntity(1) for _ in range(8)))
            return [contact.ContactId for contact in found]

    assert asyncio.run(run()) == [1] * 8
    assert asyncio.run(run()) == [1] * 8
    assert credential.fetch_count >= 2  # every call needed a fresh ticket (reuse_for=0), on both loops
