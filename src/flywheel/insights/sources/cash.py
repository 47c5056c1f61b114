"""Cash: the receivables at the month's last day with the receivables page's definitions, and
what was collected, promised and disputed in the month.

* Stock at the last day (``receivables.kpis``, a ``CASH_WINDOW_DAYS`` window ending on the
  day): ``ar_total`` is what is open on the day (``LedgerColumns.open_on``), ``ar_current`` the
  part not yet due (due on or after the day), ``ar_beginning`` what was open the day before the
  window and ``sales_window`` what was invoiced in it. DSO = ar_total ÷ sales_window × days and
  CEI = (beginning + sales − total) ÷ (beginning + sales − current) are then the page's figures
  for the same accounts and currency. Money is in the invoice's currency. An account is overdue
  when some of what it owes is open past its due date.
* Flows in the month: payments received (``collected``, in the payment's currency), promises to
  pay resolved kept or broken (``collections.promises.keeping_rate``: on their resolved day) and
  disputes opened.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

import numpy as np
import numpy.typing as npt
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.insights import history
from flywheel.insights.cube import Accounts, Contribution, Month, contribution
from flywheel.insights.figures import CASH_WINDOW_DAYS
from flywheel.models.collections import Dispute, PromiseToPay
from flywheel.models.enums import PromiseStatus
from flywheel.models.receivables import Payment
from flywheel.receivables.ledger_columns import to_day

IntArray = npt.NDArray[np.int64]


def _summed(
    accounts: Accounts, cells: IntArray, codes: list[str], cents: npt.NDArray[np.int64]
) -> Contribution:
    """Item amounts (cents) summed per (account, currency) cell, in currency units."""
    keep = cells >= 0
    sums = np.bincount(
        cells[keep], weights=cents[keep].astype(np.float64), minlength=len(accounts) * len(codes)
    )
    found = np.flatnonzero(sums)
    return Contribution(
        account=(found // max(len(codes), 1)).astype(np.int64),
        value=sums[found] / 100.0,
        currency=np.asarray(codes, dtype=object)[found % max(len(codes), 1)],
    )


def _receivables(session: Session, accounts: Accounts, month: Month) -> dict[str, Contribution]:
    day = month.last
    start = day - timedelta(days=CASH_WINDOW_DAYS - 1)
    beginning_day = start - timedelta(days=1)
    ledger = history.ledger_from(session, accounts, beginning_day)
    inst = ledger.installments
    cells, codes = history.installment_cells(session, accounts, ledger)
    open_now = ledger.open_on(day)
    not_due = inst.due_day >= to_day(day)
    invoiced = (inst.issue_day >= to_day(start)) & (inst.issue_day <= to_day(day))
    overdue = (open_now > 0) & ~not_due & (cells >= 0)
    late_accounts = np.unique(cells[overdue] // max(len(codes), 1))
    zero = np.zeros(1, dtype=np.int64)
    return {
        "ar_total": _summed(accounts, cells, codes, open_now),
        "ar_current": _summed(accounts, cells, codes, np.where(not_due, open_now, zero)),
        "ar_beginning": _summed(accounts, cells, codes, ledger.open_on(beginning_day)),
        "sales_window": _summed(accounts, cells, codes, np.where(invoiced, inst.amount, zero)),
        "overdue_accounts": Contribution(
            account=late_accounts.astype(np.int64),
            value=np.ones(late_accounts.size, dtype=np.float64),
        ),
    }


def _flows(session: Session, accounts: Accounts, month: Month) -> dict[str, Contribution]:
    paid = session.execute(
        select(Payment.customer_id, Payment.currency, func.sum(Payment.amount))
        .where(Payment.received_on >= month.first, Payment.received_on <= month.last)
        .group_by(Payment.customer_id, Payment.currency)
    ).all()
    resolved = session.execute(
        select(PromiseToPay.customer_id, PromiseToPay.status, func.count(PromiseToPay.id))
        .where(
            PromiseToPay.status.in_([PromiseStatus.KEPT.value, PromiseStatus.BROKEN.value]),
            PromiseToPay.resolved_on >= month.first,
            PromiseToPay.resolved_on <= month.last,
        )
        .group_by(PromiseToPay.customer_id, PromiseToPay.status)
    ).all()
    opened = session.execute(
        select(Dispute.customer_id, func.count(Dispute.id))
        .where(Dispute.opened_on >= month.first, Dispute.opened_on <= month.last)
        .group_by(Dispute.customer_id)
    ).all()

    def of_status(status: PromiseStatus) -> Contribution:
        rows = [(c, n) for c, s, n in resolved if s == status.value]
        return contribution(accounts, [r[0] for r in rows], [r[1] for r in rows])

    return {
        "collected": contribution(
            accounts,
            [r[0] for r in paid],
            [float(r[2]) for r in paid],
            [str(r[1]) for r in paid],
        ),
        "promises_kept": of_status(PromiseStatus.KEPT),
        "promises_broken": of_status(PromiseStatus.BROKEN),
        "disputes_opened": contribution(accounts, [r[0] for r in opened], [r[1] for r in opened]),
    }


def measures(session: Session, accounts: Accounts, month: Month) -> Mapping[str, Contribution]:
    return {**_receivables(session, accounts, month), **_flows(session, accounts, month)}
