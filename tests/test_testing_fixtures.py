"""soapkit.testing as a user meets it: a conftest.py with ``pytest_plugins = ["soapkit.testing"]`` and tests.

Each test runs a small user project with ``pytester`` (in process) and reads the outcome, so the fixtures
are checked the way users load them, and a failing user test is shown to fail (the fixtures mask nothing).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

# Imported here, in the outer session, on purpose: pytester's in-process runs drop the modules first
# imported during a run, and a second import of cryptography's modules confuses its compiled core.
# (Not soapkit.testing itself: test_fidelity_suds.py loads it as a plugin, which wants a first import.)
import soapkit.sandbox  # noqa: F401

pytest_plugins = ["pytester"]

USER_CONFTEST = 'pytest_plugins = ["soapkit.testing"]\n'

USER_TESTS = textwrap.dedent(
    """
    import soapkit
    from soapkit.sandbox import Sandbox
    from soapkit.testing import SandboxCredentials


    def test_reads_a_company(soapkit_client):
        company = soapkit_client.ContactAgent.GetContactEntity(1)
        assert company.ContactId == 1
        assert company.Name


    def test_creates_and_reads_back(soapkit_client):
        company = soapkit_client.ContactAgent.CreateDefaultContactEntity()
        company.Name = "Fixture Test AS"
        saved = soapkit_client.ContactAgent.SaveContactEntity(company)
        assert saved.ContactId > 1
        assert soapkit_client.ContactAgent.GetContactEntity(saved.ContactId).Name == "Fixture Test AS"


    def test_credentials_and_sandbox(soapkit_sandbox, soapkit_credentials):
        assert isinstance(soapkit_sandbox, Sandbox)
        assert isinstance(soapkit_credentials, SandboxCredentials)
        assert soapkit_credentials.base_url == soapkit_sandbox.base_url
        assert soapkit_credentials.base_url.startswith("http://127.0.0.1:")
        assert soapkit_credentials.context_identifier == soapkit_sandbox.config["context_identifier"]
        assert soapkit_credentials.private_key_path.is_file()
        text = repr(soapkit_credentials)
        assert soapkit_credentials.client_secret not in text
        assert soapkit_credentials.system_user_token not in text


    def test_own_client_from_credentials(soapkit_credentials):
        so = soapkit.connect(soapkit_credentials.context_identifier, env=soapkit_credentials.base_url,
                             app_token=soapkit_credentials.client_secret,
                             credentials=soapkit_credentials.system_user(method="rest"))
        with so:
            assert so.ContactAgent.GetContactEntity(2).Name


    def test_ticket_from_the_sandbox(soapkit_sandbox, soapkit_credentials):
        so = soapkit.connect(soapkit_credentials.context_identifier, env=soapkit_credentials.base_url,
                             app_token=soapkit_credentials.client_secret, ticket=soapkit_sandbox.issue_ticket())
        with so:
            assert so.ContactAgent.GetContactEntity(1).Name
    """
)


def test_user_tests_pass_with_the_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(USER_CONFTEST)
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)


def test_one_sandbox_per_session_and_one_exchange(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(USER_CONFTEST)
    pytester.makepyfile(test_user=textwrap.dedent(
        """
        seen = []

        def test_a(soapkit_sandbox, soapkit_client):
            seen.append((id(soapkit_sandbox), soapkit_client.ticket()))
            assert soapkit_client.ContactAgent.GetContactEntity(1).Name

        def test_b(soapkit_sandbox, soapkit_client):
            seen.append((id(soapkit_sandbox), soapkit_client.ticket()))
            assert seen[0] == seen[1]
        """
    ))
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_a_failing_user_test_fails(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(USER_CONFTEST)
    pytester.makepyfile(test_user=textwrap.dedent(
        """
        def test_wrong_name(soapkit_client):
            assert soapkit_client.ContactAgent.GetContactEntity(1).Name == "No Such Company"

        def test_raises(soapkit_client):
            soapkit_client.ContactAgent.NoSuchOperation()

        def test_passes(soapkit_client):
            assert soapkit_client.ContactAgent.GetContactEntity(1).Name
        """
    ))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(["*test_wrong_name*", "*No Such Company*"])


class _Remember:
    """A plugin handed to the inner run: the user test stores the sandbox it got here."""

    def __init__(self) -> None:
        self.sandboxes: list[object] = []


def test_the_sandbox_is_stopped_after_the_session(pytester: pytest.Pytester) -> None:
    remember = _Remember()
    pytester.makeconftest(USER_CONFTEST)
    pytester.makepyfile(test_user=textwrap.dedent(
        """
        import requests

        def test_remember(request, soapkit_sandbox):
            [remember] = [p for p in request.config.pluginmanager.get_plugins() if hasattr(p, "sandboxes")]
            remember.sandboxes.append(soapkit_sandbox)
            assert requests.get(soapkit_sandbox.base_url + "/", timeout=5).status_code == 200
        """
    ))
    pytester.runpytest("-p", "no:cacheprovider", plugins=[remember]).assert_outcomes(passed=1)
    assert len(remember.sandboxes) == 1
    assert not remember.sandboxes[0].running  # type: ignore[attr-defined]


def test_settings_can_be_overridden(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(USER_CONFTEST + textwrap.dedent(
        """
        import datetime as dt
        import pytest
        from soapkit.sandbox import SandboxSettings

        @pytest.fixture(scope="session")
        def soapkit_sandbox_settings():
            return SandboxSettings(ticket_lifetime=dt.timedelta(minutes=7))
        """
    ))
    pytester.makepyfile(test_user=textwrap.dedent(
        """
        def test_lifetime(soapkit_sandbox):
            assert soapkit_sandbox.config["ticket_lifetime_seconds"] == 420
        """
    ))
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_fixtures_are_not_registered_without_pytest_plugins(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user="def test_it(soapkit_client):\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'soapkit_client' not found*"])


def test_importing_soapkit_does_not_import_pytest() -> None:
    code = "import sys, soapkit; print('pytest' in sys.modules, 'soapkit.testing' in sys.modules)"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.split() == ["False", "False"]
