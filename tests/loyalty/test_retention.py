"""Repeat purchase, cohort retention and NRR/GRR: the maths on arrays, and the service on a
small hand-made order history, in the actor's scope and by filter.

The history (CNY, all delivered), with as_of 31 March 2026:

    P (rep's, 华东, key):   Jan 1,000 · Feb 1,500 · Mar 1,500
    Q (rep's, 华南):        Jan 2,000 · Feb 1,000
    R (rival's, 华东):      Jan 500 · Mar 700
    S (rival's):            Feb 800 · Mar 800
    U (rival's):            Mar 1,000
    X (USD, rival's):       Jan 9,999 · Feb 9,999 (another currency: never mixed in)

NRR/GRR of February (against January): start = P 1,000 + Q 2,000 + R 500 = 3,500; P grew by
500, Q shrank by 1,000, R bought nothing (churn 500); S is new (800).
NRR = (3,500 + 500 − 1,000 − 500) / 3,500 = 0.714286, GRR = (3,500 − 1,000 − 500) / 3,500
= 0.571429. March (against February): start = P 1,500 + Q 1,000 + S 800 = 3,300; Q churned
(1,000); NRR = GRR = 2,300 / 3,300 = 0.69697; new: R 700 + U 1,000.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pytest
from sqlalchemy.orm import Session

from flywheel.analytics import retention as maths
from flywheel.auth.actor import Actor
from flywheel.errors import ValidationFailed
from flywheel.loyalty import retention
from flywheel.loyalty.frame import read_frame
from tests.loyalty.retention_world import build

AS_OF = date(2026, 3, 31)
ADMIN = Actor.system("tests")


def frame_of(session: Session, actor: Actor = ADMIN, **filters: str) -> retention.LoyaltyFrame:
    flt = retention.LoyaltyFilter(**filters)  # type: ignore[arg-type]
    return retention.scoped_frame(session, actor=actor, flt=flt, as_of=AS_OF)


# ---------------------------------------------------------------- the maths


def test_repeat_purchase_counts_purchase_days() -> None:
    figures = maths.repeat_purchase([0, 1, 2, 5, 1])

    assert (figures.buyers, figures.repeat_buyers, figures.rate) == (4, 2, 0.5)
    assert maths.repeat_purchase([0, 0]).rate is None


def test_quarterly_and_yearly_nrr_on_arrays() -> None:
    """Account 0: Q4 2025 1,000 → Q1 2026 1,200 (expansion 200); account 1: Q4 2025 600 →
    nothing (churn 600); account 2: Q1 2026 300 (new). Start 1,600: NRR 1,200 / 1,600 = 0.75,
    GRR 1,000 / 1,600 = 0.625."""
    day = maths.day_of
    rows = [0, 0, 1, 2]
    days = [
        day(date(2025, 11, 3)),
        day(date(2026, 2, 3)),
        day(date(2025, 12, 31)),
        day(date(2026, 1, 1)),
    ]
    cents = [100000, 120000, 60000, 30000]

    quarters = maths.net_retention(
        day_account=rows,
        day=days,
        day_cents=cents,
        n_accounts=3,
        as_of=date(2026, 3, 31),
        period="quarter",
        periods=2,
    )

    assert [maths.period_label(q.index, "quarter") for q in quarters] == ["2025-Q4", "2026-Q1"]
    q1 = quarters[-1]
    assert (q1.start_cents, q1.expansion_cents, q1.contraction_cents, q1.churn_cents) == (
        160000,
        20000,
        0,
        60000,
    )
    assert q1.new_cents == 30000
    assert (q1.nrr, q1.grr) == (0.75, 0.625)
    assert quarters[0].nrr is None  # nobody bought in Q3 2025
    # 30 March: the first quarter of 2026 is not whole yet, so the last is 2025-Q4.
    early = maths.net_retention(
        day_account=rows,
        day=days,
        day_cents=cents,
        n_accounts=3,
        as_of=date(2026, 3, 30),
        period="quarter",
        periods=1,
    )
    assert maths.period_label(early[0].index, "quarter") == "2025-Q4"
    years = maths.net_retention(
        day_account=rows,
        day=days,
        day_cents=cents,
        n_accounts=3,
        as_of=date(2026, 12, 31),
        period="year",
        periods=1,
    )
    assert maths.period_label(years[0].index, "year") == "2026"
    assert (years[0].start_cents, years[0].end_cents) == (160000, 120000)


def test_period_bounds_and_labels() -> None:
    index = maths.last_whole_period(date(2026, 6, 30), "quarter")

    assert maths.period_bounds(index, "quarter") == (date(2026, 4, 1), date(2026, 6, 30))
    assert maths.period_label(index, "quarter") == "2026-Q2"
    assert maths.period_label(maths.month_of(date(2026, 2, 1)), "month") == "2026-02"
    with pytest.raises(ValueError, match="period must be one of"):
        maths.check_period("week")


# ---------------------------------------------------------------- the service


def test_repeat_purchase_rate_of_the_base_currency(session: Session) -> None:
    build(session)

    figures = retention.repeat_figures(frame_of(session))

    # P, Q, R, S bought on two days or more; U once; X is in USD and not counted.
    assert (figures.buyers, figures.repeat_buyers, figures.rate) == (5, 4, 0.8)


def test_cohort_retention_by_first_purchase_month(session: Session) -> None:
    build(session)

    rows = retention.cohort_rows(frame_of(session), months=3)

    assert [(r.month, r.size) for r in rows] == [("2026-01", 3), ("2026-02", 1), ("2026-03", 1)]
    january, february, march = rows
    assert january.customers == [3, 2, 2]  # P Q R; P Q; P R
    assert january.revenue == [Decimal("3500.00"), Decimal("2500.00"), Decimal("2200.00")]
    assert january.customer_retention == [1.0, pytest.approx(2 / 3), pytest.approx(2 / 3)]
    assert january.revenue_retention == [
        1.0,
        pytest.approx(2500 / 3500),
        pytest.approx(2200 / 3500),
    ]
    assert february.customers == [1, 1, None]  # March of February's cohort is its month 1
    assert february.revenue_retention == [1.0, 1.0, None]
    assert march.customers == [1, None, None]


def test_nrr_and_grr_per_month(session: Session) -> None:
    build(session)

    series = retention.net_retention(frame_of(session), period="month", periods=3)

    assert [p.period for p in series] == ["2026-01", "2026-02", "2026-03"]
    january, february, march = series
    assert january.start_revenue == Decimal("0.00")
    assert (january.nrr, january.grr) == (None, None)
    assert february.start_customers == 3
    assert february.retained_customers == 2
    assert (
        february.start_revenue,
        february.expansion,
        february.contraction,
        february.churn,
        february.end_revenue,
        february.new_revenue,
    ) == (
        Decimal("3500.00"),
        Decimal("500.00"),
        Decimal("1000.00"),
        Decimal("500.00"),
        Decimal("2500.00"),
        Decimal("800.00"),
    )
    assert february.nrr == pytest.approx(2500 / 3500)
    assert february.grr == pytest.approx(2000 / 3500)
    assert (march.start_revenue, march.churn, march.new_revenue) == (
        Decimal("3300.00"),
        Decimal("1000.00"),
        Decimal("1700.00"),
    )
    assert march.nrr == march.grr == pytest.approx(2300 / 3300)
    assert (march.start, march.end) == (date(2026, 3, 1), date(2026, 3, 31))


def test_only_whole_periods_count(session: Session) -> None:
    build(session)
    flt = retention.LoyaltyFilter()

    frame = retention.scoped_frame(session, actor=ADMIN, flt=flt, as_of=date(2026, 3, 30))
    series = retention.net_retention(frame, period="month", periods=1)

    assert [p.period for p in series] == ["2026-02"]


def test_a_sales_rep_sees_only_his_accounts(session: Session) -> None:
    history = build(session)
    rep = Actor.for_user(history.rep)

    frame = frame_of(session, rep)
    february = retention.net_retention(frame, period="month", periods=2)[0]

    assert sorted(frame.customer_id.tolist()) == sorted(
        [history.accounts["P"].id, history.accounts["Q"].id]
    )
    # P 1,000 → 1,500 and Q 2,000 → 1,000: start 3,000, NRR 2,500 / 3,000, GRR 2,000 / 3,000.
    assert february.start_revenue == Decimal("3000.00")
    assert february.nrr == pytest.approx(2500 / 3000)
    assert february.grr == pytest.approx(2000 / 3000)
    # Asking for the rival's accounts does not widen his scope.
    assert len(frame_of(session, rep, owner="ly.rival")) == 0


def test_filters_by_owner_region_tier_and_currency(session: Session) -> None:
    history = build(session)
    ids = {c.id: key for key, c in history.accounts.items()}

    def keys(**filters: str) -> list[str]:
        return sorted(ids[i] for i in frame_of(session, **filters).customer_id.tolist())

    assert keys(owner="ly.rival") == ["R", "S", "U"]
    assert keys(region="华东") == ["P", "R"]
    assert keys(tier="key") == ["P"]
    assert keys(currency="usd") == ["X"]
    usd = retention.net_retention(frame_of(session, currency="USD"), period="month", periods=2)
    assert (usd[0].period, usd[0].nrr, usd[1].nrr) == ("2026-02", 1.0, 0.0)


def test_an_empty_company_has_no_figures(session: Session) -> None:
    frame = frame_of(session, owner="nobody-at-all")

    assert retention.repeat_figures(frame).rate is None
    assert retention.cohort_rows(frame) == []
    assert all(p.nrr is None for p in retention.net_retention(frame, period="year"))


def test_bad_input_is_refused(session: Session) -> None:
    frame = frame_of(session)

    with pytest.raises(ValidationFailed, match="period must be one of"):
        retention.net_retention(frame, period="week")
    with pytest.raises(ValidationFailed, match="periods must be"):
        retention.net_retention(frame, period="month", periods=0)
    with pytest.raises(ValidationFailed, match="tier must be one of"):
        retention.LoyaltyFilter(tier="gold").checked()
    with pytest.raises(ValidationFailed, match="three letters"):
        retention.LoyaltyFilter(currency="EURO").checked()
    with pytest.raises(ValidationFailed, match="as_of"):
        retention.scoped_frame(
            session, actor=ADMIN, flt=retention.LoyaltyFilter(), as_of=date(1800, 1, 1)
        )
    with pytest.raises(ValidationFailed, match="months"):
        retention.cohort_rows(frame, months=0)


def test_restrict_keeps_the_purchase_days_of_the_rows_kept(session: Session) -> None:
    build(session)
    full = read_frame(session, as_of=AS_OF)
    keep = np.zeros(len(full), dtype=bool)
    keep[-2:] = True

    part = retention.restrict(full, keep)

    assert part.customer_id.tolist() == full.customer_id[-2:].tolist()
    assert part.day_start.tolist()[-1] == len(part.day)
    assert part.day_customer.max() == 1
    assert part.day_cents.sum() == full.revenue_cents[-2:].sum()


def test_the_scoped_read_equals_the_full_read_restricted(session: Session) -> None:
    history = build(session)
    rep = Actor.for_user(history.rep)
    full = read_frame(session, as_of=AS_OF)
    mine = np.isin(full.customer_id, [history.accounts["P"].id, history.accounts["Q"].id])

    scoped = retention.read_scoped_frame(
        session,
        as_of=AS_OF,
        customers=retention.account_clauses(rep, retention.LoyaltyFilter().checked()),
    )
    restricted = retention.restrict(full, mine)

    for name in ("customer_id", "day_start", "day_customer", "day", "day_cents", "orders"):
        assert getattr(scoped, name).tolist() == getattr(restricted, name).tolist(), name
    assert scoped.first_day.tolist() == restricted.first_day.tolist()
    assert scoped.revenue_cents.tolist() == [400000, 300000]


@pytest.mark.parametrize("share", [0.0, 1.1])
def test_both_ways_of_reading_give_the_same_figures(
    session: Session, monkeypatch: pytest.MonkeyPatch, share: float
) -> None:
    """Every order read and the rest dropped (share 0), or the orders narrowed in SQL (1.1)."""
    build(session)
    monkeypatch.setattr(retention, "FULL_READ_SHARE", share)

    frame = frame_of(session, region="华东")
    february = retention.net_retention(frame, period="month", periods=2)[0]

    assert len(frame) == 2  # P and R
    assert (february.start_revenue, february.nrr, february.grr) == (
        Decimal("1500.00"),
        1.0,
        pytest.approx(1000 / 1500),
    )
