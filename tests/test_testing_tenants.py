"""Per-test tenants, snapshots and seed documents of soapkit.testing, as a user's suite meets them (pytester),
and the Sandbox methods underneath (directly)."""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

import pytest

import soapkit.sandbox  # noqa: F401  (first import in the outer session; see test_testing_fixtures.py)
from soapkit.sandbox import Sandbox

pytest_plugins = ["pytester"]

USER_CONFTEST = 'pytest_plugins = ["soapkit.testing"]\n'

SEED = {
    "sample_data": False,
    "contacts": [{"Name": "Seed One AS", "OrgNr": "999000111"}, {"Name": "Seed Seven AS", "ContactId": 7}],
    "persons": [{"Firstname": "Ada", "Lastname": "Lovelace", "Contact": {"ContactId": 7},
                 "BirthDate": "1990-01-02T00:00:00"}],
    "entities": {"Sale": [{"Heading": "Seeded deal", "Amount": 1200, "Contact": {"ContactId": 1}}]},
}


def test_each_test_has_its_own_fresh_tenant(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(USER_CONFTEST)
    pytester.makepyfile(test_user=textwrap.dedent(
        """
        seen = []

        def test_a(soapkit_tenant, soapkit_tenant_client):
            seen.append(soapkit_tenant.ctx)
            so = soapkit_tenant_client
            assert so.ContactAgent.GetContactEntity(1).Name == "Nordlys Data AS"
            company = so.ContactAgent.CreateDefaultContactEntity()
            company.Name = "Only in test_a AS"
            assert so.ContactAgent.SaveContactEntity(company).ContactId == 6
            so.ContactAgent.DeleteContactEntity(2)

        def test_b(soapkit_tenant, soapkit_sandbox, soapkit_client):
            seen.append(soapkit_tenant.ctx)
            assert seen[0] != seen[1]
            assert soapkit_sandbox.backend.tenants.get(seen[0]) is None   # removed after its test
            with soapkit_tenant.connect() as so:
                assert so.ContactAgent.GetContactEntity(6) is None
                assert so.ContactAgent.GetContactEntity(2).Name
                company = so.ContactAgent.CreateDefaultContactEntity()
                company.Name = "Only in test_b AS"
                assert so.ContactAgent.SaveContactEntity(company).ContactId == 6
            # the session's default tenant is another one
            assert soapkit_client.ContactAgent.GetContactEntity(1).Name == "Nordlys Data AS"
            assert soapkit_tenant.credentials.context_identifier == soapkit_tenant.ctx

        def test_system_user_exchange_works_too(soapkit_tenant):
            with soapkit_tenant.credentials.connect() as so:
                assert so.ContactAgent.GetContactEntity(1).Name
        """
    ))
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)


def test_snapshot_and_restore_in_a_users_test(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(USER_CONFTEST)
    pytester.makepyfile(test_user=textwrap.dedent(
        """
        def test_restore(soapkit_tenant, soapkit_tenant_client):
            so = soapkit_tenant_client
            saved = soapkit_tenant.snapshot()
            sale = so.SaleAgent.CreateDefaultSaleEntity()
            sale.Heading = "Gone after restore"
            assert so.SaleAgent.SaveSaleEntity(sale).SaleId == 1
            so.PersonAgent.DeletePersonEntity(1)
            company = so.ContactAgent.GetContactEntity(1)
            company.Name = "Renamed"
            so.ContactAgent.SaveContactEntity(company)
            soapkit_tenant.restore(saved)
            assert so.SaleAgent.GetSaleEntity(1) is None
            assert so.PersonAgent.GetPersonEntity(1).Firstname == "Ingrid"
            assert so.ContactAgent.GetContactEntity(1).Name == "Nordlys Data AS"
            again = so.SaleAgent.CreateDefaultSaleEntity()
            again.Heading = "Same id again"
            assert so.SaleAgent.SaveSaleEntity(again).SaleId == 1   # the id sequences came back too
        """
    ))
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_seed_file_for_every_tenant(pytester: pytest.Pytester) -> None:
    pytester.makefile(".json", seed=json.dumps(SEED))
    pytester.makeconftest(USER_CONFTEST + textwrap.dedent(
        """
        from pathlib import Path
        import pytest

        @pytest.fixture(scope="session")
        def soapkit_seed():
            return Path(__file__).parent / "seed.json"
        """
    ))
    pytester.makepyfile(test_user=textwrap.dedent(
        """
        import datetime as dt

        def test_seeded(soapkit_tenant_client):
            so = soapkit_tenant_client
            assert so.ContactAgent.GetContactEntity(1).Name == "Seed One AS"
            assert so.ContactAgent.GetContactEntity(7).Name == "Seed Seven AS"
            assert so.ContactAgent.GetContactEntity(2) is None
            person = so.PersonAgent.GetPersonEntity(1)
            assert (person.Lastname, person.Contact.ContactId) == ("Lovelace", 7)
            assert person.BirthDate.date() == dt.date(1990, 1, 2)
            sale = so.SaleAgent.GetSaleEntity(1)
            assert (sale.Heading, sale.Amount, sale.Contact.Name) == ("Seeded deal", 1200.0, "Seed One AS")

        def test_seeded_again(soapkit_tenant_client):
            so = soapkit_tenant_client
            assert so.ContactAgent.GetContactEntity(1).Name == "Seed One AS"
        """
    ))
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_seed_marker_for_one_test(pytester: pytest.Pytester) -> None:
    pytester.makefile(".json", extra=json.dumps({"contacts": [{"Name": "Marked AS"}]}))
    pytester.makeconftest(USER_CONFTEST)
    pytester.makepyfile(test_user=textwrap.dedent(
        """
        import pytest

        @pytest.mark.soapkit_seed("extra.json", {"entities": {"Project": [{"Name": "Marked project"}]}})
        def test_marked(soapkit_tenant_client):
            so = soapkit_tenant_client
            assert so.ContactAgent.GetContactEntity(1).Name == "Nordlys Data AS"   # sample data kept
            assert so.ContactAgent.GetContactEntity(6).Name == "Marked AS"
            assert so.ProjectAgent.GetProjectEntity(1).Name == "Marked project"

        def test_unmarked(soapkit_tenant_client):
            assert soapkit_tenant_client.ContactAgent.GetContactEntity(6) is None
        """
    ))
    pytester.runpytest("-p", "no:cacheprovider", "--strict-markers").assert_outcomes(passed=2)


def test_settings_override_must_be_session_scoped(pytester: pytest.Pytester) -> None:
    """What the README warns about: a function-scoped override is refused by pytest."""
    pytester.makeconftest(USER_CONFTEST + textwrap.dedent(
        """
        import pytest
        from soapkit.sandbox import SandboxSettings

        @pytest.fixture
        def soapkit_sandbox_settings():
            return SandboxSettings()
        """
    ))
    pytester.makepyfile(test_user="def test_it(soapkit_sandbox):\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*ScopeMismatch*"])


# --- the Sandbox methods, directly --------------------------------------------------------------

@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:  # type: ignore[misc]
    with Sandbox(tmp_path_factory.mktemp("tenants"), port=0) as running:
        yield running


def test_snapshot_covers_every_table_and_restores_into_another_tenant(sandbox: Sandbox) -> None:
    sandbox.add_tenant("Cust70001")
    sandbox.load_seed("Cust70001", {"entities": {"Project": [{"Name": "P1"}], "Sale": [{"Heading": "S1"}]}})
    saved = sandbox.snapshot_tenant("Cust70001")
    assert (saved.count("contact"), saved.count("person"), saved.count("associate"), saved.count("entity")) \
        == (5, 10, 3, 2)
    sandbox.add_tenant("Cust70002")
    sandbox.restore_tenant("Cust70002", saved)
    copied = sandbox.snapshot_tenant("Cust70002")
    assert {t: copied.count(t) for t in copied.tables} == {t: saved.count(t) for t in saved.tables}
    assert all(row["ctx"] == "Cust70002" for rows in copied.tables.values() for row in rows)
    sandbox.remove_tenant("Cust70002")
    assert sandbox.backend.tenants.get("Cust70002") is None
    assert sandbox.snapshot_tenant("Cust70001").count("entity") == 2   # the other tenant keeps its data
    with pytest.raises(KeyError):
        sandbox.snapshot_tenant("Cust70002")


def test_seed_errors_name_the_record(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.add_tenant("Cust70003")
    with pytest.raises(ValueError, match=r"Unknown keys.*companies"):
        sandbox.load_seed("Cust70003", {"companies": []})
    with pytest.raises(ValueError, match=r"contacts\[0\].*no member Nme"):
        sandbox.load_seed("Cust70003", {"contacts": [{"Nme": "typo"}]})
    with pytest.raises(ValueError, match=r"contacts\[0\].*id 2 is taken"):
        sandbox.load_seed("Cust70003", {"contacts": [{"Name": "x", "ContactId": 2}]})
    with pytest.raises(ValueError, match=r"NoSuchThing"):
        sandbox.load_seed("Cust70003", {"entities": {"NoSuchThing": [{}]}})
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(SEED), encoding="utf-8")
    assert sandbox.load_seed("Cust70003", path) == {"contacts": [1, 7], "persons": [1], "Sale": [1]}


def test_a_fresh_tenant_is_cheap(sandbox: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    """Measured, not asserted (shared CI machines): what soapkit_tenant + soapkit_tenant_client do per test."""
    from soapkit.testing import SandboxCredentials, _Tenants

    tenants = _Tenants(sandbox, None)
    base = SandboxCredentials.from_config(sandbox.config)
    timings = []
    for _ in range(21):
        started = time.perf_counter()
        tenant = tenants.new(base)
        with tenant.connect() as so:
            assert so.ContactAgent.GetContactEntity(1).Name == "Nordlys Data AS"
        sandbox.remove_tenant(tenant.ctx)
        timings.append(time.perf_counter() - started)
    timings = sorted(timings[1:])   # the first one also loads the Contact agent's WSDL
    with capsys.disabled():
        print(f"\nsoapkit_tenant + client + one call + teardown: median {timings[len(timings) // 2] * 1000:.1f} ms, "
              f"max {timings[-1] * 1000:.1f} ms")
