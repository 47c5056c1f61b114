"""The loyalty part of the daily cycle: one row per account and day, the fitted models, the
trend against a month earlier, and a rerun of the same day that replaces rather than adds."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.config import Settings
from flywheel.loyalty import cycle
from flywheel.models.customers import Customer
from flywheel.models.enums import ChurnBasis, OrderStatus, Segment, Trend
from flywheel.models.loyalty import LoyaltyModelFit, LoyaltyScore
from tests.factories import make_customer
from tests.loyalty.factories import make_loyalty_score, make_order

AS_OF = date(2026, 6, 30)


def _monthly(session: Session, customer: Customer, start: date, months: int) -> None:
    for k in range(months):
        make_order(session, customer=customer, on=start + timedelta(days=30 * k), amount="2000.00")


def _company(session: Session) -> dict[str, Customer]:
    steady = make_customer(session, code="STEADY")
    _monthly(session, steady, AS_OF - timedelta(days=30 * 23), 24)
    lapsed = make_customer(session, code="LAPSED")
    _monthly(session, lapsed, AS_OF - timedelta(days=30 * 24), 6)
    once = make_customer(session, code="ONCE")
    make_order(session, customer=once, on=AS_OF - timedelta(days=40), amount="500.00")
    make_order(session, customer=once, on=AS_OF - timedelta(days=20), status=OrderStatus.CANCELLED)
    never = make_customer(session, code="NEVER")
    # A handful of ordinary repeat buyers, so the models have a population to fit.
    for k in range(8):
        other = make_customer(session, code=f"OTHER{k}")
        _monthly(session, other, AS_OF - timedelta(days=300 + 20 * k), 3 + k)
    return {"steady": steady, "lapsed": lapsed, "once": once, "never": never}


def _row(session: Session, customer: Customer, day: date = AS_OF) -> LoyaltyScore:
    return session.execute(
        select(LoyaltyScore).where(
            LoyaltyScore.customer_id == customer.id, LoyaltyScore.as_of == day
        )
    ).scalar_one()


def test_every_account_gets_a_row_with_its_segment_clv_health_and_churn_risk(
    session: Session,
) -> None:
    accounts = _company(session)
    result = cycle.run(session, as_of=AS_OF, settings=Settings())

    assert result.customers == 12
    stored = session.scalar(
        select(func.count()).select_from(LoyaltyScore).where(LoyaltyScore.as_of == AS_OF)
    )
    assert stored == 12
    steady, lapsed = _row(session, accounts["steady"]), _row(session, accounts["lapsed"])
    once, never = _row(session, accounts["once"]), _row(session, accounts["never"])
    assert steady.orders == 24
    assert once.orders == 1
    assert once.last_order_on == AS_OF - timedelta(days=40)
    assert never.orders == 0
    assert never.segment == Segment.NO_PURCHASE.value
    assert never.p_alive is None
    assert never.clv is None
    assert steady.p_alive is not None
    assert lapsed.p_alive is not None
    assert steady.p_alive > lapsed.p_alive
    assert steady.clv is not None
    assert lapsed.clv is not None
    assert steady.clv > lapsed.clv
    assert steady.expected_purchases_365 is not None
    assert steady.expected_purchases_90 is not None
    assert steady.expected_purchases_365 > steady.expected_purchases_90 > 0
    assert steady.churn_risk < lapsed.churn_risk
    assert steady.churn_basis == ChurnBasis.P_ALIVE.value
    assert 0 <= never.health <= 100
    assert never.health_factors
    assert steady.health_trend == Trend.FLAT.value  # nothing stored a month earlier

    fits = session.scalars(select(LoyaltyModelFit).where(LoyaltyModelFit.as_of == AS_OF)).all()
    purchase = next(f for f in fits if f.kind == "purchase")
    assert purchase.model == "bgnbd"
    assert set(purchase.params) == {"r", "alpha", "a", "b"}
    assert purchase.log_likelihood is not None
    assert purchase.log_likelihood < 0


def test_running_the_same_day_again_replaces_the_day_and_the_trend_reads_a_month_earlier(
    session: Session,
) -> None:
    accounts = _company(session)
    earlier = AS_OF - timedelta(days=35)
    make_loyalty_score(session, customer=accounts["steady"], as_of=earlier, health=0)
    make_loyalty_score(session, customer=accounts["never"], as_of=earlier, health=100)

    cycle.run(session, as_of=AS_OF, settings=Settings())
    again = cycle.run(session, as_of=AS_OF, settings=Settings())

    assert again.customers == 12
    stored = session.scalar(
        select(func.count()).select_from(LoyaltyScore).where(LoyaltyScore.as_of == AS_OF)
    )
    assert stored == 12
    purchase_fits = session.scalar(
        select(func.count())
        .select_from(LoyaltyModelFit)
        .where(LoyaltyModelFit.as_of == AS_OF, LoyaltyModelFit.kind == "purchase")
    )
    assert purchase_fits == 1
    assert _row(session, accounts["steady"]).health_trend == Trend.UP.value
    assert _row(session, accounts["never"]).health_trend == Trend.DOWN.value
    assert _row(session, accounts["lapsed"]).health_trend == Trend.FLAT.value


def test_trends_need_five_points_either_way() -> None:
    import numpy as np

    current = np.array([50, 50, 50, 50, 50])
    previous = np.array([-1, 45, 46, 55, 54])
    assert cycle.trends_of(current, previous).tolist() == ["flat", "up", "flat", "down", "flat"]
