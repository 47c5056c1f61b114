"""Churn risk: the rule (1 − probability alive, the no-history prior, renewal risk for contract
tiers), an adopted classifier used in its place, and training that adopts the classifier only
when it beats the rule on the later window, or refuses when too few customers were lost."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.analytics import churn as maths
from flywheel.config import Settings
from flywheel.errors import NotEnoughData
from flywheel.loyalty import churn, health
from flywheel.loyalty.frame import read_frame
from flywheel.models.customers import Customer
from flywheel.models.enums import ChurnBasis, CustomerStatus, Tier
from flywheel.models.loyalty import LoyaltyModelFit
from tests.factories import make_customer
from tests.loyalty.factories import make_order
from tests.loyalty.health_world import clv_for, make_loop

AS_OF = date(2026, 6, 30)
SETTINGS = Settings()


def health_of(frame_len: int, score: int) -> health.HealthScores:
    n = frame_len
    return health.HealthScores(
        score=np.full(n, score, dtype=np.int64),
        band=np.full(n, "yellow", dtype=object),
        factor_names=["nps"],
        values=np.full((n, 1), np.nan),
        points=np.full((n, 1), 7.5),
        shares=np.full((n, 1), 0.5),
    )


def test_renewal_risk_doubles_its_odds_for_every_10_points_of_health_less() -> None:
    risk = maths.renewal_risk([70, 60, 40, 100, 0])

    odds = 0.15 / 0.85
    expected = [odds * 2**k / (1 + odds * 2**k) for k in (0, 1, 3, -3, 7)]
    assert risk.tolist() == pytest.approx(expected)
    assert risk[0] == pytest.approx(0.15)
    assert maths.renewal_risk([70], contract_odds=[3.0])[0] == pytest.approx(
        3 * odds / (1 + 3 * odds)
    )


def test_the_rule_by_kind_of_account(session: Session) -> None:
    buyer = make_customer(session, code="C-BUY")
    other = make_customer(session, code="C-OTHER")
    fresh = make_customer(session, code="C-NEW")
    key = make_customer(session, code="C-KEY", tier=Tier.KEY)
    for c in (buyer, other, key):
        make_order(session, customer=c, on=date(2026, 5, 1))
    frame = read_frame(session, as_of=AS_OF)
    clv = clv_for(frame, p_alive={buyer.id: 0.9, other.id: 0.5, key.id: 0.2})

    scores = churn.assess_churn(
        session, frame=frame, clv=clv, health=health_of(len(frame), 60), settings=SETTINGS
    )

    rows = frame.rows_of(np.asarray([buyer.id, other.id, fresh.id, key.id]))
    assert scores.risk[rows].tolist() == pytest.approx(
        [0.1, 0.5, 0.3, 2 * (0.15 / 0.85) / (1 + 2 * (0.15 / 0.85))]
    )  # the new account: the mean of 0.1 and 0.5; the key account: health 60
    assert scores.basis[rows].tolist() == [
        ChurnBasis.P_ALIVE,
        ChurnBasis.P_ALIVE,
        ChurnBasis.NO_HISTORY,
        ChurnBasis.RENEWAL,
    ]
    assert scores.model_fit_id is None


def test_nobody_has_bought_the_prior_is_one_half() -> None:
    rule = maths.rule_risk(np.asarray([np.nan, np.nan]), [50, 50], np.asarray([False, False]))

    assert rule.risk.tolist() == [0.5, 0.5]
    assert rule.basis.tolist() == ["no_history", "no_history"]


def _fit(session: Session, *, as_of: date, adopted: bool) -> LoyaltyModelFit:
    fit = LoyaltyModelFit(
        kind="churn",
        model="logistic",
        as_of=as_of,
        params={
            "features": ["rule_risk"],
            "mean": [0.0],
            "scale": [1.0],
            "coef": [2.0],
            "intercept": -1.0,
        },
        n_customers=100,
        diagnostics={},
        adopted=adopted,
    )
    session.add(fit)
    session.flush()
    return fit


def test_an_adopted_classifier_replaces_the_rule_for_transactional_buyers(
    session: Session,
) -> None:
    buyer = make_customer(session, code="C-BUY")
    fresh = make_customer(session, code="C-NEW")
    key = make_customer(session, code="C-KEY", tier=Tier.KEY)
    for c in (buyer, key):
        make_order(session, customer=c, on=date(2026, 5, 1))
    fit = _fit(session, as_of=date(2026, 6, 1), adopted=True)
    frame = read_frame(session, as_of=AS_OF)
    clv = clv_for(frame, p_alive={buyer.id: 0.75, key.id: 0.2})

    scores = churn.assess_churn(
        session, frame=frame, clv=clv, health=health_of(len(frame), 70), settings=SETTINGS
    )

    rows = frame.rows_of(np.asarray([buyer.id, fresh.id, key.id]))
    assert scores.risk[rows].tolist() == pytest.approx(
        [1 / (1 + math.exp(-(2 * 0.25 - 1))), 0.25, 0.15]
    )
    assert scores.basis[rows].tolist() == [
        ChurnBasis.CLASSIFIER,
        ChurnBasis.NO_HISTORY,
        ChurnBasis.RENEWAL,
    ]
    assert scores.model_fit_id == fit.id


def test_a_newer_check_that_failed_puts_the_rule_back(session: Session) -> None:
    buyer = make_customer(session, code="C-BUY")
    make_order(session, customer=buyer, on=date(2026, 5, 1))
    _fit(session, as_of=date(2026, 5, 1), adopted=True)
    _fit(session, as_of=date(2026, 6, 1), adopted=False)
    _fit(session, as_of=date(2026, 7, 1), adopted=True)  # after the day: not yet there
    frame = read_frame(session, as_of=AS_OF)
    clv = clv_for(frame, p_alive={buyer.id: 0.75})

    scores = churn.assess_churn(
        session, frame=frame, clv=clv, health=health_of(len(frame), 70), settings=SETTINGS
    )

    row = int(frame.rows_of(np.asarray([buyer.id]))[0])
    assert scores.basis[row] == ChurnBasis.P_ALIVE
    assert scores.risk[row] == pytest.approx(0.25)


# ---------------------------------------------------------------- training

TEST_CUTOFF = AS_OF - timedelta(days=churn.SPACING_DAYS)
TRAIN_CUTOFF = AS_OF - timedelta(days=2 * churn.SPACING_DAYS)
START = date(2024, 1, 5)


def _monthly(session: Session, customer: Customer, start: date, end: date) -> None:
    day = start
    while day <= end:
        make_order(session, customer=customer, on=day, amount="500.00")
        day += timedelta(days=30)


def _lost(session: Session, code: str) -> Customer:
    customer = make_customer(session, code=code, created_on=date(2023, 12, 1))
    customer.status = CustomerStatus.CHURNED.value
    return customer


def _company(session: Session, *, dormant_before_loss: bool, lost_each: int = 6) -> None:
    """Twelve accounts buying every 30 days to the end, and ``lost_each`` lost accounts per
    cutoff. Without ``dormant_before_loss`` a lost account bought exactly like the rest up to
    its cutoff and then never again, but had a follow-up open from 20 days before it (which
    only the health factors see); with it, it stopped buying 240 days before its cutoff (so
    probability alive sees it)."""
    for k in range(12):
        kept = make_customer(session, code=f"K{k:02d}", created_on=date(2023, 12, 1))
        _monthly(session, kept, START, AS_OF)
    for cutoff, prefix in ((TRAIN_CUTOFF, "LA"), (TEST_CUTOFF, "LB")):
        for k in range(lost_each):
            lost = _lost(session, f"{prefix}{k:02d}")
            if dormant_before_loss:
                _monthly(session, lost, START, cutoff - timedelta(days=240))
            else:
                _monthly(session, lost, START, cutoff)
                # Opened after the earlier cutoff, so only this one's cutoff sees it.
                make_loop(session, customer=lost, opened=cutoff - timedelta(days=20))
    session.flush()


def test_a_classifier_that_beats_the_rule_is_adopted(session: Session) -> None:
    _company(session, dormant_before_loss=False)

    fit = churn.train_churn(
        session, as_of=AS_OF, settings=SETTINGS, min_lost_train=5, min_lost_test=5
    )

    assert fit.kind == "churn"
    assert fit.model == "logistic"
    assert fit.as_of == AS_OF
    d = fit.diagnostics
    # At the earlier cutoff the later-lost accounts still buy: not lost yet.
    assert d["train"] == {"cutoff": TRAIN_CUTOFF.isoformat(), "accounts": 24, "lost": 6}
    assert d["test"] == {"cutoff": TEST_CUTOFF.isoformat(), "accounts": 24, "lost": 12}
    # The rule sees the six lost at the earlier cutoff (half a year without a purchase) but
    # cannot tell the six just lost from the rest: (6 × 12 + ½ × 6 × 12) / (12 × 12).
    assert d["auc_rule"] == 0.75
    assert d["auc_model"] == 1.0  # the open follow-up gives them away
    assert fit.adopted is True
    assert fit.params["features"] == list(churn.FEATURES)
    assert fit.n_customers == 48

    # The next day's risk comes from the classifier for transactional buyers.
    frame = read_frame(session, as_of=AS_OF)
    clv = clv_for(frame, p_alive=dict.fromkeys(frame.customer_id.tolist(), 0.9))
    scores = churn.assess_churn(
        session, frame=frame, clv=clv, health=health_of(len(frame), 70), settings=SETTINGS
    )
    assert set(scores.basis.tolist()) == {ChurnBasis.CLASSIFIER}
    assert scores.model_fit_id == fit.id


def test_a_classifier_that_does_not_beat_the_rule_is_kept_but_not_adopted(
    session: Session,
) -> None:
    _company(session, dormant_before_loss=True)

    fit = churn.train_churn(
        session, as_of=AS_OF, settings=SETTINGS, min_lost_train=5, min_lost_test=5
    )

    assert fit.diagnostics["auc_rule"] == 1.0  # probability alive ranks every lost one first
    assert fit.diagnostics["auc_model"] <= 1.0
    assert fit.adopted is False
    frame = read_frame(session, as_of=AS_OF)
    clv = clv_for(frame, p_alive=dict.fromkeys(frame.customer_id.tolist(), 0.9))
    scores = churn.assess_churn(
        session, frame=frame, clv=clv, health=health_of(len(frame), 70), settings=SETTINGS
    )
    assert set(scores.basis.tolist()) == {ChurnBasis.P_ALIVE}


def test_too_few_lost_customers_is_said_clearly_and_nothing_is_stored(session: Session) -> None:
    _company(session, dormant_before_loss=False, lost_each=2)

    with pytest.raises(NotEnoughData, match="too few lost customers") as raised:
        churn.train_churn(session, as_of=AS_OF, settings=SETTINGS)

    assert raised.value.details["lost"] == 2
    assert raised.value.details["needed"] == churn.MIN_LOST_TRAIN
    assert raised.value.details["window"] == "train"
    assert "1 − probability alive" in raised.value.message
    assert session.scalar(select(func.count()).select_from(LoyaltyModelFit)) == 0
