"""The dashboard's loyalty and cash figures on the demo company, recomputed independently with
the definitions of their own modules: the receivables page's KPIs, the promise-keeping rate,
the loyalty page's repeat purchase and NRR/GRR, and the loyalty dashboard's CLV, health and
at-risk list; the lists behind them have as many rows (or as much money) as the figures."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import numpy as np
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from flywheel.analytics import retention as maths
from flywheel.auth.actor import Actor
from flywheel.collections.promises import keeping_rate
from flywheel.credit import service as credit
from flywheel.demo.service import DemoSummary
from flywheel.insights import drills, figures, history
from flywheel.insights.cube import UNSCORED, grades_at, month_end, read_accounts, segments_at
from flywheel.insights.periods import InsightFilter, Period
from flywheel.loyalty import dashboard as loyalty_board
from flywheel.loyalty import health_queries, retention, segments
from flywheel.loyalty.frame import LoyaltyFrame, read_frame
from flywheel.models.customers import Customer
from flywheel.models.enums import HealthBand, Role
from flywheel.models.users import User
from flywheel.receivables.kpis import receivables_kpis
from flywheel.receivables.ledger_columns import read_ledger
from tests.insights.money_world import DEMO_AS_OF, demo

__all__ = ["demo"]

ADMIN = Actor(name="demo-admin", role=Role.ADMIN)
MONTHS = (date(2024, 9, 1), date(2024, 12, 1), date(2025, 3, 1), date(2025, 6, 1))
CURRENCIES = ("CNY", "USD")


@pytest.fixture(scope="module")
def session(demo: tuple[Engine, DemoSummary]) -> Iterator[Session]:
    engine, _summary = demo
    with Session(engine) as db:
        yield db
        db.rollback()


@pytest.fixture(scope="module")
def rep(session: Session) -> Actor:
    """The demo's sales rep with the most accounts."""
    owners = session.execute(select(Customer.owner_id).where(Customer.owner_id.is_not(None)))
    counts: dict[int, int] = {}
    for (owner,) in owners:
        counts[owner] = counts.get(owner, 0) + 1
    best = max(
        (u for u in session.scalars(select(User).where(User.role == Role.SALES.value))),
        key=lambda u: counts.get(u.id, 0),
    )
    assert counts.get(best.id, 0) > 5
    return Actor.for_user(best)


def board(
    session: Session, actor: Actor, month: date, *, period: str = "1m", **flt: str
) -> figures.Dashboard:
    return figures.dashboard(
        session,
        actor=actor,
        flt=InsightFilter(**flt),
        period=Period.ending(month, period),  # type: ignore[arg-type]
    )


def value(result: figures.Dashboard, code: str) -> float | None:
    return result.figures[code].value


def close(found: float | None, expected: float | None) -> bool:
    if expected is None or found is None:
        return found is None and expected is None
    return found == pytest.approx(expected, rel=1e-9, abs=1e-9)


# ----------------------------------------------------------------------------- cash


@pytest.mark.parametrize("month", MONTHS)
def test_dso_cei_and_overdue_share_are_the_receivables_pages(
    session: Session, rep: Actor, month: date
) -> None:
    for actor in (ADMIN, rep):
        for currency in CURRENCIES:
            result = board(session, actor, month, currency=currency)
            page = receivables_kpis(
                session, actor=actor, as_of=month_end(month), currency=currency, months=1
            ).current
            overdue_share = (
                float(page.overdue / page.receivables * 100) if page.receivables else None
            )
            assert close(value(result, "dso"), page.dso), (actor.name, currency, month)
            assert close(value(result, "cei"), page.cei), (actor.name, currency, month)
            assert close(value(result, "overdue_share"), overdue_share)
    # The demo owes something at every month's end: the comparison is not of two Nones.
    assert value(board(session, ADMIN, month, currency="CNY"), "dso") is not None


@pytest.mark.parametrize("period", ["1m", "3m", "12m"])
def test_promise_keeping_is_collections_keeping_rate(
    session: Session, rep: Actor, period: str
) -> None:
    chosen = Period.ending(MONTHS[-1], period)
    for actor in (ADMIN, rep):
        rate = keeping_rate(session, since=chosen.first, until=chosen.end, actor=actor)
        result = board(session, actor, MONTHS[-1], period=period)
        expected = None if rate.rate is None else rate.rate * 100
        assert close(value(result, "promise_keeping"), expected)
        assert value(result, "promises_kept") == rate.kept
        assert value(result, "promises_broken") == rate.broken


# ----------------------------------------------------------------------------- loyalty


def _frames(session: Session, actor: Actor, day: date) -> dict[str, LoyaltyFrame]:
    return {
        c: retention.scoped_frame(
            session, actor=actor, flt=retention.LoyaltyFilter(currency=c), as_of=day
        )
        for c in CURRENCIES
    }


def _last_twelve_months(frame: LoyaltyFrame) -> LoyaltyFrame:
    """The frame with each account's purchase days counted over the last twelve months only."""
    start = segments.window_start_day(frame, 12)
    return dataclasses.replace(
        frame, purchase_days=frame.purchase_days_between(start, frame.as_of_day)
    )


@pytest.mark.parametrize("month", MONTHS)
def test_repeat_rate_is_the_loyalty_pages_over_the_last_twelve_months(
    session: Session, rep: Actor, month: date
) -> None:
    for actor in (ADMIN, rep):
        frames = _frames(session, actor, month_end(month))
        repeat = [retention.repeat_figures(_last_twelve_months(f)) for f in frames.values()]
        buyers = sum(r.buyers for r in repeat)
        assert buyers > 0
        expected = sum(r.repeat_buyers for r in repeat) / buyers * 100
        assert close(value(board(session, actor, month), "repeat_rate"), expected)


def _year_figures(frame: LoyaltyFrame) -> maths.PeriodRetention:
    """NRR/GRR of the twelve months ending on the frame's day against the twelve before, from
    ``analytics.retention.net_retention`` with period "year": the purchase days are moved by
    whole months so that the day's month is a December (only a day's month counts)."""
    assert frame.as_of == month_end(frame.as_of)
    shift = 11 - (frame.as_of.month - 1)
    months = maths.month_of_days(frame.day) + shift
    moved = np.asarray(
        [maths.day_of(maths.first_day_of_month(int(m))) for m in months], dtype=np.int64
    )
    december = date(frame.as_of.year, 12, 31)
    (period,) = maths.net_retention(
        day_account=frame.day_customer,
        day=moved,
        day_cents=frame.day_cents,
        n_accounts=len(frame),
        as_of=december,
        period="year",
        periods=1,
    )
    return period


def test_nrr_on_31_december_is_net_retention_of_the_calendar_year(
    session: Session, rep: Actor
) -> None:
    december = date(2024, 12, 1)
    for actor in (ADMIN, rep):
        frames = _frames(session, actor, month_end(december))
        years = {
            c: retention.net_retention(f, period="year", periods=1)[-1] for c, f in frames.items()
        }
        assert years["CNY"].period == "2024"
        for currency, year in years.items():
            result = board(session, actor, december, currency=currency)
            expected = None if year.nrr is None else year.nrr * 100
            assert close(value(result, "nrr"), expected), (actor.name, currency)
            totals = figures.read_totals(
                session,
                InsightFilter(currency=currency).checked().scoped(actor),
                december,
                december,
            )[december].values
            assert totals["kept_revenue"] == pytest.approx(
                float(year.start_revenue - year.contraction - year.churn)
            )
        start = sum(y.start_customers for y in years.values())
        kept = sum(y.retained_customers for y in years.values())
        assert close(value(board(session, actor, december), "retention"), kept / start * 100)
        assert value(board(session, actor, december), "expansions") is not None


@pytest.mark.parametrize("month", [date(2025, 3, 1), date(2025, 6, 1)])
def test_nrr_of_other_months_is_the_same_maths_over_the_trailing_years(
    session: Session, rep: Actor, month: date
) -> None:
    for actor in (ADMIN, rep):
        frames = _frames(session, actor, month_end(month))
        years = {c: _year_figures(f) for c, f in frames.items()}
        for currency, year in years.items():
            result = board(session, actor, month, currency=currency)
            expected = None if year.nrr is None else year.nrr * 100
            assert close(value(result, "nrr"), expected), (actor.name, currency, month)
        start = sum(y.start_customers for y in years.values())
        kept = sum(y.retained_customers for y in years.values())
        assert close(value(board(session, actor, month), "retention"), kept / start * 100)


def test_clv_health_and_churn_risk_are_the_loyalty_dashboards(session: Session, rep: Actor) -> None:
    month = date(2025, 6, 1)
    day = loyalty_board.latest_day(session, as_of=month_end(month))
    assert day == DEMO_AS_OF
    for actor in (ADMIN, rep):
        at_risk = 0
        for currency in CURRENCIES:
            flt = retention.LoyaltyFilter(currency=currency)
            spread = loyalty_board.clv_distribution(session, actor=actor, flt=flt, day=day)
            result = board(session, actor, month, currency=currency)
            expected = float(spread.total) / spread.accounts if spread.accounts else None
            assert value(result, "average_clv") == pytest.approx(expected, abs=0.01)
            at_risk += loyalty_board.at_risk(session, actor=actor, flt=flt, day=day, limit=1).total
        bands = {
            band.value: health_queries.health_page(
                session,
                actor=actor,
                as_of=month_end(month),
                flt=health_queries.HealthFilter(band=band.value),
                limit=1,
            ).total
            for band in HealthBand
        }
        result = board(session, actor, month)
        assert close(value(result, "healthy_share"), bands["green"] / sum(bands.values()) * 100)
        assert value(result, "churn_risk") == at_risk
    # The months before the cycle's only run have no scores: nothing to average.
    earlier = board(session, ADMIN, date(2025, 5, 1))
    assert value(earlier, "average_clv") is None
    assert value(earlier, "churn_risk") is None  # no scores then: unknown, not zero


# ----------------------------------------------------------------------------- drills


def _drill_rows(session: Session, code: str, actor: Actor, month: date, **flt: str) -> list[dict]:
    query = drills.DrillQuery.of(
        actor,
        InsightFilter(**flt),
        Period.ending(month),
        month_end(month),  # type: ignore[arg-type]
    )
    return drills.all_rows(session, drills.get(code), query)


COUNTED = {
    "buyers": ("buyers_12m",),
    "lost_accounts": ("base_accounts", "-retained_accounts"),
    "expansions": ("expanded_accounts",),
    "health_red": ("health_red",),
    "churn_risk": ("churn_high",),
    "overdue_accounts": ("overdue_accounts",),
    "promises_resolved": ("promises_kept", "promises_broken"),
    "promises_kept": ("promises_kept",),
    "promises_broken": ("promises_broken",),
    "disputes": ("disputes_opened",),
}


@pytest.mark.parametrize("month", [date(2024, 12, 1), date(2025, 6, 1)])
def test_every_list_has_as_many_rows_as_its_figure_counts(
    session: Session, rep: Actor, month: date
) -> None:
    region = session.scalar(select(Customer.region).where(Customer.region.is_not(None)).limit(1))
    assert region
    for actor, flt in (
        (ADMIN, {}),
        (rep, {}),
        (ADMIN, {"region": region}),
        (ADMIN, {"tier": "key"}),
    ):
        totals = figures.read_totals(
            session, InsightFilter(**flt).checked().scoped(actor), month, month
        )[month].values
        for code, measures in COUNTED.items():
            expected = sum(-totals[m[1:]] if m.startswith("-") else totals[m] for m in measures)
            rows = _drill_rows(session, code, actor, month, **flt)
            assert len(rows) == expected, (code, actor.name, flt, month)


@pytest.mark.parametrize("month", [date(2024, 12, 1), date(2025, 6, 1)])
def test_the_money_lists_add_up_to_their_figures(session: Session, rep: Actor, month: date) -> None:
    collected = 0.0
    for actor in (ADMIN, rep):
        for currency in CURRENCIES:
            flt = InsightFilter(currency=currency)
            totals = figures.read_totals(session, flt.checked().scoped(actor), month, month)[
                month
            ].values

            def summed(
                code: str, key: str, currency: str = currency, actor: Actor = actor
            ) -> Decimal:
                rows = _drill_rows(session, code, actor, month, currency=currency)
                return sum((r[key] for r in rows if r[key] is not None), Decimal("0.00"))

            assert float(summed("receivables", "open")) == pytest.approx(totals["ar_total"])
            assert float(summed("receivables", "current")) == pytest.approx(totals["ar_current"])
            assert float(summed("payments", "amount")) == pytest.approx(totals["collected"])
            assert float(summed("base_accounts", "revenue_before")) == pytest.approx(
                totals["base_revenue"]
            )
            assert float(summed("base_accounts", "revenue_now")) == pytest.approx(
                totals["retained_revenue"]
            )
            clv = _drill_rows(session, "clv_accounts", actor, month, currency=currency)
            assert len(clv) == totals["clv_accounts"]
            collected += totals["collected"]
    assert collected > 0


def test_the_lists_come_most_important_first(session: Session) -> None:
    month = date(2025, 6, 1)
    overdue = _drill_rows(session, "overdue_accounts", ADMIN, month)
    amounts = [r["overdue"] for r in overdue if r["overdue"] is not None]
    assert amounts
    assert amounts == sorted(amounts, reverse=True)
    risky = _drill_rows(session, "churn_risk", ADMIN, month)
    risk_values = [float(r["clv"]) * r["churn_risk"] for r in risky if r["clv"] is not None]
    assert risk_values == sorted(risk_values, reverse=True)
    buyers = _drill_rows(session, "buyers", ADMIN, month)
    days = [r["purchase_days"] for r in buyers]
    assert days == sorted(days)


# ----------------------------------------------------------------------------- past days


def test_past_segments_and_grades_are_what_the_domains_give_for_that_day(
    session: Session,
) -> None:
    accounts = read_accounts(session)
    day = date(2025, 2, 28)
    frame = read_frame(session, as_of=day)
    expected_segments = segments.score_segments(frame).segment
    found = segments_at(session, accounts, day)
    existed = accounts.created_on <= np.datetime64(day)
    at = accounts.positions(frame.customer_id)
    assert list(found[at][existed[at]]) == list(expected_segments[existed[at]])
    assert set(found[~existed]) <= {UNSCORED}

    graded = credit.compute_scores(session, as_of=day)
    grades = grades_at(session, accounts, day)
    where = accounts.positions(graded.ledger.customers.id)
    assert list(grades[where][existed[where]]) == list(
        np.asarray(graded.grades, dtype=object)[existed[where]]
    )
    # The day the cycle ran: its stored rows.
    stored = credit.grades_of(session, as_of=DEMO_AS_OF)
    today = grades_at(session, accounts, DEMO_AS_OF)
    assert {int(i): g for i, g in zip(accounts.ids, today, strict=True) if g != UNSCORED} == stored


@pytest.mark.parametrize("day", [date(2024, 3, 31), date(2025, 2, 28), DEMO_AS_OF])
def test_a_wide_ledger_cut_at_a_day_is_that_days_read(session: Session, day: date) -> None:
    since = date(2024, 1, 1)
    wide = read_ledger(session, as_of=history.FAR_FUTURE, since=date(2023, 1, 1))
    cut = history.cut_ledger(wide, as_of=day, since=since)
    narrow = read_ledger(session, as_of=day, since=since)
    for part in ("installments", "allocations"):
        mine, theirs = getattr(cut, part), getattr(narrow, part)
        for field in dataclasses.fields(theirs):
            a, b = getattr(mine, field.name), getattr(theirs, field.name)
            if a.dtype.kind == "M":  # days: NaT compares unequal to itself
                a, b = a.astype("int64"), b.astype("int64")
            assert np.array_equal(a, b), (part, field.name)
    assert np.array_equal(cut.open_on(day), narrow.open_on(day))


@pytest.mark.parametrize("day", [date(2023, 12, 31), date(2024, 7, 15), DEMO_AS_OF])
def test_the_orders_cut_at_a_day_are_that_days_frame(session: Session, day: date) -> None:
    everything = read_frame(session, as_of=history.FAR_FUTURE)
    cut = history.cut_frame(everything, day)
    frame = read_frame(session, as_of=day)
    for field in dataclasses.fields(frame):
        mine, theirs = getattr(cut, field.name), getattr(frame, field.name)
        if isinstance(theirs, np.ndarray):
            assert np.array_equal(mine, theirs), field.name
        else:
            assert mine == theirs, field.name
