"""Batch look-ups by natural key for the importers: one query per chunk, never per row."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.kit.batches import chunks
from flywheel.models.customers import Customer
from flywheel.models.users import User


def rows_by_key(session: Session, stmt: Any, column: Any, keys: Iterable[Any]) -> list[Any]:
    found: list[Any] = []
    for part in chunks(sorted(set(keys))):
        found.extend(session.execute(stmt.where(column.in_(part))).all())
    return found


class CustomerDirectory:
    """Customer code -> (id, currency, payment terms), loaded on demand and kept for the file."""

    PRELOAD_LIMIT = 500_000  # up to this many customers, one query reads them all

    def __init__(self, session: Session) -> None:
        self._session = session
        self._known: dict[str, tuple[int, str, str] | None] = {}
        self._complete = False
        count = session.scalar(select(func.count()).select_from(Customer)) or 0
        if count <= self.PRELOAD_LIMIT:
            stmt = select(Customer.code, Customer.id, Customer.currency, Customer.payment_terms)
            for code, customer_id, currency, terms in session.execute(stmt):
                self._known[code] = (customer_id, currency, terms)
            self._complete = True

    def load(self, codes: Iterable[str]) -> None:
        if self._complete:
            return
        missing = [c for c in set(codes) if c not in self._known]
        if not missing:
            return
        stmt = select(Customer.code, Customer.id, Customer.currency, Customer.payment_terms)
        for code, customer_id, currency, terms in rows_by_key(
            self._session, stmt, Customer.code, missing
        ):
            self._known[code] = (customer_id, currency, terms)
        for code in missing:
            self._known.setdefault(code, None)

    def get(self, code: str) -> tuple[int, str, str] | None:
        if code not in self._known:
            if self._complete:
                return None
            self.load([code])
        return self._known[code]

    def add(self, code: str, customer_id: int, currency: str, terms: str) -> None:
        self._known[code] = (customer_id, currency, terms)


class UserDirectory:
    """Username -> id; unknown usernames are created as sales users when ``create`` is given."""

    def __init__(self, session: Session) -> None:
        self._session = session
        rows = session.execute(select(User.username, User.id)).all()
        self._known: dict[str, int] = {name: user_id for name, user_id in rows}  # noqa: C416

    def get(self, username: str) -> int | None:
        return self._known.get(username)

    def add(self, username: str, user_id: int) -> None:
        self._known[username] = user_id

    def forget(self, username: str) -> None:
        self._known.pop(username, None)


def ids_by_key(
    session: Session, column: Any, id_column: Any, keys: Sequence[Any]
) -> dict[Any, int]:
    stmt = select(column, id_column)
    return dict(rows_by_key(session, stmt, column, keys))
