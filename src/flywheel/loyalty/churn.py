"""Every account's churn risk for a day, and the churn classifier trained on the accounts the
company marked as lost, adopted only when it beats the rule on an out-of-time check.

Risk by basis (``ChurnBasis``):

* ``p_alive``: a transactional account that has bought: 1 − P(alive) from the CLV model.
* ``no_history``: a transactional account without a purchase: the company's base rate (the
  mean of the ``p_alive`` risks; 0.5 when nobody has bought).
* ``renewal``: an account of a contract tier (``settings.loyalty_contract_tiers``): renewal
  risk from its health (``analytics.churn.RENEWAL_FORMULA``).
* ``classifier``: the newest churn model (``LoyaltyModelFit`` kind "churn") on or before the
  day, if it was adopted, replaces ``p_alive`` for the transactional accounts that have bought.

The classifier (``train_churn``). A lost account is one whose status is "churned" (the
table keeps no date of the marking). At a cutoff day ``c`` the population is every
transactional account that had bought by ``c``; an account counts as lost at ``c`` when it is
marked lost now and bought nothing after ``c`` — its last purchase was already behind it, which
is what 1 − P(alive) estimates too. Features are measured as of ``c`` only: purchase history
cut at ``c``, the CLV model refitted on it, and the health factors read as of ``c``. The check
trains on the cutoff ``as_of − 2 × SPACING_DAYS`` and tests on ``as_of − SPACING_DAYS`` (so the
company had half a year after it to see and mark its losses), reporting the AUC of the model
and of the rule (1 − P(alive) as of that cutoff) on the same accounts. The model kept is
refitted on both windows; it is adopted only if its AUC beats the rule's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.analytics import churn as maths
from flywheel.analytics import health as health_maths
from flywheel.analytics.classification import auc
from flywheel.config import Settings, get_settings
from flywheel.errors import NotEnoughData
from flywheel.loyalty import health as health_scores
from flywheel.loyalty.frame import NO_DAY, LoyaltyFrame, read_frame
from flywheel.loyalty.health import HealthScores
from flywheel.loyalty.lifetime import ClvScores
from flywheel.models.enums import ChurnBasis, CustomerStatus
from flywheel.models.loyalty import LoyaltyModelFit

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

SPACING_DAYS = 182  # between the two cutoffs, and from the later one to as_of
MIN_LOST_TRAIN = 20  # lost accounts the training window needs
MIN_LOST_TEST = 10  # and the test window
KIND = "churn"
MODEL = "logistic"

PURCHASE_FEATURES: tuple[str, ...] = (
    "rule_risk",
    "log_days_since_last",
    "log_purchase_days",
    "log_age_days",
    "log_revenue_12m",
    "missed_purchases",
)
FEATURES: tuple[str, ...] = PURCHASE_FEATURES + tuple(f"health_{f}" for f in health_maths.FACTORS)

# Plain strings (the enum's values): a driver may write an Enum member by its name.
_BASIS = {
    "p_alive": ChurnBasis.P_ALIVE.value,
    "renewal": ChurnBasis.RENEWAL.value,
    "no_history": ChurnBasis.NO_HISTORY.value,
}


@dataclass(frozen=True)
class ChurnScores:
    risk: FloatArray  # 0 … 1
    basis: npt.NDArray[np.object_]  # ChurnBasis values, as plain strings
    model_fit_id: int | None = None  # the adopted classifier, when one was used


def contract_accounts(frame: LoyaltyFrame, settings: Settings) -> BoolArray:
    tiers = list(settings.loyalty_contract_tiers)
    return np.isin(frame.tier.astype(str), tiers) if tiers else np.zeros(len(frame), dtype=bool)


# ---------------------------------------------------------------- features


def features(frame: LoyaltyFrame, clv: ClvScores, shares: dict[str, FloatArray]) -> FloatArray:
    """The classifier's features (``FEATURES``) of every account as of ``frame.as_of``;
    ``shares`` holds each health factor's share (missing factors count as neutral)."""
    n = len(frame)
    bought = frame.last_day != NO_DAY
    gap = np.where(bought, frame.as_of_day - frame.last_day, np.nan).astype(np.float64)
    age = np.where(bought, frame.as_of_day - frame.first_day, np.nan).astype(np.float64)
    revenue = frame.revenue_between(frame.as_of_day - 364, frame.as_of_day) / 100.0
    columns = [
        maths.alive_risk(clv.p_alive),
        np.log1p(gap),
        np.log1p(frame.purchase_days.astype(np.float64)),
        np.log1p(age),
        np.log1p(np.maximum(revenue, 0.0)),
        np.clip(gap * clv.expected_rate, 0.0, 20.0),
    ]
    neutral = np.full(n, health_maths.NEUTRAL_SHARE)
    columns += [shares.get(f, neutral) for f in health_maths.FACTORS]
    return np.column_stack(columns).astype(np.float64)


def shares_of(health: HealthScores) -> dict[str, FloatArray]:
    return {name: health.shares[:, k] for k, name in enumerate(health.factor_names)}


# ---------------------------------------------------------------- the daily risk


def latest_fit(session: Session, *, as_of: date) -> LoyaltyModelFit | None:
    """The newest churn model checked on or before ``as_of`` (adopted or not)."""
    return session.scalar(
        select(LoyaltyModelFit)
        .where(LoyaltyModelFit.kind == KIND, LoyaltyModelFit.as_of <= as_of)
        .order_by(LoyaltyModelFit.as_of.desc(), LoyaltyModelFit.id.desc())
        .limit(1)
    )


def assess_churn(
    session: Session,
    *,
    frame: LoyaltyFrame,
    clv: ClvScores,
    health: HealthScores,
    settings: Settings,
) -> ChurnScores:
    """Every account's churn risk for ``frame.as_of`` and where it came from."""
    contract = contract_accounts(frame, settings)
    rule = maths.rule_risk(clv.p_alive, health.score, contract)
    risk = rule.risk.copy()
    basis = np.asarray([_BASIS[b] for b in rule.basis.tolist()], dtype=object)
    fit = latest_fit(session, as_of=frame.as_of)
    if fit is None or not fit.adopted:
        return ChurnScores(risk=risk, basis=basis)
    model = maths.ChurnLogistic.from_params(fit.params)
    rows = (~contract) & ~np.isnan(clv.p_alive)
    if rows.any():
        x = features(frame, clv, shares_of(health))
        # A model trained on other features than these is used by name (missing: neutral).
        x = _columns_for(x, model.feature_names_)
        risk[rows] = model.predict_proba(x[rows])
        basis[rows] = ChurnBasis.CLASSIFIER.value
    return ChurnScores(risk=risk, basis=basis, model_fit_id=fit.id)


def _columns_for(x: FloatArray, names: list[str]) -> FloatArray:
    index = {f: k for k, f in enumerate(FEATURES)}
    return np.column_stack(
        [x[:, index[f]] if f in index else np.full(len(x), np.nan) for f in names]
    ).astype(np.float64)


# ---------------------------------------------------------------- training


def frame_until(frame: LoyaltyFrame, day: date) -> LoyaltyFrame:
    """``frame`` as it was on ``day``: purchase days after it left out (the accounts stay)."""
    end = (day - date(1970, 1, 1)).days
    kept = frame.day <= end
    who = frame.day_customer[kept]
    n = len(frame)
    purchase_days = np.bincount(who, minlength=n).astype(np.int64)
    start = np.concatenate(([0], np.cumsum(purchase_days))).astype(np.int64)
    day_numbers = frame.day[kept]
    bought = purchase_days > 0
    first = np.full(n, NO_DAY, dtype=np.int64)
    last = np.full(n, NO_DAY, dtype=np.int64)
    first[bought] = day_numbers[start[:-1][bought]]
    last[bought] = day_numbers[start[1:][bought] - 1]
    orders = frame.day_orders[kept]
    cents = frame.day_cents[kept]
    return LoyaltyFrame(
        as_of=day,
        as_of_day=end,
        customer_id=frame.customer_id,
        tier=frame.tier,
        owner_id=frame.owner_id,
        region=frame.region,
        currency=frame.currency,
        status=frame.status,
        created_day=frame.created_day,
        day_start=start,
        day_customer=who,
        day=day_numbers,
        day_cents=cents,
        day_orders=orders,
        orders=np.bincount(who, weights=orders, minlength=n).astype(np.int64),
        purchase_days=purchase_days,
        first_day=first,
        last_day=last,
        revenue_cents=np.bincount(who, weights=cents, minlength=n).astype(np.int64),
    )


@dataclass(frozen=True)
class _Window:
    cutoff: date
    rows: BoolArray  # the accounts in the window's population
    x: FloatArray
    y: npt.NDArray[np.int64]
    rule: FloatArray  # 1 − P(alive) as of the cutoff


def _window(
    session: Session,
    frame: LoyaltyFrame,
    *,
    cutoff: date,
    lost_day: FloatArray,
    contract: BoolArray,
    settings: Settings,
) -> _Window:
    from flywheel.loyalty.lifetime import score_clv

    then = frame_until(frame, cutoff)
    clv = score_clv(then, settings=settings, holdout=False)
    # Every factor is read for the features, whatever its weight in the score.
    every = settings.model_copy(
        update={"loyalty_health_weights": dict.fromkeys(health_maths.FACTORS, 1.0)}
    )
    inputs, _seconds = health_scores.read_inputs(session, frame=then, clv=clv, settings=every)
    shares = {
        name: np.where(np.isnan(share), health_maths.NEUTRAL_SHARE, share)
        for name, (_value, share) in health_maths.factor_shares(inputs).items()
    }
    end = then.as_of_day
    rows = (~contract) & (then.last_day != NO_DAY) & ~np.isnan(clv.p_alive)
    x = features(then, clv, shares)
    y = (lost_day <= end).astype(np.int64)
    return _Window(
        cutoff=cutoff,
        rows=rows,
        x=x[rows],
        y=y[rows],
        rule=maths.alive_risk(clv.p_alive)[rows],
    )


def _counts(window: _Window) -> dict[str, Any]:
    return {
        "cutoff": window.cutoff.isoformat(),
        "accounts": int(window.rows.sum()),
        "lost": int(window.y.sum()),
    }


def train_churn(
    session: Session,
    *,
    as_of: date,
    settings: Settings | None = None,
    frame: LoyaltyFrame | None = None,
    min_lost_train: int = MIN_LOST_TRAIN,
    min_lost_test: int = MIN_LOST_TEST,
) -> LoyaltyModelFit:
    """Train and check the churn classifier as of ``as_of`` and store it (``adopted`` when
    its out-of-time AUC beats the rule's). ``NotEnoughData`` when either window has too few
    lost (or kept) accounts; then nothing is stored and the rule stays."""
    settings = settings or get_settings()
    clock = time.perf_counter()
    frame = frame if frame is not None else read_frame(session, as_of=as_of)
    contract = contract_accounts(frame, settings)
    lost = (frame.status.astype(str) == CustomerStatus.CHURNED.value) & (frame.last_day != NO_DAY)
    lost_day = np.where(lost, frame.last_day, np.inf).astype(np.float64)
    later = _window(
        session,
        frame,
        cutoff=as_of - timedelta(days=SPACING_DAYS),
        lost_day=lost_day,
        contract=contract,
        settings=settings,
    )
    earlier = _window(
        session,
        frame,
        cutoff=as_of - timedelta(days=2 * SPACING_DAYS),
        lost_day=lost_day,
        contract=contract,
        settings=settings,
    )
    windows = {"train": _counts(earlier), "test": _counts(later)}
    for name, window, needed in (
        ("train", earlier, min_lost_train),
        ("test", later, min_lost_test),
    ):
        lost_n = int(window.y.sum())
        kept_n = int(window.y.size - lost_n)
        if lost_n < needed or kept_n < needed:
            raise NotEnoughData(
                f"too few lost customers to train a churn model: the {name} window "
                f"(cutoff {window.cutoff}) has {lost_n} lost "
                f"and {kept_n} kept transactional accounts; it needs {needed} of each. "
                "Churn risk stays 1 − probability alive.",
                window=name,
                lost=lost_n,
                kept=kept_n,
                needed=needed,
                windows=windows,
            )
    checked = maths.ChurnLogistic().fit(earlier.x, earlier.y, FEATURES)
    auc_model = auc(later.y, checked.predict_proba(later.x))
    auc_rule = auc(later.y, later.rule)
    final = maths.ChurnLogistic().fit(
        np.vstack([earlier.x, later.x]), np.concatenate([earlier.y, later.y]), FEATURES
    )
    adopted = bool(auc_model > auc_rule)
    fit = LoyaltyModelFit(
        kind=KIND,
        model=MODEL,
        as_of=as_of,
        params=final.to_params(),
        log_likelihood=final.log_likelihood_,
        n_customers=int(earlier.y.size + later.y.size),
        diagnostics={
            "auc_model": round(auc_model, 4),
            "auc_rule": round(auc_rule, 4),
            "adopted_because": "model AUC > rule AUC" if adopted else "rule AUC ≥ model AUC",
            "spacing_days": SPACING_DAYS,
            "lost": "status churned, no purchase after the cutoff",
            **windows,
            "seconds": round(time.perf_counter() - clock, 3),
        },
        adopted=adopted,
    )
    session.add(fit)
    session.flush()
    return fit
