"""Import handlers for customers, contacts, orders and touchpoints: row by row through the
domain services, each row in a savepoint so a refused row leaves nothing behind.

A blank cell in a row that updates an existing record keeps the current value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.config import get_settings
from flywheel.customers import repository as customer_queries
from flywheel.customers import service as customers
from flywheel.customers.schemas import ContactIn, CustomerIn, TouchpointIn
from flywheel.errors import FlywheelError
from flywheel.importers.fields import CONTACTS, CUSTOMERS, ORDERS, TOUCHPOINTS
from flywheel.importers.lookups import CustomerDirectory, UserDirectory
from flywheel.importers.runner import ImportContext, Outcome, Record, Result, RowError
from flywheel.models.customers import Contact, Customer, Touchpoint
from flywheel.models.enums import Role
from flywheel.sales import service as sales
from flywheel.sales.schemas import OrderIn
from flywheel.users import service as users


def _duplicates(ctx: ImportContext, group: list[Record], key: str) -> list[Result]:
    return [ctx.error(r, key, f"duplicate of row {group[0].row}") for r in group[1:]]


def _guarded(
    ctx: ImportContext,
    session: Session,
    record: Record,
    write: Callable[[], Result],
    on_refused: Callable[[], None] | None = None,
) -> Result:
    """Run one row's write in a savepoint; a refusal rolls it back and becomes the row's error."""
    try:
        with session.begin_nested():
            return write()
    except (FlywheelError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
        if on_refused is not None:
            on_refused()
        if isinstance(exc, FlywheelError):
            return _refused(ctx, record, exc, None)
        return ctx.error(record, None, _first_error(exc))


def _changed(changed: bool) -> Outcome:
    return Outcome.UPDATED if changed else Outcome.UNCHANGED


def _refused(
    ctx: ImportContext, record: Record, exc: FlywheelError, default_field: str | None
) -> RowError:
    field = exc.details.get("field")
    return ctx.error(record, str(field) if field else default_field, exc.message)


class _UserResolver:
    """Owners and touchpoint users named in a file; an unknown username becomes a sales user."""

    def __init__(self, ctx: ImportContext, session: Session) -> None:
        self.ctx = ctx
        self.directory = UserDirectory(session)
        self.this_row: list[str] = []

    def resolve(self, session: Session, username: str) -> int:
        user_id = self.directory.get(username)
        if user_id is None:
            user = users.create_user(
                session, actor=self.ctx.actor, username=username, role=Role.SALES
            )
            self.directory.add(username, user.id)
            self.ctx.users_created.append(username)
            self.this_row.append(username)
            user_id = user.id
        return user_id

    def row_done(self) -> None:
        self.this_row.clear()

    def row_refused(self) -> None:
        """The row's savepoint was rolled back: so were the users it created."""
        for username in self.this_row:
            self.directory.forget(username)
            self.ctx.users_created.remove(username)
        self.this_row.clear()


class CustomersHandler:
    spec = CUSTOMERS
    group_by: str | None = "code"
    whole_file = True  # parents and referrers may come later in the file

    def __init__(self, ctx: ImportContext) -> None:
        self.ctx = ctx

    def process(self, session: Session, groups: list[list[Record]]) -> list[list[Result]]:
        ctx = self.ctx
        owners = _UserResolver(ctx, session)
        outcome: dict[int, Result] = {}
        by_code = {g[0].values["code"]: g[0] for g in groups}
        for group in groups:
            for record, error in zip(group[1:], _duplicates(ctx, group, "code"), strict=True):
                outcome[record.row] = error
        for record in self._dependency_order(by_code, outcome):
            outcome[record.row] = self._one(session, record, owners, by_code, outcome)
        return [[outcome[r.row] for r in group] for group in groups]

    def _dependency_order(
        self, by_code: dict[str, Record], outcome: dict[int, Result]
    ) -> list[Record]:
        """Parents and referrers before the accounts that point at them; a cycle is rejected."""
        ordered: list[Record] = []
        state: dict[str, int] = {}  # 1 visiting, 2 done

        def visit(code: str, trail: list[str]) -> None:
            if state.get(code) == 2:
                return
            record = by_code[code]
            if state.get(code) == 1:
                outcome[record.row] = self.ctx.error(
                    record,
                    "parent",
                    "accounts point at each other in a cycle: " + " → ".join([*trail, code]),
                )
                return
            state[code] = 1
            for link in ("parent", "referred_by"):
                target = record.values.get(link)
                if target in by_code and target != code:
                    visit(target, [*trail, code])
            state[code] = 2
            ordered.append(record)

        for code in by_code:
            visit(code, [])
        return ordered

    def _link(
        self,
        session: Session,
        record: Record,
        field: str,
        by_code: dict[str, Record],
        outcome: dict[int, Result],
    ) -> tuple[int | None, RowError | None]:
        code = record.values.get(field)
        if code is None:
            return None, None
        if code == record.values["code"]:
            return None, self.ctx.error(record, field, "an account cannot point at itself")
        source = by_code.get(code)
        if source is not None and isinstance(outcome.get(source.row), RowError):
            return None, self.ctx.error(record, field, f"{code} on row {source.row} was rejected")
        found = customer_queries.get_by_code(session, code)
        if found is None:
            return None, self.ctx.error(record, field, f"unknown customer {code}")
        return found.id, None

    def _one(
        self,
        session: Session,
        record: Record,
        owners: _UserResolver,
        by_code: dict[str, Record],
        outcome: dict[int, Result],
    ) -> Result:
        if record.row in outcome:
            return outcome[record.row]
        values = record.values
        parent_id, error = self._link(session, record, "parent", by_code, outcome)
        if error:
            return error
        referred_id, error = self._link(session, record, "referred_by", by_code, outcome)
        if error:
            return error
        settings = get_settings()
        current = customer_queries.get_by_code(session, values["code"])
        base: dict[str, Any]
        if current is None:
            base = {
                "tier": "standard",
                "currency": settings.base_currency,
                "payment_terms": settings.default_payment_terms,
                "status": "active",
                "created_on": self.ctx.today,
                "owner_id": None,
                "parent_id": None,
                "referred_by_id": None,
                "industry": None,
                "region": None,
            }
        else:
            base = {
                name: getattr(current, name)
                for name in (
                    "tier",
                    "currency",
                    "payment_terms",
                    "status",
                    "created_on",
                    "owner_id",
                    "parent_id",
                    "referred_by_id",
                    "industry",
                    "region",
                )
            }
        plain: dict[str, Any] = {
            k: values[k]
            for k in (
                "name",
                "tier",
                "industry",
                "region",
                "currency",
                "payment_terms",
                "status",
                "created_on",
            )
            if k in values
        }

        def write() -> Result:
            if "owner" in values:
                base["owner_id"] = owners.resolve(session, values["owner"])
            if "parent" in values:
                base["parent_id"] = parent_id
            if "referred_by" in values:
                base["referred_by_id"] = referred_id
            fields: dict[str, Any] = {**base, **plain}
            data = CustomerIn(code=values["code"], **fields)
            if current is None:
                customers.create_customer(session, actor=self.ctx.actor, data=data)
                return Outcome.INSERTED
            else:
                _, changed = customers.update_customer(
                    session, actor=self.ctx.actor, customer_id=current.id, data=data
                )
                return _changed(changed)

        result = _guarded(self.ctx, session, record, write, on_refused=owners.row_refused)
        owners.row_done()
        return result

    def finish(self, session: Session) -> None:
        return None


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        items = errors()
        if items:
            item = items[0]
            where = ".".join(str(p) for p in item.get("loc", ()))
            return f"{where}: {item.get('msg')}" if where else str(item.get("msg"))
    return str(exc)


class ContactsHandler:
    spec = CONTACTS
    group_by: str | None = None
    whole_file = False

    def __init__(self, ctx: ImportContext) -> None:
        self.ctx = ctx
        self.customers: CustomerDirectory | None = None
        self.seen: dict[tuple[str, str], int] = {}

    def process(self, session: Session, groups: list[list[Record]]) -> list[list[Result]]:
        directory = self.customers = self.customers or CustomerDirectory(session)
        directory.load(g[0].values["customer"] for g in groups)
        return [[self._one(session, g[0], directory)] for g in groups]

    def _one(self, session: Session, record: Record, directory: CustomerDirectory) -> Result:
        ctx = self.ctx
        values = record.values
        customer = directory.get(values["customer"])
        if customer is None:
            return ctx.error(record, "customer", f"unknown customer {values['customer']}")
        key = (values["customer"], values.get("email") or values["name"])
        if key in self.seen:
            return ctx.error(
                record,
                "email" if "email" in values else "name",
                f"duplicate of row {self.seen[key]}",
            )
        self.seen[key] = record.row
        current = customer_queries.find_contact(
            session, customer[0], email=values.get("email"), name=values["name"]
        )
        fields = ("name", "title", "buying_role", "email", "phone", "language")
        base: dict[str, Any] = (
            {"language": "zh"} if current is None else {k: getattr(current, k) for k in fields}
        )
        base.update({k: values[k] for k in fields if k in values})

        def write() -> Result:
            data = ContactIn(customer_id=customer[0], **base)
            if current is None:
                customers.add_contact(session, actor=ctx.actor, data=data)
                return Outcome.INSERTED
            _, changed = customers.update_contact(
                session, actor=ctx.actor, contact_id=current.id, data=data
            )
            return _changed(changed)

        return _guarded(ctx, session, record, write)

    def finish(self, session: Session) -> None:
        return None


class OrdersHandler:
    spec = ORDERS
    group_by: str | None = "number"
    whole_file = False

    def __init__(self, ctx: ImportContext) -> None:
        self.ctx = ctx
        self.customers: CustomerDirectory | None = None

    def process(self, session: Session, groups: list[list[Record]]) -> list[list[Result]]:
        directory = self.customers = self.customers or CustomerDirectory(session)
        directory.load(g[0].values["customer"] for g in groups)
        return [
            [self._one(session, g[0], directory), *_duplicates(self.ctx, g, "number")]
            for g in groups
        ]

    def _one(self, session: Session, record: Record, directory: CustomerDirectory) -> Result:
        ctx = self.ctx
        values = record.values
        customer = directory.get(values["customer"])
        if customer is None:
            return ctx.error(record, "customer", f"unknown customer {values['customer']}")
        current = sales.find_order(session, values["number"])

        def write() -> Result:
            data = OrderIn(
                number=values["number"],
                customer_id=customer[0],
                order_date=values["order_date"],
                amount=values["amount"],
                currency=values.get("currency") or customer[1],
                status=values.get("status") or (current.status if current else "open"),
                delivered_on=values.get("delivered_on")
                or (current.delivered_on if current else None),
            )
            if current is None:
                sales.create_order(session, actor=ctx.actor, data=data)
                return Outcome.INSERTED
            _, changed = sales.update_order(
                session, actor=ctx.actor, order_id=current.id, data=data
            )
            return _changed(changed)

        return _guarded(ctx, session, record, write)

    def finish(self, session: Session) -> None:
        return None


class TouchpointsHandler:
    spec = TOUCHPOINTS
    group_by: str | None = None
    whole_file = False

    def __init__(self, ctx: ImportContext) -> None:
        self.ctx = ctx
        self.customers: CustomerDirectory | None = None
        self.people: _UserResolver | None = None
        self.seen: dict[str, int] = {}

    def process(self, session: Session, groups: list[list[Record]]) -> list[list[Result]]:
        directory = self.customers = self.customers or CustomerDirectory(session)
        self.people = self.people or _UserResolver(self.ctx, session)
        directory.load(g[0].values["customer"] for g in groups)
        return [[self._one(session, g[0], directory, self.people)] for g in groups]

    def _one(
        self, session: Session, record: Record, directory: CustomerDirectory, people: _UserResolver
    ) -> Result:
        ctx = self.ctx
        values = record.values
        customer = directory.get(values["customer"])
        if customer is None:
            return ctx.error(record, "customer", f"unknown customer {values['customer']}")
        contact_id = None
        if "contact" in values:
            contact = self._contact(session, customer[0], values["contact"])
            if contact is None:
                return ctx.error(
                    record,
                    "contact",
                    f"{values['contact']} is not a contact of {values['customer']}",
                )
            contact_id = contact.id

        def write() -> Result:
            user_id = people.resolve(session, values["user"]) if "user" in values else None
            data = TouchpointIn(
                reference=values.get("reference"),
                customer_id=customer[0],
                contact_id=contact_id,
                user_id=user_id,
                kind=values["kind"],
                occurred_at=values["occurred_at"],
                summary=values.get("summary"),
                satisfaction=values.get("satisfaction"),
            )
            reference = data.reference or customers.touchpoint_reference(data)
            if reference in self.seen:
                return ctx.error(record, "reference", f"duplicate of row {self.seen[reference]}")
            self.seen[reference] = record.row
            current = session.scalars(
                select(Touchpoint).where(Touchpoint.reference == reference)
            ).one_or_none()
            if current is None:
                customers.log_touchpoint(
                    session,
                    actor=ctx.actor,
                    data=data.model_copy(update={"reference": reference}),
                )
                return Outcome.INSERTED
            else:
                _, changed = customers.update_touchpoint(
                    session, actor=ctx.actor, touchpoint_id=current.id, data=data
                )
                return _changed(changed)

        result = _guarded(ctx, session, record, write, on_refused=people.row_refused)
        people.row_done()
        return result

    def _contact(self, session: Session, customer_id: int, who: str) -> Contact | None:
        column = Contact.email if "@" in who else Contact.name
        value = who.lower() if "@" in who else who
        return session.scalars(
            select(Contact).where(Contact.customer_id == customer_id, column == value).limit(1)
        ).first()

    def finish(self, session: Session) -> None:
        return None


__all__ = ["ContactsHandler", "Customer", "CustomersHandler", "OrdersHandler", "TouchpointsHandler"]
