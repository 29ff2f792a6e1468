"""Which handler answers an operation: a hand-written one, else a generic rule derived from the WSDL, else none.

Hand-written handlers (:mod:`.registry`) win; the generic entity store (:mod:`.entities`) serves every entity
family; every other operation is answered ``NotImplementedException`` by the endpoint. The handler tables of
a service are derived once per service, on first use.
"""

from __future__ import annotations

import functools
import threading

from soapkit.catalog import Catalog
from soapkit.errors import SoapkitError
from soapkit.sandbox.agents import entities, schema
from soapkit.sandbox.agents.registry import AgentCall, Handler, handler_for


def family(call: AgentCall, service: str, name: str) -> entities.EntityFamily:
    """The entity family ``name`` of ``service`` in the call's catalog (for hand-written handlers built on it)."""
    return _agents_of(call.backend.catalog).families(service)[name]


@functools.lru_cache(maxsize=8)
def _agents_of(catalog: Catalog) -> GenericAgents:
    return GenericAgents(catalog)


class GenericAgents:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._lock = threading.Lock()
        self._families: dict[str, dict[str, entities.EntityFamily]] = {}
        self._handlers: dict[str, dict[str, Handler]] = {}

    def families(self, service: str) -> dict[str, entities.EntityFamily]:
        self._derive(service)
        return self._families.get(service, {})

    def generic_handler(self, service: str, operation: str) -> Handler | None:
        self._derive(service)
        return self._handlers.get(service, {}).get(operation)

    def handler(self, service: str, operation: str) -> Handler | None:
        return handler_for(service, operation) or self.generic_handler(service, operation)

    def _derive(self, service: str) -> None:
        if service in self._handlers:
            return
        with self._lock:
            if service in self._handlers:
                return
            try:
                described = self.catalog.describe(service)
            except SoapkitError:
                self._handlers[service] = {}
                return
            enums = schema.enumerations(described.path)
            families = entities.discover(described, enums)
            self._families[service] = families
            self._handlers[service] = entities.family_handlers(described, families.values())

