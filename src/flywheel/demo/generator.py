"""The demo company generator: from (seed, as_of, customers, years) to column tables, vectorised."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np

from flywheel.demo.accounts import build_accounts
from flywheel.demo.ledger import build_ledger, customer_status
from flywheel.demo.seasons import business_calendar, days_to_dates
from flywheel.demo.tables import DemoCompany, Table, Texts
from flywheel.demo.touchpoints import build_touchpoints

ProgressFn = Callable[[str, int, int], None]
"""Called as ``progress(stage, done, total)`` while the demo is built."""

GENERATE_STAGE = "generate"
_GENERATE_STEPS = 3


@dataclass(frozen=True, slots=True)
class DemoSpec:
    """What to generate. The same spec always gives the same company."""

    customers: int
    years: int
    seed: int
    as_of: date
    # About 7.5 invoices per customer a year: 100k customers over 3 years give ~2.25M.
    invoices_per_customer_year: float = 7.5

    def validate(self) -> None:
        if self.customers < 1:
            raise ValueError("customers must be at least 1")
        if not 1 <= self.years <= 10:
            raise ValueError("years must be between 1 and 10")
        if self.invoices_per_customer_year <= 0:
            raise ValueError("invoices_per_customer_year must be positive")


def generate_company(spec: DemoSpec, progress: ProgressFn | None = None) -> DemoCompany:
    """Synthesize the whole company; tables come back in the order they must be written."""
    spec.validate()
    report = progress or _silent
    # One independent stream per stage, so that changing one stage leaves the others alone.
    accounts_rng, ledger_rng, touch_rng = (
        np.random.default_rng(child) for child in np.random.SeedSequence(spec.seed).spawn(3)
    )
    cal = business_calendar(spec.as_of, spec.years)
    report(GENERATE_STAGE, 0, _GENERATE_STEPS)
    acc = build_accounts(accounts_rng, cal, spec.customers, spec.seed)
    report(GENERATE_STAGE, 1, _GENERATE_STEPS)
    ledger = build_ledger(ledger_rng, cal, acc, spec.invoices_per_customer_year)
    report(GENERATE_STAGE, 2, _GENERATE_STEPS)
    touchpoints = build_touchpoints(touch_rng, cal, acc)
    report(GENERATE_STAGE, 3, _GENERATE_STEPS)

    company = DemoCompany(
        seed=spec.seed,
        as_of=np.datetime64(spec.as_of, "D"),
        period_start=days_to_dates(np.array([cal.period_start]))[0],
    )
    company.add(acc.users)
    status = Texts(customer_status(cal, acc, ledger.invoice_customer))
    company.add(Table("customers", {**acc.columns.columns, "status": status}))
    company.add(acc.traits)
    company.add(acc.contacts)
    company.add(ledger.orders)
    company.add(ledger.invoices)
    company.add(ledger.installments)
    company.add(ledger.credit_notes)
    company.add(ledger.payments)
    company.add(ledger.allocations)
    company.add(touchpoints)
    return company


def _silent(stage: str, done: int, total: int) -> None:
    """Progress sink when nobody watches."""
