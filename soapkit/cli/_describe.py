"""What ``soapkit describe`` shows: services, operations, parameters and result types, built from the catalog."""

from __future__ import annotations

import argparse
from typing import Any

from zeep.xsd import ComplexType

from soapkit.catalog import PARTNER_SERVICE, Catalog, ServiceDescription, ships
from soapkit.cli._output import Output, stdout_output
from soapkit.cli._params import Parameter, agent_name, array_item, parameters, result_parameter, split_target, type_name
from soapkit.cli._settings import effective_settings
from soapkit.config import catalog_from_settings


def describe(args: argparse.Namespace) -> int:
    settings = effective_settings(args)
    catalog = catalog_from_settings(settings)
    version = str(settings.get("services_version"))
    out = stdout_output(args)
    if args.find:
        return _show_matches(out, catalog, version, args.find, args.target)
    if not args.target:
        _show_services(out, catalog, version)
        return 0
    service_text, operation_name = split_target(args.target)
    described = catalog.describe(service_text, version)
    if operation_name is None:
        _show_service(out, catalog, described)
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


def source_of(catalog: Catalog, described: ServiceDescription) -> str:
    """'shipped', or where the WSDL in use comes from (an imported one wins over the shipped one)."""
    if catalog.is_bundled(described.path):
        return "shipped"
    return f"{described.path} (overrides the shipped one)" if ships(described.name, described.version) \
        else str(described.path)


def _show_services(out: Output, catalog: Catalog, version: str) -> None:
    rows: list[dict[str, Any]] = []
    for name in catalog.services(version):
        described = catalog.describe(name, version)
        rows.append({"service": agent_name(name), "operations": len(described.operation_names),
                     "source": source_of(catalog, described)})
    if out.json_mode:
        out.json({"version": version, "folders": [str(f) for f in catalog.folders], "services": rows})
        return
    agents = [row for row in rows if row["service"] != PARTNER_SERVICE]
    total = sum(row["operations"] for row in agents)
    partner = " and PartnerSystemUserService" if len(agents) < len(rows) else ""
    out.line(f"{len(agents)} agents ({total:,} operations){partner}, {version}:", "bold")
    width = max((len(row["service"]) for row in rows), default=0)
    for row in rows:
        source = "" if row["source"] == "shipped" else out.style(f"  {row['source']}", "yellow")
        out.line(f"  {row['service']:<{width}}  {row['operations']:>4}{source}")
    out.line("\n`soapkit describe ContactAgent` lists an agent's operations; --find WORD searches them all.", "dim")


def find(catalog: Catalog, version: str, word: str, only: str | None = None) -> list[dict[str, str]]:
    """Operations, parameters and types whose names contain ``word`` (case-insensitive), read from the WSDLs."""
    needle = word.lower()
    matches: list[dict[str, str]] = []
    services = [split_target(only)[0]] if only else catalog.services(version)
    for service in services:
        described = catalog.describe(service, version)
        for name in described.operation_names:
            where = f"{agent_name(described.name)}.{name}"
            if needle in name.lower():
                matches.append({"operation": where, "kind": "operation", "name": name})
            for kind, items in (("parameter", described.parameters(name)), ("result", described.results(name))):
                for item in items:
                    type_text = item.type.rpartition(":")[2]
                    if needle in item.name.lower() or needle in type_text.lower():
                        matches.append({"operation": where, "kind": kind, "name": f"{item.name}: {type_text}"})
    return matches


def _show_matches(out: Output, catalog: Catalog, version: str, word: str, only: str | None) -> int:
    matches = find(catalog, version, word, only)
    if out.json_mode:
        out.json({"find": word, "matches": matches})
        return 0
    if not matches:
        out.line(f"Nothing in {version} is named like {word!r}.", "yellow")
        return 0
    for match in matches:
        detail = "" if match["kind"] == "operation" else f"  {match['kind']} {match['name']}"
        out.line(f"  {out.style(match['operation'], 'cyan')}{detail}")
    out.line(f"\n{len(matches)} matches.", "dim")
    return 0


def _show_service(out: Output, catalog: Catalog, described: ServiceDescription) -> None:
    operations = {n: signature(described.operation(n)) for n in described.operation_names}
    if out.json_mode:
        out.json({"service": agent_name(described.name), "version": described.version, "wsdl": str(described.path),
                  "source": source_of(catalog, described), "binding": described.binding_name,
                  "operations": operations})
        return
    out.line(f"{agent_name(described.name)}  ({described.version}, {len(operations)} operations, "
             f"{source_of(catalog, described)})", "bold")
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
