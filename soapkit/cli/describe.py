"""``soapkit describe [Agent[.Operation]]``: services, operations, parameters and result types from the WSDL."""

from __future__ import annotations

import argparse
from typing import Any

from zeep.xsd import ComplexType

from soapkit.catalog import Catalog, ServiceDescription
from soapkit.cli._output import Output, stdout_output
from soapkit.cli._params import Parameter, agent_name, array_item, parameters, result_parameter, split_target, type_name
from soapkit.cli._settings import effective_settings
from soapkit.config import catalog_from_settings

EXAMPLES = """\
examples:
  soapkit describe                              the services in the catalog
  soapkit describe ContactAgent                 its operations with their signatures
  soapkit describe ContactAgent.SaveContactEntity --json
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "describe", help="show services, operations, parameters and result types (from the WSDL)",
        description="Describe what the cached WSDLs offer. Operation and parameter names are the .NET ones.",
        epilog=EXAMPLES)
    parser.add_argument("target", nargs="?", metavar="Agent[.Operation]")
    parser.add_argument("--services-version", metavar="VERSION", help="default: Services88")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = effective_settings(args)
    catalog = catalog_from_settings(settings)
    version = str(settings.get("services_version"))
    out = stdout_output(args)
    if not args.target:
        _show_services(out, catalog, version)
        return 0
    service_text, operation_name = split_target(args.target)
    described = catalog.describe(service_text, version)
    if operation_name is None:
        _show_service(out, described)
    else:
        _show_operation(out, described, operation_name)
    return 0


# --- building descriptions ---------------------------------------------------------------------


def parameter_info(parameter: Parameter) -> dict[str, Any]:
    info: dict[str, Any] = {"name": parameter.name, "type": parameter.type_name,
                            "required": parameter.required, "many": parameter.many}
    item = array_item(parameter.xsd_type)
    if item is not None:
        info["items"] = type_name(item[1].type)
    return info


def fields_of(xsd_type: Any) -> list[dict[str, Any]]:
    """The fields of a complex type (one level), or of the items of an ``ArrayOfX``."""
    item = array_item(xsd_type)
    if item is not None:
        xsd_type = item[1].type
    if not isinstance(xsd_type, ComplexType):
        return []
    return [parameter_info(Parameter(name, element)) for name, element in xsd_type.elements]


def signature(operation: Any) -> str:
    params = ", ".join(f"{p.name}: {_short(p)}" for p in parameters(operation))
    result = result_parameter(operation)
    return f"({params}) -> {_short(result) if result else 'nothing'}"


def _short(parameter: Parameter) -> str:
    item = array_item(parameter.xsd_type)
    if item is not None:
        return f"list[{type_name(item[1].type)}]"
    return parameter.type_name + ("[]" if parameter.many else "")


def operation_info(described: ServiceDescription, name: str) -> dict[str, Any]:
    operation = described.operation(name)
    result = result_parameter(operation)
    header = operation.input.header
    headers = [n for n, _ in header.type.elements] if header is not None and header.type.elements else []
    return {
        "service": agent_name(described.name),
        "operation": name,
        "soap_action": operation.soapaction,
        "headers": headers,
        "parameters": [{**parameter_info(p), "fields": fields_of(p.xsd_type)} for p in parameters(operation)],
        "result": {**parameter_info(result), "fields": fields_of(result.xsd_type)} if result else None,
    }


# --- printing ----------------------------------------------------------------------------------


def _show_services(out: Output, catalog: Catalog, version: str) -> None:
    names = catalog.services(version)
    if out.json_mode:
        out.json({"version": version, "folders": [str(f) for f in catalog.folders],
                  "services": [agent_name(n) for n in names]})
        return
    out.line(f"Services ({version}), from {', '.join(str(f) for f in catalog.folders)}:", "bold")
    for name in names:
        out.line(f"  {agent_name(name)}")
    out.line("\n`soapkit describe ContactAgent` lists an agent's operations.", "dim")


def _show_service(out: Output, described: ServiceDescription) -> None:
    operations = {n: signature(described.operation(n)) for n in described.operation_names}
    if out.json_mode:
        out.json({"service": agent_name(described.name), "version": described.version, "wsdl": str(described.path),
                  "binding": described.binding_name, "operations": operations})
        return
    out.line(f"{agent_name(described.name)}  ({described.version}, {described.path})", "bold")
    for name, text in operations.items():
        out.line(f"  {out.style(name, 'cyan')}{text}")


def _show_operation(out: Output, described: ServiceDescription, name: str) -> None:
    info = operation_info(described, name)
    if out.json_mode:
        out.json(info)
        return
    out.line(f"{info['service']}.{name}{signature(described.operation(name))}", "bold")
    out.fields([("SOAPAction", info["soap_action"]), ("headers", ", ".join(info["headers"]) or "none")])
    out.line()
    out.line("parameters:" if info["parameters"] else "parameters: none", "bold")
    for parameter in info["parameters"]:
        _show_parameter(out, parameter)
    if info["result"]:
        out.line("result:", "bold")
        _show_parameter(out, {**info["result"], "required": True})


def _show_parameter(out: Output, info: dict[str, Any]) -> None:
    kind = f"list of {info['items']}" if "items" in info else info["type"] + (" (repeated)" if info["many"] else "")
    required = "" if info["required"] else out.style("  optional", "dim")
    out.line(f"  {out.style(info['name'], 'cyan')}: {kind}{required}")
    for field in info.get("fields", []):
        many = f"list of {field['items']}" if "items" in field else field["type"]
        out.line(f"      {field['name']}: {many}")
