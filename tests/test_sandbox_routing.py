"""Routing and tenant life: numbered endpoints, HTTP 421 on the wrong host, tenant moves and states."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

import soapkit
from soapkit.errors import TenantNotRunning
from soapkit.sandbox import Sandbox
from soapkit.sandbox.admin import TOKEN_HEADER
from soapkit.sandbox.cli import main as sandbox_main

pytestmark = pytest.mark.usefixtures("driver")  # every test runs on both drivers (tests/both_drivers.py)

NS = "http://www.superoffice.net/ws/crm/NetServer/Services88"


@pytest.fixture()
def sb(tmp_path: Any) -> Iterator[Sandbox]:
    with Sandbox(data_dir=tmp_path, port=0) as sandbox:
        yield sandbox


def connect(sb: Sandbox) -> Any:
    cfg = sb.config
    return soapkit.connect(cfg["context_identifier"], env=cfg["base_url"], app_token=cfg["client_secret"],
                           credentials=soapkit.SystemUser(cfg["system_user_token"], cfg["private_key_pem"]))


def port(sb: Sandbox) -> str:
    return sb.base_url.rsplit(":", 1)[-1]


def contact_call(sb: Sandbox, base: str, ticket: str, host: str | None = None) -> requests.Response:
    envelope = (f'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:n="{NS}"><s:Header>'
                f'<n:ApplicationToken>{sb.config["client_secret"]}</n:ApplicationToken><n:Credentials>'
                f'<n:Ticket>{ticket}</n:Ticket></n:Credentials></s:Header><s:Body><n:GetContactEntity>'
                '<n:ContactEntityId>1</n:ContactEntityId></n:GetContactEntity></s:Body></s:Envelope>')
    return requests.post(f"{base}/Cust12345/Remote/Services88/Contact.svc", data=envelope, timeout=10,
                         headers={"Content-Type": "text/xml; charset=utf-8",
                                  "SOAPAction": f'"{NS}/Contact/GetContactEntity"', **({"Host": host} if host else {})})


def test_state_answers_the_current_endpoint_and_other_hosts_get_421(sb: Sandbox) -> None:
    ticket = sb.issue_ticket()
    state = requests.get(sb.config["state_url"], timeout=10).json()
    assert state["Endpoint"] == f"{sb.base_url}/Cust12345"
    assert contact_call(sb, sb.base_url, ticket).status_code == 200
    # At home, every loopback name of the sandbox's port reaches the tenant (the alias rule) ...
    assert contact_call(sb, f"http://localhost:{port(sb)}", ticket).status_code == 200
    assert contact_call(sb, sb.base_url, ticket, host=f"[::1]:{port(sb)}").status_code == 200
    # ... another name (a numbered host), or another port, is the wrong host.
    assert contact_call(sb, sb.base_url, ticket, host=f"127.0.0.1:{int(port(sb)) + 1}").status_code == 421
    wrong = contact_call(sb, sb.base_url, ticket, host=f"127.0.0.2:{port(sb)}")
    assert wrong.status_code == 421
    assert wrong.text.strip() == "Wrong subdomain used to access tenant"
    assert wrong.headers["Content-Type"].startswith("text/plain")

    moved = sb.move_tenant("Cust12345", f"localhost:{port(sb)}")
    assert moved == f"http://localhost:{port(sb)}/Cust12345"
    state = requests.get(sb.config["state_url"], timeout=10).json()
    assert state["Endpoint"] == moved and state["Api"] == moved + "/api"
    assert contact_call(sb, sb.base_url, ticket).status_code == 421
    assert contact_call(sb, f"http://localhost:{port(sb)}", ticket).status_code == 200
    assert requests.get(f"{sb.base_url}/Cust12345/Remote/Services88/Contact.svc?wsdl", timeout=10).status_code == 421

    assert sb.move_tenant("Cust12345", None) == f"{sb.base_url}/Cust12345"
    assert contact_call(sb, sb.base_url, ticket).status_code == 200


def test_client_follows_a_move_with_one_new_lookup(sb: Sandbox) -> None:
    so = connect(sb)
    assert so.Contact.GetContactEntity(1).ContactId == 1
    assert so.tenants.lookups == 1
    sb.move_tenant("Cust12345", f"localhost:{port(sb)}")
    assert so.Contact.GetContactEntity(2).ContactId == 2  # 421, new lookup, retried once on the new host
    assert so.tenants.lookups == 2


def test_agents_by_tenant_state(sb: Sandbox) -> None:
    ticket = sb.issue_ticket()
    so = connect(sb)
    sb.set_tenant_state("Cust12345", "OnlineMaintenance")
    state = requests.get(sb.config["state_url"], timeout=10).json()
    assert state["State"] == "OnlineMaintenance" and state["IsRunning"] is True
    assert so.Contact.GetContactEntity(1).ContactId == 1
    for name in ("Suspended", "OfflineMaintenance", "Deleted", "Provisioning", "MigrationPending"):
        sb.set_tenant_state("Cust12345", name)
        answer = contact_call(sb, sb.base_url, ticket)
        assert answer.status_code == 503 and name in answer.text
        assert requests.get(sb.config["state_url"], timeout=10).json()["IsRunning"] is False
    fresh = connect(sb)
    with pytest.raises(TenantNotRunning):
        fresh.Contact.GetContactEntity(1)
    sb.set_tenant_state("Cust12345", "Running")


def test_admin_endpoint_and_cli(sb: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = json.loads(sb.config_path.read_text())
    url = cfg["admin_url"]
    assert requests.get(f"{url}/tenants", timeout=10).status_code == 401
    assert requests.get(f"{url}/tenants", headers={TOKEN_HEADER: "nope"}, timeout=10).status_code == 401
    listed = requests.get(f"{url}/tenants", headers={TOKEN_HEADER: cfg["admin_token"]}, timeout=10).json()
    assert listed == [{"ctx": "Cust12345", "state": "Running", "endpoint": f"{sb.base_url}/Cust12345"}]

    data = ["--data-dir", str(sb.config_path.parent)]
    assert sandbox_main(["admin", *data, "move", "Cust12345", "localhost"]) == 0
    assert json.loads(capsys.readouterr().out)["endpoint"] == f"http://localhost:{port(sb)}/Cust12345"
    assert sandbox_main(["admin", *data, "state", "Cust12345", "Suspended"]) == 0
    capsys.readouterr()
    state = requests.get(sb.config["state_url"], timeout=10).json()
    assert (state["State"], state["Endpoint"]) == ("Suspended", f"http://localhost:{port(sb)}/Cust12345")
    assert sandbox_main(["admin", *data, "move", "Cust99999", "localhost"]) == 1
    assert sandbox_main(["admin", *data, "move", "Cust12345", "home"]) == 0
    assert sandbox_main(["admin", *data, "state", "Cust12345", "Running"]) == 0
    capsys.readouterr()
    assert requests.get(sb.config["state_url"], timeout=10).json()["Endpoint"] == f"{sb.base_url}/Cust12345"
