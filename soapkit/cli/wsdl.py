"""``soapkit wsdl list|show|import``: the WSDL catalog, and adding a tenant's WSDL to it."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from soapkit.cli._output import stdout_output
from soapkit.cli._settings import effective_settings
from soapkit.config import Settings, catalog_from_settings, user_wsdl_dir
from soapkit.config.keys import DEFAULTS
from soapkit.errors import ConfigurationError, WsdlError

if TYPE_CHECKING:
    from soapkit.catalog import Catalog

#: soapkit.catalog.DEFAULT_VERSION, from the settings table so that building the parser does not load the catalog
DEFAULT_VERSION = str(DEFAULTS["services_version"])

IMPORT_EXAMPLES = """\
examples:
  soapkit wsdl import ~/Downloads/Contact.wsdl
  soapkit wsdl import 'https://sod2.superoffice.com/Cust12345/Remote/Services88/Contact.svc?wsdl'
  soapkit wsdl import Quote.wsdl --name Quote --dest ./wsdl

Imported WSDLs go to the user folder (soapkit wsdl list shows it) and are found before the bundled ones.
"""


DIFF_EXAMPLES = """\
examples:
  soapkit wsdl diff 'https://sod2.superoffice.com/Cust12345/Remote/Services88/Contact.svc?wsdl'
  soapkit wsdl diff ~/saved-wsdls/ --json
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("wsdl", help="list, show and import WSDLs",
                                   description="The WSDL catalog: where soapkit finds service descriptions.")
    commands = parser.add_subparsers(dest="wsdl_command", metavar="SUBCOMMAND", required=True)
    listing = commands.add_parser("list", help="the catalog's folders and the services in each")
    listing.add_argument("--services-version", metavar="VERSION", help="default: Services88")
    listing.set_defaults(handler=run_list)
    show = commands.add_parser("show", help="where a service's WSDL is and what it holds")
    show.add_argument("service", metavar="SERVICE", help="e.g. ContactAgent")
    show.add_argument("--raw", action="store_true", help="print the WSDL file itself")
    show.add_argument("--services-version", metavar="VERSION", help="default: Services88")
    show.set_defaults(handler=run_show)
    imported = commands.add_parser("import", help="copy a WSDL file or ?wsdl URL into a WSDL folder",
                                   description="Copy a WSDL (a file, or a service's ?wsdl URL with the schemas "
                                   "it imports) into a WSDL folder, after checking that it parses.",
                                   epilog=IMPORT_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    imported.add_argument("source", metavar="FILE|URL")
    imported.add_argument("--name", help="the service name (default: from the WSDL, e.g. WcfContactService -> Contact)")
    imported.add_argument("--dest", metavar="DIR", help=f"the WSDL folder (default: {user_wsdl_dir()})")
    imported.add_argument("--services-version", metavar="VERSION", default=DEFAULT_VERSION,
                          help="the services version folder (default: Services88)")
    imported.add_argument("--force", action="store_true", help="replace an existing WSDL of that name")
    imported.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS")
    imported.set_defaults(handler=run_import)
    diff = commands.add_parser("diff", help="compare the shipped contract with a tenant's WSDL, a file or a folder",
                               description="Compare the contract soapkit ships with SOURCE: a service's ?wsdl URL, "
                               "a WSDL file, or a folder of WSDLs. Prints operations added and removed and, for "
                               "the others, every field added, removed or changed. Exit 0 when equal, 1 when not.",
                               epilog=DIFF_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    diff.add_argument("source", metavar="URL|FILE|FOLDER")
    diff.add_argument("--name", help="the service name for a single WSDL (default: from the WSDL)")
    diff.add_argument("--services-version", metavar="VERSION", default=DEFAULT_VERSION,
                      help="the shipped services version to compare with (default: Services88)")
    diff.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS")
    diff.set_defaults(handler=run_diff)


def _version(settings: Settings) -> str:
    return str(settings.get("services_version"))


# --- list and show -----------------------------------------------------------------------------


def folder_listing(catalog: Catalog, version: str) -> list[dict[str, Any]]:
    listing = []
    for folder in catalog.folders:
        versioned = sorted(p.stem for p in (folder / version).glob("*.wsdl")) if (folder / version).is_dir() else []
        flat = sorted(p.stem for p in folder.glob("*.wsdl"))
        listing.append({"folder": str(folder), "version": version, "services": versioned, "flat": flat})
    return listing


def run_list(args: argparse.Namespace) -> int:
    settings = effective_settings(args)
    catalog = catalog_from_settings(settings)
    version = _version(settings)
    listing = folder_listing(catalog, version)
    out = stdout_output(args)
    if out.json_mode:
        out.json({"search_order": listing, "user_folder": str(user_wsdl_dir())})
        return 0
    out.line(f"WSDL folders, searched in this order ({version}):", "bold")
    for entry in listing:
        out.line(f"  {entry['folder']}", "cyan")
        names = [f"{version}/{n}" for n in entry["services"]] + entry["flat"]
        out.line("    " + (", ".join(names) if names else "(no WSDLs)"))
    if not user_wsdl_dir().is_dir():
        out.line(f"\n`soapkit wsdl import` adds WSDLs to {user_wsdl_dir()}", "dim")
    return 0


def run_show(args: argparse.Namespace) -> int:
    from soapkit.cli._params import agent_name

    settings = effective_settings(args)
    catalog = catalog_from_settings(settings)
    described = catalog.describe(args.service, _version(settings))
    out = stdout_output(args)
    if args.raw:
        sys.stdout.write(described.path.read_text(encoding="utf-8"))
        return 0
    info = {
        "service": agent_name(described.name),
        "wsdl": str(described.path),
        "version": described.version,
        "target_namespace": _target_namespace(described.path),
        "binding": described.binding_name,
        "operations": described.operation_names,
    }
    if out.json_mode:
        out.json(info)
        return 0
    out.fields([(k, v) for k, v in info.items() if k != "operations"])
    out.line(f"operations ({len(described.operation_names)}):", "bold")
    for name in described.operation_names:
        out.line(f"  {name}")
    return 0


# --- import ------------------------------------------------------------------------------------


def run_import(args: argparse.Namespace) -> int:
    from soapkit.cli._params import agent_name
    from soapkit.cli._wsdl_import import fetch_documents

    destination = Path(args.dest).expanduser() if args.dest else user_wsdl_dir()
    with tempfile.TemporaryDirectory(prefix="soapkit-wsdl-") as temporary:
        staging = Path(temporary) / args.services_version
        staging.mkdir()
        name, files = fetch_documents(args.source, staging, name=args.name, timeout=args.timeout)
        described = _check_parses(Path(temporary), name, args.services_version)
        target = destination / args.services_version
        if (target / f"{name}.wsdl").exists() and not args.force:
            raise ConfigurationError(f"{target / (name + '.wsdl')} exists.", hint="Add --force to replace it.")
        target.mkdir(parents=True, exist_ok=True)
        for file in files:
            shutil.copyfile(staging / file, target / file)
    out = stdout_output(args)
    result = {"service": agent_name(name), "wsdl": str(target / f"{name}.wsdl"), "files": files,
              "operations": len(described.operation_names)}
    if out.json_mode:
        out.json(result)
    else:
        out.line(f"imported {agent_name(name)} ({result['operations']} operations) into {target}", "green")
        if destination != user_wsdl_dir():
            out.line(f"use it with --wsdl-dir {destination}", "dim")
    return 0


def _target_namespace(path: Path) -> str | None:
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        return etree.parse(str(path), parser).getroot().get("targetNamespace")
    except etree.XMLSyntaxError:
        return None


def _check_parses(folder: Path, name: str, version: str) -> Any:
    from soapkit.catalog import Catalog

    try:
        described = Catalog([folder], include_bundled=False, index_cache=False).describe(name, version)
        described.compile_all()
    except WsdlError as error:
        raise WsdlError(f"The WSDL does not parse, so it was not imported: {error.message}",
                        hint="Check that it is a SOAP 1.1 WSDL with all the schemas it imports.") from None
    return described


# --- diff --------------------------------------------------------------------------------------


def _source_wsdls(source: str) -> list[str]:
    from soapkit.cli._wsdl_import import is_url

    folder = Path(source).expanduser()
    if is_url(source) or not folder.is_dir():
        return [source]
    found = sorted(folder.glob("*.wsdl")) + sorted(folder.glob(f"{DEFAULT_VERSION}/*.wsdl"))
    if not found:
        raise ConfigurationError(f"{folder} holds no .wsdl files.", hint="Point at a WSDL file, a folder of "
                                 "WSDLs or a service's ?wsdl URL.")
    return [str(path) for path in found]


def run_diff(args: argparse.Namespace) -> int:
    from soapkit.catalog import Catalog
    from soapkit.cli._wsdl_import import fetch_documents
    from soapkit.contract_diff import diff_service

    shipped = Catalog(include_bundled=True, index_cache=False)
    results: list[dict[str, Any]] = []
    unshipped: list[str] = []
    equal = True
    with tempfile.TemporaryDirectory(prefix="soapkit-diff-") as temporary:
        for number, wsdl in enumerate(_source_wsdls(args.source)):
            staging = Path(temporary) / str(number)
            staging.mkdir()
            name, _ = fetch_documents(wsdl, staging, name=args.name, timeout=args.timeout)
            if name not in shipped.services(args.services_version):
                unshipped.append(name)
                equal = False
                continue
            difference = diff_service(name, shipped.path(name, args.services_version), staging / f"{name}.wsdl")
            equal = equal and difference.equal
            results.append(difference.as_json())
    out = stdout_output(args)
    if out.json_mode:
        out.json({"equal": equal, "services": results, "not_shipped": unshipped})
    else:
        _print_diff(out, results, unshipped)
    return 0 if equal else 1


def _print_diff(out: Any, results: list[dict[str, Any]], unshipped: list[str]) -> None:
    from soapkit.cli._params import agent_name

    for result in results:
        agent = agent_name(result["service"])
        if not (result["added"] or result["removed"] or result["changed"]):
            out.line(f"{agent}: same as shipped", "green")
            continue
        out.line(f"{agent}: {len(result['added'])} operations added, {len(result['removed'])} removed, "
                 f"{len(result['changed'])} changed", "bold")
        for name in result["added"]:
            out.line(f"  + {name}", "green")
        for name in result["removed"]:
            out.line(f"  - {name}", "red")
        for change in result["changed"]:
            out.line(f"  ~ {change['operation']}", "yellow")
            if change["soap_action"]:
                out.line(f"      SOAPAction {change['soap_action']['ours']} -> {change['soap_action']['theirs']}")
            for path, text in change["added"].items():
                out.line(f"      + {path}  {text}")
            for path, text in change["removed"].items():
                out.line(f"      - {path}  {text}")
            for path, texts in change["changed"].items():
                out.line(f"      ~ {path}  {texts['ours']} -> {texts['theirs']}")
    for name in unshipped:
        out.line(f"{agent_name(name)}: not shipped by soapkit (`soapkit wsdl import` adds it)", "yellow")
