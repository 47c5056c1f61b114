"""The company's state on past days, for the cube's months: the orders and the receivables
ledger read once per build and cut at each day asked, and the RFM segments and credit grades of
days the daily cycle stored none for, computed with the loyalty and credit domains' own code
(nothing is written).

A build reads every account once (``cube.Accounts``) and computes its months oldest first; the
reads made here are kept with that ``Accounts`` object in the session (``Session.info``), so the
sources of every month and the segments and grades of every month end share one read of the
orders and one of the ledger. A new ``Accounts`` (the next build) reads afresh.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.analytics.credit_expert import ExpertScorecard
from flywheel.config import get_settings
from flywheel.credit import service as credit
from flywheel.credit import trained
from flywheel.insights.cube import UNSCORED, Accounts
from flywheel.loyalty import segments
from flywheel.loyalty.frame import NO_DAY, LoyaltyFrame, day_number, read_frame
from flywheel.models.receivables import Invoice
from flywheel.receivables.ledger_columns import (
    LedgerColumns,
    cut_ledger,
    read_ledger,
)

IntArray = npt.NDArray[np.int64]
ObjectArray = npt.NDArray[np.object_]
BoolArray = npt.NDArray[np.bool_]

# Reads "as of" this day hold everything; each figure then cuts them at its own day.
FAR_FUTURE = date(2999, 12, 31)
# A ledger read reaches this much further back than first asked: the year of history the
# credit grades of the same month ends read, and two months more for the month end before
# (the transitions' "before"), so that one read serves a whole build (measured on 100,000
# accounts: one read from 15 months back, 18 s; one from 5 months back, 12 s; a second read
# costs the whole time again).
LEDGER_MARGIN = timedelta(days=credit.HISTORY_DAYS + 62)
_KEY = "flywheel.insights.history"


@dataclass
class _Reads:
    accounts: Accounts
    orders: LoyaltyFrame | None = None
    ledger: LedgerColumns | None = None
    installment_currency: ObjectArray | None = None
    installment_cells: tuple[IntArray, list[str]] | None = None
    segments: dict[date, ObjectArray] = field(default_factory=dict)
    grades: dict[date, ObjectArray] = field(default_factory=dict)
    cards: tuple[ExpertScorecard, trained.TrainedCard | None] | None = None


def _reads(session: Session, accounts: Accounts) -> _Reads:
    found = session.info.get(_KEY)
    if not isinstance(found, _Reads) or found.accounts is not accounts:
        found = _Reads(accounts=accounts)
        session.info[_KEY] = found
    return found


# ---------------------------------------------------------------- orders


def cut_frame(frame: LoyaltyFrame, day: date) -> LoyaltyFrame:
    """``frame`` as ``read_frame`` would have read it on ``day``: the same accounts, only the
    purchase days up to ``day``."""
    as_of_day = day_number(day)
    keep = frame.day <= as_of_day
    n = len(frame)
    day_customer = frame.day_customer[keep]
    days = frame.day[keep]
    cents = frame.day_cents[keep]
    orders = frame.day_orders[keep]
    purchase_days = np.bincount(day_customer, minlength=n).astype(np.int64)
    day_start = np.concatenate(([0], np.cumsum(purchase_days))).astype(np.int64)
    bought = purchase_days > 0
    first_day = np.full(n, NO_DAY, dtype=np.int64)
    last_day = np.full(n, NO_DAY, dtype=np.int64)
    first_day[bought] = days[day_start[:-1][bought]]
    last_day[bought] = days[day_start[1:][bought] - 1]
    return LoyaltyFrame(
        as_of=day,
        as_of_day=as_of_day,
        customer_id=frame.customer_id,
        tier=frame.tier,
        owner_id=frame.owner_id,
        region=frame.region,
        currency=frame.currency,
        status=frame.status,
        created_day=frame.created_day,
        day_start=day_start,
        day_customer=day_customer,
        day=days,
        day_cents=cents,
        day_orders=orders,
        orders=np.bincount(day_customer, weights=orders, minlength=n).astype(np.int64),
        purchase_days=purchase_days,
        first_day=first_day,
        last_day=last_day,
        revenue_cents=np.bincount(day_customer, weights=cents, minlength=n).astype(np.int64),
    )


def frame_on(session: Session, accounts: Accounts, day: date) -> LoyaltyFrame:
    """The loyalty frame (``loyalty.frame``) of every account on ``day``."""
    reads = _reads(session, accounts)
    if reads.orders is None:
        reads.orders = read_frame(session, as_of=FAR_FUTURE)
    return cut_frame(reads.orders, day)


def segments_on(session: Session, accounts: Accounts, day: date) -> ObjectArray:
    """Each account's RFM segment at the end of ``day`` as the loyalty cycle would have scored
    it that day (``loyalty.segments.score_segments``); UNSCORED for an account created after
    it."""
    reads = _reads(session, accounts)
    found = reads.segments.get(day)
    if found is None:
        frame = frame_on(session, accounts, day)
        scored = segments.score_segments(frame)
        found = np.full(len(accounts), UNSCORED, dtype=object)
        at = accounts.positions(frame.customer_id)
        known = at >= 0
        found[at[known]] = scored.segment[known]
        found[accounts.created_on > np.datetime64(day)] = UNSCORED
        reads.segments[day] = found
    return found


# ---------------------------------------------------------------- ledger


def ledger_from(session: Session, accounts: Accounts, since: date) -> LedgerColumns:
    """A ledger read (``receivables.ledger_columns``) complete from ``since`` on: its
    ``open_on(day)`` is exact for every day from ``since``. Read once per build, further back
    when a day before the read's start is asked."""
    reads = _reads(session, accounts)
    held = reads.ledger
    if held is None or held.since is None or held.since > since:
        reads.ledger = read_ledger(session, as_of=FAR_FUTURE, since=since - LEDGER_MARGIN)
        reads.installment_currency = None
        reads.installment_cells = None
    assert reads.ledger is not None
    return reads.ledger


def installment_currency(
    session: Session, accounts: Accounts, ledger: LedgerColumns
) -> ObjectArray:
    """The currency of each installment of ``ledger`` (its invoice's)."""
    reads = _reads(session, accounts)
    if reads.installment_currency is not None and reads.ledger is ledger:
        return reads.installment_currency
    base = get_settings().base_currency
    invoice_ids = ledger.installments.invoice_id
    currency = np.full(invoice_ids.size, base, dtype=object)
    if invoice_ids.size:
        # Only the invoices in another currency are read: most are in the base currency.
        rows = session.execute(
            select(Invoice.id, Invoice.currency).where(
                Invoice.currency != base, Invoice.id >= int(invoice_ids.min())
            )
        ).all()
        if rows:
            other = np.asarray([r[0] for r in rows], dtype=np.int64)
            codes = np.asarray([r[1] for r in rows], dtype=object)
            order = np.argsort(other)
            other, codes = other[order], codes[order]
            at = np.minimum(np.searchsorted(other, invoice_ids), other.size - 1)
            found = other[at] == invoice_ids
            currency[found] = codes[at[found]]
    if reads.ledger is ledger:
        reads.installment_currency = currency
    return currency


def installment_cells(
    session: Session, accounts: Accounts, ledger: LedgerColumns
) -> tuple[IntArray, list[str]]:
    """Each installment's (account, currency) cell: ``position * len(codes) + currency`` with
    ``codes`` the currencies in the ledger (-1 for an installment of no account)."""
    reads = _reads(session, accounts)
    if reads.installment_cells is not None and reads.ledger is ledger:
        return reads.installment_cells
    currency = installment_currency(session, accounts, ledger).astype(str)
    codes, index = np.unique(currency, return_inverse=True)
    account = accounts.positions(ledger.customers.id)[ledger.installments.customer]
    cells = np.where(account >= 0, account * max(len(codes), 1) + index, -1).astype(np.int64)
    found = (cells, [str(c) for c in codes])
    if reads.ledger is ledger:
        reads.installment_cells = found
    return found


def _cards(reads: _Reads) -> tuple[ExpertScorecard, trained.TrainedCard | None]:
    """The scorecards the daily cycle scores with (``daily.run_daily_cycle``)."""
    if reads.cards is None:
        settings = get_settings()
        reads.cards = (
            credit.load_scorecard(settings.credit_scorecard),
            trained.load_card(settings.model_dir),
        )
    return reads.cards


def grades_on(session: Session, accounts: Accounts, day: date) -> ObjectArray:
    """Each account's credit grade at the end of ``day`` as the daily cycle would have graded
    it that day (``credit.service.compute_scores``, with the cycle's scorecard); UNSCORED for an
    account created after it."""
    reads = _reads(session, accounts)
    found = reads.grades.get(day)
    if found is None:
        since = day - timedelta(days=credit.HISTORY_DAYS)
        ledger = ledger_from(session, accounts, since)
        card, trained_card = _cards(reads)
        scored = credit.compute_scores(
            session,
            as_of=day,
            card=card,
            trained_card=trained_card,
            ledger=cut_ledger(ledger, as_of=day, since=since),
        )
        found = np.full(len(accounts), UNSCORED, dtype=object)
        at = accounts.positions(scored.ledger.customers.id)
        known = at >= 0
        found[at[known]] = np.asarray(scored.grades, dtype=object)[known]
        found[accounts.created_on > np.datetime64(day)] = UNSCORED
        reads.grades[day] = found
    return found


def forget(session: Session) -> None:
    """Drop the reads kept in ``session`` (a build is done; they can be large)."""
    session.info.pop(_KEY, None)
