"""The generated type stubs: current with their generator, and useful to mypy on a user's script.

``soapkit/_typed_agents.pyi`` is written by tools/build_stubs.py from the shipped WSDLs; mypy runs here the way a
user runs it (from an empty folder, no project configuration, against the installed soapkit).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parent.parent
GENERATOR = REPO / "tools" / "build_stubs.py"
STUBS = REPO / "soapkit" / "_typed_agents.pyi"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_stubs", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("build_stubs", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generated() -> str:
    if not GENERATOR.is_file():
        pytest.skip("not running from a source checkout")
    return str(_generator().build())


def test_committed_stubs_are_what_the_generator_writes(generated: str) -> None:
    assert STUBS.read_text(encoding="utf-8") == generated, (
        "soapkit/_typed_agents.pyi is out of date: run python tools/build_stubs.py")


def test_stubs_cover_every_shipped_agent_and_operation(generated: str) -> None:
    from soapkit.catalog import PARTNER_SERVICE, Catalog
    from soapkit.values.codec import agent_label

    catalog = Catalog()
    for service in catalog.services():
        label = agent_label(service)
        assert f"\nclass {label}Proxy:\n" in generated
        if service != PARTNER_SERVICE:
            assert f"\n    {label}: {label}Proxy\n" in generated
    operations = sum(len(catalog.describe(service).operation_names) for service in catalog.services())
    assert generated.count("\n    def ") - generated.count("\n    def __") == operations
    # the async family: every operation once more, as an awaitable, on the same agents
    assert generated.count("\n    async def ") == operations
    for service in catalog.services():
        label = agent_label(service)
        assert f"\nclass {label}AsyncProxy:\n" in generated
        if service != PARTNER_SERVICE:
            assert f"\n    {label}: {label}AsyncProxy\n" in generated
    # sync and async signatures are the same lines (one generator path): only the prefix differs
    sync = [line[len("    def "):] for line in generated.splitlines() if line.startswith("    def ")
            and not line.startswith("    def __")]
    awaitable = [line[len("    async def "):] for line in generated.splitlines() if line.startswith("    async def ")]
    assert sync == awaitable
    assert len(generated) < 1_500_000, "keep the stubs small enough for type checkers and editors"


def test_stubs_type_the_value_layer_shapes(generated: str) -> None:
    assert "def GetContactEntity(self, ContactEntityId: int | None = None) -> ContactEntity | None: ..." in generated
    assert "class ContactEntity(Carrier):" in generated
    assert "class ContactEntityDict(CarrierDict, total=False):" in generated
    assert "    Emails: list[EntityElement]\n" in generated  # a list wrapper is a list, never None
    assert "def DeleteContactEntity(self, ContactEntityId: int | None = None) -> None: ..." in generated
    # an answer without a Response element is the wrapper itself (agents.unwrap returns the whole body)
    assert "def BeginReadFilePart(self, DocumentId: int | None = None) -> BeginReadFilePartResponse: ..." in generated
    assert "    Emails: list[EntityElementDict | EntityElement] | tuple[EntityElementDict | EntityElement, ...]" \
        in generated


def _schema_required_members() -> set[tuple[str, str]]:
    """(complex type, member) the schema text requires: minOccurs not 0, not nillable, not repeated. Read with
    lxml from the shipped schema files, independently of zeep and of the generator."""
    from lxml import etree

    xs = "{http://www.w3.org/2001/XMLSchema}"
    found: set[tuple[str, str]] = set()
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    folder = REPO / "wsdl" / "Services88"
    for path in sorted([*folder.glob("*.xsd")]):
        for complex_type in etree.parse(str(path), parser).iter(f"{xs}complexType"):
            parent = complex_type.getparent()  # an anonymous type is named by its element (StringDictionary's items)
            name = complex_type.get("name") or (parent.get("name") if parent is not None else None)
            if not name:
                continue
            for element in complex_type.iter(f"{xs}element"):
                if element.getparent() is None or next(element.iterancestors(f"{xs}complexType")) is not complex_type:
                    continue
                if (element.get("minOccurs", "1") != "0" and element.get("nillable") != "true"
                        and element.get("maxOccurs", "1") == "1"):
                    found.add((name, element.get("name") or ""))
    return found


def test_typed_dicts_mark_exactly_the_members_the_schema_requires(generated: str) -> None:
    marked: set[tuple[str, str]] = set()
    dicts: set[str] = set()
    current = None
    for line in generated.splitlines():
        if line.startswith("class ") and "Dict(" in line:
            current = line.split()[1].split("Dict(")[0]
            dicts.add(current)
        elif line.startswith("class "):
            current = None
        elif current and line.startswith("    ") and ": Required[" in line:
            marked.add((current, line.strip().split(":")[0]))
    required = {(owner, member) for owner, member in _schema_required_members() if owner in dicts}
    assert marked == required
    assert marked, "the shipped contract has required members (TimeZoneRuleKeyValuePair.Key, ...)"
    assert "class TimeZoneRuleKeyValuePairDict(TypedDict, total=False):\n    Key: Required[datetime.date]\n" \
        in generated


def test_enumerations_are_literals_in_arguments_too(generated: str) -> None:
    assert ("def Accept(self, AppointmentId: int | None = None, UpdateMode: RecurrenceUpdateModeName | enum.Enum "
            "| None = None) -> None: ...") in generated
    assert "RecurrenceUpdateModeName = Literal['Unknown', 'OnlyThis', 'ThisAndForward', 'StopRecurrence']" in generated
    # a [Flags] enum takes one name or several
    assert ("    Flags: EMailFlagsName | list[EMailFlagsName | enum.Enum] | tuple[EMailFlagsName | enum.Enum, ...]"
            in generated)
    assert "str | enum.Enum" not in generated, "an enumeration argument typed as any string"


def _mypy(tmp_path: Path, script: str) -> subprocess.CompletedProcess[str]:
    source = tmp_path / "user_script.py"
    source.write_text(textwrap.dedent(script), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--config-file", str(tmp_path / "none.ini"),
         "--python-executable", sys.executable, "--show-error-codes", "--no-error-summary", source.name],
        cwd=tmp_path, capture_output=True, text=True, timeout=240,
    )


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    if shutil.which("mypy") is None and importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is not installed (pip install soapkit[test])")
    (tmp_path / "none.ini").write_text("[mypy]\n", encoding="utf-8")
    return tmp_path


GOOD = """\
    import datetime

    import soapkit

    so = soapkit.connect("Cust12345", ticket="7T:not-a-real-ticket")
    contact = so.ContactAgent.GetContactEntity(5)
    if contact is not None:
        name: str | None = contact.Name
        number: int = contact.ContactId
        created: datetime.datetime = contact.CreatedDate
        emails = [email.Value for email in contact.Emails]
        contact.Name = "Acme"
        saved = so.ContactAgent.SaveContactEntity(contact)
        assert saved is None or saved.ContactId == number
    so.ContactAgent.SaveContactEntity({"Name": "Acme", "Emails": [{"Value": "info@example.com"}]})
    so.PersonAgent.GetPersonList([1, 2, 3])
    so.AppointmentAgent.Accept(1, "OnlyThis")
    so.AppointmentAgent.SaveAppointmentEntity(
        {"PreferredTZLocationData": {"TimeZoneSTDRules": [{"Key": datetime.datetime(2026, 3, 29), "Value": None}]}})
    so.Contact.anything_goes()  # service names stay untyped (AgentProxy)
    rows = so.archive("FindContact", ["contactId", "name"])
    categories: list[int] = [item.Id for item in so.mdo_list("category")]
    field = so.udf_info("SuperOffice:1")
    label: str | None = field.FieldLabel if field is not None else None
"""


def test_a_correct_user_script_passes_mypy(user_dir: Path) -> None:
    result = _mypy(user_dir, GOOD)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_samples_pass_mypy_with_the_stubs(user_dir: Path) -> None:
    """samples/ are what users copy: they type-check against the stubs (None results narrowed, fields exist)."""
    samples = REPO / "samples"
    if not samples.is_dir():
        pytest.skip("not running from a source checkout")
    for sample in samples.glob("*.py"):
        shutil.copy(sample, user_dir / sample.name)
    names = sorted(p.name for p in user_dir.glob("[0-9]*.py"))
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--config-file", str(user_dir / "none.ini"),
         "--python-executable", sys.executable, "--no-error-summary", *names],
        cwd=user_dir, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_stub_module_itself_is_valid_for_mypy(user_dir: Path) -> None:
    result = _mypy(user_dir, "from soapkit._typed_agents import TypedAgents\nreveal_type(TypedAgents().ContactAgent)\n")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ContactAgentProxy" in result.stdout


MISTAKES = {
    "misspelt-field": ("print(contact.Nmae)", '"ContactEntity" has no attribute "Nmae"'),
    "wrong-argument-type": ('so.ContactAgent.GetContactEntity("abc")',
                            'incompatible type "str"; expected "int | None"'),
    "wrong-result-use": ("number: str = contact.ContactId", 'expression has type "int", variable has type "str"'),
    "misspelt-dict-key": ('so.ContactAgent.SaveContactEntity({"Nmae": "Acme"})', "SaveContactEntity"),
    "misspelt-operation": ("so.ContactAgent.GetContactEntty(5)", 'has no attribute "GetContactEntty"'),
    "misused-helper-result": ('so.mdo_list("category")[0].Nmae', '"MDOListItem" has no attribute "Nmae"'),
    "misspelt-enum-name": ('so.AppointmentAgent.Accept(1, "OnlyThsi")', "\"Literal['OnlyThsi']\""),
    "missing-required-member": (
        'so.AppointmentAgent.SaveAppointmentEntity('
        '{"PreferredTZLocationData": {"TimeZoneSTDRules": [{"Value": None}]}})',
        'Argument 1 to "SaveAppointmentEntity"'),  # GOOD makes the same call with the Key, and passes
}


def test_mypy_reports_each_mistake_in_a_user_script(user_dir: Path) -> None:
    """One mypy run (a few seconds) for all mistakes: each line of the script is reported, and only those."""
    header = [
        "import soapkit",
        'so = soapkit.connect("Cust12345", ticket="7T:not-a-real-ticket")',
        "contact = so.ContactAgent.GetContactEntity(5)",
        "assert contact is not None",
    ]
    lines = {len(header) + number: case for number, case in enumerate(MISTAKES, start=1)}
    script = "\n".join([*header, *(MISTAKES[case][0] for case in MISTAKES)]) + "\n"
    result = _mypy(user_dir, script)
    assert result.returncode == 1, result.stdout + result.stderr
    errors = {int(row.split(":")[1]): row for row in result.stdout.splitlines() if ": error:" in row}
    assert sorted(errors) == sorted(lines), result.stdout
    for number, case in lines.items():
        assert MISTAKES[case][1] in errors[number], (case, errors[number])


# --- pyright (pip install pyright[nodejs]: Node.js comes from PyPI too) --------------------------------------


def _pyright(tmp_path: Path, script: str) -> dict[int, str]:
    """pyright's errors on a user script, by line (1-based)."""
    executable = shutil.which("pyright", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    if executable is None:
        pytest.skip("pyright is not installed (pip install soapkit[test])")
    source = tmp_path / "user_script.py"
    source.write_text(script, encoding="utf-8")
    (tmp_path / "pyrightconfig.json").write_text("{}", encoding="utf-8")
    result = subprocess.run([executable, "--outputjson", "--pythonpath", sys.executable, source.name],
                            cwd=tmp_path, capture_output=True, text=True, timeout=240)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.skip(f"pyright did not run here: {(result.stderr or result.stdout)[:200]}")
    return {d["range"]["start"]["line"] + 1: d["message"] for d in report["generalDiagnostics"]
            if d["severity"] == "error"}


def test_a_correct_user_script_passes_pyright(tmp_path: Path) -> None:
    assert _pyright(tmp_path, textwrap.dedent(GOOD)) == {}


def test_pyright_reports_each_mistake_in_a_user_script(tmp_path: Path) -> None:
    header = [
        "import soapkit",
        'so = soapkit.connect("Cust12345", ticket="7T:not-a-real-ticket")',
        "contact = so.ContactAgent.GetContactEntity(5)",
        "assert contact is not None",
    ]
    lines = {len(header) + number: case for number, case in enumerate(MISTAKES, start=1)}
    errors = _pyright(tmp_path, "\n".join([*header, *(MISTAKES[case][0] for case in MISTAKES)]) + "\n")
    assert sorted(errors) == sorted(lines), errors
    for word, number in (("Nmae", 5), ("int", 6), ("str", 7), ("GetContactEntty", 9), ("Nmae", 10),
                         ("OnlyThsi", 11), ("SaveAppointmentEntity", 12)):
        assert word in errors[number], errors[number]


# --- the async client's agents (AsyncTypedAgents) -----------------------------------------------------------

# Until the async client derives from AsyncTypedAgents, a local protocol stands for ``soapkit.connect_async``.
ASYNC_HEADER = """\
from __future__ import annotations

import asyncio

import soapkit


async def main() -> None:
    async with soapkit.connect_async("Cust12345", env="sod", ticket="7T:x") as so:
"""

ASYNC_GOOD = """\
        contact = await so.ContactAgent.GetContactEntity(5)
        if contact is not None:
            name: str | None = contact.Name
            number: int = contact.ContactId
            saved = await so.ContactAgent.SaveContactEntity(contact)
            assert saved is None or saved.ContactId == number
        persons = await so.PersonAgent.GetPersonList([1, 2, 3])
        names = [person.Firstname for person in persons]
        await so.AppointmentAgent.Accept(1, "OnlyThis")
        await asyncio.gather(so.ContactAgent.GetContactEntity(1), so.PersonAgent.GetPersonEntity(2))


asyncio.run(main())
"""

ASYNC_MISTAKES = {
    "not-awaited-result-used": ("        print(so.ContactAgent.GetContactEntity(5).Name)", "has no attribute \"Name\""),
    "misspelt-field": ("        print((await so.PersonAgent.GetPersonList([1]))[0].Fristname)", "Fristname"),
    "wrong-argument-type": ('        await so.ContactAgent.GetContactEntity("abc")', "expected \"int | None\""),
    "misspelt-enum-name": ('        await so.AppointmentAgent.Accept(1, "OnlyThsi")', "OnlyThsi"),
}


def test_an_async_user_script_type_checks_against_the_async_agents(user_dir: Path) -> None:
    result = _mypy(user_dir, ASYNC_HEADER + ASYNC_GOOD)
    assert result.returncode == 0, result.stdout + result.stderr
    reveal = "        reveal_type(so.ContactAgent.GetContactEntity(5))\n"
    result = _mypy(user_dir, ASYNC_HEADER + reveal)
    assert "Coroutine[Any, Any, soapkit._typed_agents.ContactEntity | None]" in result.stdout, result.stdout


def test_mypy_and_pyright_report_each_mistake_in_an_async_script(user_dir: Path) -> None:
    first = ASYNC_HEADER.count("\n") + 1
    lines = {first + number: case for number, case in enumerate(ASYNC_MISTAKES)}
    script = ASYNC_HEADER + "".join(f"{ASYNC_MISTAKES[case][0]}\n" for case in ASYNC_MISTAKES)
    result = _mypy(user_dir, script)
    errors = {int(row.split(":")[1]): row for row in result.stdout.splitlines() if ": error:" in row}
    assert sorted(errors) == sorted(lines), result.stdout
    for number, case in lines.items():
        assert ASYNC_MISTAKES[case][1] in errors[number], (case, errors[number])
    found = _pyright(user_dir, script)
    assert sorted(found) == sorted(lines), found
    for word, number in zip(("Name", "Fristname", "'abc'", "OnlyThsi"), sorted(lines), strict=True):
        assert word in found[number], found[number]


def test_a_correct_async_script_passes_pyright(tmp_path: Path) -> None:
    assert _pyright(tmp_path, ASYNC_HEADER + ASYNC_GOOD) == {}
