"""Building the demo company into a database: schema, refusal rules, generation, bulk write."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from flywheel.auth.passwords import hash_password
from flywheel.db import upgrade_database
from flywheel.demo.accounts import DEMO_PASSWORD, with_role_passwords
from flywheel.demo.collections import seed_collections
from flywheel.demo.feedback import seed_feedback
from flywheel.demo.generator import DemoSpec, ProgressFn, generate_company
from flywheel.demo.keyaccounts_contracts import write_contracts
from flywheel.demo.keyaccounts_deals import write_deals
from flywheel.demo.keyaccounts_map import write_map
from flywheel.demo.keyaccounts_negotiations import write_negotiations
from flywheel.demo.keyaccounts_plans import write_plans
from flywheel.demo.referrals import write_referrals
from flywheel.demo.writer import AuditNote, has_customers, refuse_existing, write_company
from flywheel.models.base import utcnow

COUNTED_TABLES = (
    "customers",
    "contacts",
    "users",
    "orders",
    "invoices",
    "installments",
    "payments",
    "allocations",
    "credit_notes",
    "touchpoints",
    "promises_to_pay",
    "disputes",
    "referrals",
)


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What ``build_demo`` wrote and how long it took.

    ``counts`` are the generated rows per table; ``users`` counts the demo users whether they
    were created or already existed (matched by username) and were reused.
    """

    seed: int
    as_of: date
    customers: int
    years: int
    database: str
    counts: dict[str, int] = field(default_factory=dict)
    generate_seconds: float = 0.0
    write_seconds: float = 0.0
    seconds: float = 0.0
    survey_link: str | None = None  # an open invitation's link, to try the survey page

    @property
    def total_rows(self) -> int:
        return sum(self.counts.values())

    def to_dict(self) -> dict[str, object]:
        """The stable keys of ``flywheel demo --json``."""
        payload: dict[str, object] = {name: self.counts.get(name, 0) for name in COUNTED_TABLES}
        payload.update(
            {
                "seconds": round(self.seconds, 3),
                "seed": self.seed,
                "as_of": self.as_of.isoformat(),
                "database": self.database,
            }
        )
        return payload


def database_label(engine: Engine) -> str:
    """The database URL without its password, safe to print."""
    return engine.url.set(password=None).render_as_string(hide_password=False)


def build_demo(
    engine: Engine,
    *,
    customers: int,
    years: int,
    seed: int,
    as_of: date,
    replace: bool = False,
    progress: ProgressFn | None = None,
) -> DemoSummary:
    """Create the schema if needed, generate the company and write it in one transaction.

    Raises ``Conflict`` when customers exist and ``replace`` is false; with ``replace`` every
    customer and all rows that depend on them are deleted first (users are kept and reused).
    """
    started = time.perf_counter()
    spec = DemoSpec(customers=customers, years=years, seed=seed, as_of=as_of)
    spec.validate()
    upgrade_database(engine)
    # Checked before the (long) generation too, so a refusal is immediate.
    if not replace and has_customers(engine):
        raise refuse_existing()
    company = generate_company(spec, progress)
    company.add(with_role_passwords(company.tables["users"], hash_password(DEMO_PASSWORD)))
    generated = time.perf_counter()
    audit = AuditNote(
        occurred_at=utcnow(),
        after={
            "seed": seed,
            "as_of": as_of.isoformat(),
            "customers": customers,
            "years": years,
            "replace": replace,
            "counts": company.counts(),
        },
    )
    write_company(engine, company, replace=replace, audit=audit, progress=progress)
    counts = company.counts()
    counts.update(seed_collections(engine, as_of=as_of, seed=seed))
    feedback = seed_feedback(engine, as_of=as_of, years=years, seed=seed, progress=progress)
    counts.update(feedback.counts)
    with Session(engine) as session:
        counts.update(write_referrals(session, as_of=as_of, seed=seed))
        session.commit()
    with Session(engine) as session:
        # Key accounts, after the feedback (the maps promote survey comments to needs); deals
        # first, then contracts, then the negotiations, which look both up.
        counts.update(write_map(session, as_of=as_of, seed=seed))
        counts.update(write_deals(session, as_of=as_of, seed=seed))
        counts.update(write_contracts(session, as_of=as_of, seed=seed))
        counts.update(write_negotiations(session, as_of=as_of, seed=seed))
        counts.update(write_plans(session, as_of=as_of, seed=seed))
        session.commit()
    finished = time.perf_counter()
    return DemoSummary(
        seed=seed,
        as_of=as_of,
        customers=customers,
        years=years,
        database=database_label(engine),
        counts=counts,
        generate_seconds=generated - started,
        write_seconds=finished - generated,
        seconds=finished - started,
        survey_link=feedback.survey_link,
    )
