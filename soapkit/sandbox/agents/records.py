"""SQL access to one tenant's CRM rows (contacts, persons) and the lookups they reference."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from soapkit.sandbox.store import Store

Row = dict[str, Any]


class Crm:
    """The CRM data of tenant ``ctx``."""

    def __init__(self, store: Store, ctx: str) -> None:
        self.store = store
        self.ctx = ctx

    # --- lookups (associates per tenant; lists and countries shared) -----------------------------

    def associate(self, associate_id: int | None) -> Row | None:
        if not associate_id:
            return None
        return self.store.one("SELECT * FROM associate WHERE ctx = ? AND associate_id = ?", (self.ctx, associate_id))

    def list_item(self, list_name: str, item_id: int | None) -> Row | None:
        if not item_id:
            return None
        return self.store.one("SELECT * FROM list_item WHERE list_name = ? AND id = ?", (list_name, item_id))

    def country(self, country_id: int | None) -> Row | None:
        if not country_id:
            return None
        return self.store.one("SELECT * FROM country WHERE country_id = ?", (country_id,))

    # --- contacts --------------------------------------------------------------------------------

    def contact(self, contact_id: int | None) -> Row | None:
        if not contact_id:
            return None
        return self.store.one("SELECT * FROM contact WHERE ctx = ? AND contact_id = ?", (self.ctx, contact_id))

    def contacts(self, contact_ids: Sequence[int]) -> list[Row]:
        return [row for row in (self.contact(i) for i in contact_ids) if row is not None]

    def insert_contact(self, values: Row) -> int:
        with self.store.transaction():
            contact_id = self.store.next_id(self.ctx, "contact")
            self.store.insert("contact", {**values, "ctx": self.ctx, "contact_id": contact_id})
        return contact_id

    def update_contact(self, contact_id: int, values: Row) -> bool:
        return self.store.update("contact", values, {"ctx": self.ctx, "contact_id": contact_id}) > 0

    def delete_contact(self, contact_id: int) -> bool:
        """Delete a contact and its persons, as SuperOffice does."""
        with self.store.transaction():
            self.store.execute("DELETE FROM person WHERE ctx = ? AND contact_id = ?", (self.ctx, contact_id))
            return self.store.execute("DELETE FROM contact WHERE ctx = ? AND contact_id = ?",
                                      (self.ctx, contact_id)) > 0

    # --- persons ---------------------------------------------------------------------------------

    def person(self, person_id: int | None) -> Row | None:
        if not person_id:
            return None
        return self.store.one("SELECT * FROM person WHERE ctx = ? AND person_id = ?", (self.ctx, person_id))

    def persons(self, person_ids: Sequence[int]) -> list[Row]:
        return [row for row in (self.person(i) for i in person_ids) if row is not None]

    def persons_of(self, contact_id: int) -> list[Row]:
        return self.store.all("SELECT * FROM person WHERE ctx = ? AND contact_id = ? ORDER BY rank, person_id",
                              (self.ctx, contact_id))

    def insert_person(self, values: Row) -> int:
        with self.store.transaction():
            person_id = self.store.next_id(self.ctx, "person")
            self.store.insert("person", {**values, "ctx": self.ctx, "person_id": person_id})
        return person_id

    def update_person(self, person_id: int, values: Row) -> bool:
        return self.store.update("person", values, {"ctx": self.ctx, "person_id": person_id}) > 0

    def delete_person(self, person_id: int) -> bool:
        return self.store.execute("DELETE FROM person WHERE ctx = ? AND person_id = ?", (self.ctx, person_id)) > 0
