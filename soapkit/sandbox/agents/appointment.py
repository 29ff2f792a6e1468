"""Appointment agent (``Appointment.svc``): the diary, on top of the generic entity store.

``Get/Save/CreateDefault/DeleteAppointmentEntity``, ``GetAppointment`` and ``GetAppointmentList`` are the
generic store's (an appointment's ``Contact``, ``Person`` and ``Associate`` are read from the CRM when it is
saved). Written here:

* ``GetContactAppointments`` / ``GetPersonAppointments`` / ``GetMyAppointments`` -- the appointments of a
  company, a person or the calling user whose ``StartDate`` lies in ``[StartTime, EndTime)`` (an unset end means
  no end), by start date; ``Count`` > 0 keeps the first ``Count``;
* ``Move`` -- a new ``StartDate``, the same duration; an unknown appointment fails with
  ``EntityNotFoundException``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from soapkit.sandbox.agents import entities
from soapkit.sandbox.agents.generic import family
from soapkit.sandbox.agents.registry import AgentCall, AgentFailure, handles

SERVICE = "Appointment"


def _link_id(entity: dict[str, Any], link: str) -> int:
    carrier = entity.get(link)
    return int(carrier.get(f"{link}Id") or 0) if isinstance(carrier, dict) else 0


def _in_window(call: AgentCall, start: Any) -> bool:
    begin, end = call.param("StartTime"), call.param("EndTime")
    if not isinstance(start, dt.datetime):
        return False
    if isinstance(begin, dt.datetime) and begin.year > 1 and start < begin.replace(tzinfo=None):
        return False
    return not (isinstance(end, dt.datetime) and end.year > 1 and start >= end.replace(tzinfo=None))


def _appointments(call: AgentCall, keep: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    appointments = family(call, SERVICE, "Appointment")
    stored = entities.rows(call, appointments).all()
    chosen = sorted((e for e in stored if keep(e) and _in_window(call, e["StartDate"])),
                    key=lambda e: (e["StartDate"], e["AppointmentId"]))
    count = int(call.param("Count", 0))
    if count > 0:
        chosen = chosen[:count]
    item_type = call.backend.catalog.describe(SERVICE).operation("GetAppointment").output.body.type
    item = dict(item_type.elements)["Response"].type
    return {"Response": {"Appointment": [entities.project(e, appointments.entity_type, item, appointments.enums)
                                         for e in chosen]}}


@handles(SERVICE, "GetContactAppointments")
def get_contact_appointments(call: AgentCall) -> dict[str, Any]:
    contact_id = int(call.param("ContactId", 0))
    return _appointments(call, lambda e: _link_id(e, "Contact") == contact_id)


@handles(SERVICE, "GetPersonAppointments")
def get_person_appointments(call: AgentCall) -> dict[str, Any]:
    person_id = int(call.param("PersonId", 0))
    return _appointments(call, lambda e: _link_id(e, "Person") == person_id)


@handles(SERVICE, "GetMyAppointments")
def get_my_appointments(call: AgentCall) -> dict[str, Any]:
    return _appointments(call, lambda e: _link_id(e, "Associate") == call.associate_id)


@handles(SERVICE, "Move")
def move(call: AgentCall) -> dict[str, Any]:
    table = entities.rows(call, family(call, SERVICE, "Appointment"))
    appointment_id = int(call.param("AppointmentId", 0))
    stored = table.get(appointment_id)
    if stored is None:
        raise AgentFailure(entities.NOT_FOUND, f"Appointment {appointment_id} does not exist.")
    new_start = call.param("NewStartTime")
    if not isinstance(new_start, dt.datetime):
        raise AgentFailure(entities.VALIDATION, "Move needs a NewStartTime.")
    new_start = new_start.replace(tzinfo=None)
    duration = stored["EndDate"] - stored["StartDate"] if stored["EndDate"] >= stored["StartDate"] else dt.timedelta(0)
    return {"Response": table.save({**stored, "StartDate": new_start, "EndDate": new_start + duration,
                                    "UpdatedDate": call.now.replace(tzinfo=None, microsecond=0)})}
