"""Customer lifetime value of every account: the purchase model (BG/NBD or Pareto/NBD) and the
spend model (Gamma-Gamma) fitted on the company's purchase days, then applied to each account."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from flywheel.analytics import clv as clv_models
from flywheel.config import Settings
from flywheel.loyalty.frame import LoyaltyFrame

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ClvScores:
    """Per account (frame rows), NaN where an account has no purchase to go on. Money is in
    the account's currency units (not cents)."""

    frequency: FloatArray  # repeat purchase days
    recency: FloatArray  # days from the first to the last purchase day
    age: FloatArray  # days from the first purchase day to as_of (the models' T)
    p_alive: FloatArray
    expected_90: FloatArray
    expected_365: FloatArray
    expected_order_value: FloatArray
    clv: FloatArray
    # Purchases a day the model expects of the account while it is alive: the "expected rate"
    # the health score's purchase-recency factor holds the days since the last purchase to.
    expected_rate: FloatArray
    model: str = "bgnbd"
    params: dict[str, float] = field(default_factory=dict)
    spend_params: dict[str, float] = field(default_factory=dict)
    log_likelihood: float | None = None
    diagnostics: dict[str, Any] = field(default_factory=dict)


# A purchase day is the unit of the purchase models: orders on the same day are one purchase.
DAYS_PER_MONTH = 365.25 / 12
HOLDOUT_DAYS = 182  # the calibration/holdout check predicts the last half-year from before it
MIN_SPEND_FIT = 20  # repeat buyers a currency needs for a spend model of its own
CHART_FREQUENCIES = 7  # the holdout chart's buckets: 0, 1, …, 6 and "7+" repeat purchase days


# A small company's history can leave the likelihood flat in a direction (r and α running off
# together): then the fit is repeated with this light penalty on the parameters' size.
FALLBACK_PENALIZER = 0.01
_PARAM_LIMIT = 1e6


def _purchase_model(name: str, penalizer: float = 0.0) -> clv_models.BetaGeo | clv_models.ParetoNBD:
    if name == "pareto":
        return clv_models.ParetoNBD(penalizer=penalizer)
    return clv_models.BetaGeo(penalizer=penalizer)


def fit_purchases(
    name: str, frequency: FloatArray, recency: FloatArray, age: FloatArray
) -> clv_models.BetaGeo | clv_models.ParetoNBD:
    """The purchase model fitted by maximum likelihood, or lightly penalised where the plain
    fit runs off to parameters too large to predict with."""
    model = _purchase_model(name).fit(frequency, recency, age)
    sane = all(np.isfinite(v) and v < _PARAM_LIMIT for v in model.params_.values())
    if sane:
        probe = model.expected_purchases(30.0, frequency[:1], recency[:1], age[:1])
        sane = bool(np.isfinite(probe).all())
    if not sane:
        model = _purchase_model(name, FALLBACK_PENALIZER).fit(frequency, recency, age)
    return model


def _summary(
    frame: LoyaltyFrame, end_day: int
) -> tuple[npt.NDArray[np.bool_], FloatArray, FloatArray, FloatArray, FloatArray]:
    """Frequency, recency, age and mean repeat order value of every account as of ``end_day``
    (purchase days after it left out), with the mask of accounts that had bought by then."""
    n = len(frame)
    kept = frame.day <= end_day
    who = frame.day_customer[kept]
    days = frame.day[kept]
    cents = frame.day_cents[kept].astype(np.float64)
    count = np.bincount(who, minlength=n)
    bought = count > 0
    starts = np.concatenate(([0], np.cumsum(count)))[:-1]
    first = np.zeros(n, dtype=np.int64)
    last = np.zeros(n, dtype=np.int64)
    first_cents = np.zeros(n)
    first[bought] = days[starts[bought]]
    last[bought] = days[starts[bought] + count[bought] - 1]
    first_cents[bought] = cents[starts[bought]]
    total = np.bincount(who, weights=cents, minlength=n)
    frequency = np.maximum(count - 1, 0).astype(np.float64)
    recency = (last - first).astype(np.float64)
    age = (end_day - first).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(frequency > 0, (total - first_cents) / 100.0 / frequency, 0.0)
    return bought, frequency, recency, age, monetary


def _holdout_chart(model_name: str, frame: LoyaltyFrame) -> dict[str, Any]:
    """Fit on the purchase days up to half a year before ``as_of`` and compare the predicted
    repeat purchase days of the last half-year with what happened, by calibration frequency."""
    end = frame.as_of_day - HOLDOUT_DAYS
    bought, frequency, recency, age, _ = _summary(frame, end)
    if int(bought.sum()) < 50 or not (frequency[bought] > 0).any():
        return {}
    model = fit_purchases(model_name, frequency[bought], recency[bought], age[bought])
    predicted = model.expected_purchases(
        HOLDOUT_DAYS, frequency[bought], recency[bought], age[bought]
    )
    after = frame.day > end
    actual_all = np.bincount(frame.day_customer[after], minlength=len(frame)).astype(np.float64)
    actual = actual_all[bought]
    bucket = np.minimum(frequency[bought], CHART_FREQUENCIES).astype(np.int64)
    counts = np.bincount(bucket, minlength=CHART_FREQUENCIES + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_actual = np.bincount(bucket, weights=actual, minlength=CHART_FREQUENCIES + 1) / counts
        mean_predicted = (
            np.bincount(bucket, weights=predicted, minlength=CHART_FREQUENCIES + 1) / counts
        )
    return {
        "calibration_end": (frame.as_of - timedelta(days=HOLDOUT_DAYS)).isoformat(),
        "holdout_days": HOLDOUT_DAYS,
        "customers": int(bought.sum()),
        "params": {k: round(v, 6) for k, v in model.params_.items()},
        "predicted_total": round(float(predicted.sum()), 1),
        "actual_total": round(float(actual.sum()), 1),
        "mae": round(float(np.abs(predicted - actual).mean()), 4),
        "by_frequency": [
            {
                "frequency": f"{k}+" if k == CHART_FREQUENCIES else str(k),
                "customers": int(counts[k]),
                "actual": None if counts[k] == 0 else round(float(mean_actual[k]), 4),
                "predicted": None if counts[k] == 0 else round(float(mean_predicted[k]), 4),
            }
            for k in range(CHART_FREQUENCIES + 1)
        ],
    }


def score_clv(frame: LoyaltyFrame, *, settings: Settings, holdout: bool = True) -> ClvScores:
    """Fit the purchase model on every account's purchase days up to ``as_of`` and the spend
    model per currency, then apply both to each account."""
    n = len(frame)
    nan = np.full(n, np.nan)
    bought, frequency, recency, age, monetary = _summary(frame, frame.as_of_day)
    if int(bought.sum()) < 2 or not (frequency[bought] > 0).any():
        return ClvScores(
            frequency=nan,
            recency=nan,
            age=nan,
            p_alive=nan,
            expected_90=nan,
            expected_365=nan,
            expected_order_value=nan,
            clv=nan,
            expected_rate=nan,
            model=settings.loyalty_clv_model,
        )
    x, t_x, big_t = frequency[bought], recency[bought], age[bought]
    model = fit_purchases(settings.loyalty_clv_model, x, t_x, big_t)
    p_alive, expected_90, expected_365, rate = nan.copy(), nan.copy(), nan.copy(), nan.copy()
    p_alive[bought] = model.p_alive(x, t_x, big_t)
    expected_90[bought] = model.expected_purchases(90, x, t_x, big_t)
    expected_365[bought] = model.expected_purchases(365, x, t_x, big_t)
    # The posterior mean purchase rate of an account while alive: (r + x) / (α + T).
    r, alpha = model.params_["r"], model.params_["alpha"]
    rate[bought] = (r + x) / (alpha + big_t)

    order_value, lifetime_value = nan.copy(), nan.copy()
    spend_params: dict[str, float] = {}
    monthly = (1.0 + settings.loyalty_discount_rate) ** (1 / 12) - 1.0
    for currency in sorted(set(frame.currency[bought].tolist())):
        rows = bought & (frame.currency == currency)
        repeat = rows & (frequency > 0)
        value = monetary[rows]
        if int(repeat.sum()) >= MIN_SPEND_FIT:
            spend = clv_models.GammaGamma().fit(frequency[repeat], monetary[repeat])
            order_value[rows] = spend.expected_order_value(frequency[rows], value)
            lifetime_value[rows] = clv_models.clv(
                model,
                spend,
                frequency[rows],
                recency[rows],
                age[rows],
                value,
                months=settings.loyalty_clv_months,
                monthly_discount_rate=monthly,
                periods_per_month=DAYS_PER_MONTH,
            )
            if currency == settings.base_currency or not spend_params:
                spend_params = {k: round(v, 6) for k, v in spend.params_.items()}
        else:
            # Too few repeat buyers to fit: each account's own mean order (first order for
            # one-time buyers) times its expected purchases.
            own = np.where(
                frequency[rows] > 0,
                value,
                frame.revenue_cents[rows] / 100.0 / np.maximum(frame.purchase_days[rows], 1),
            )
            order_value[rows] = own
            months = np.arange(1, settings.loyalty_clv_months + 1, dtype=np.float64)
            cumulative = np.stack(
                [
                    model.expected_purchases(
                        m * DAYS_PER_MONTH, frequency[rows], recency[rows], age[rows]
                    )
                    for m in np.concatenate(([0.0], months))
                ]
            )
            discount = (1.0 + monthly) ** -months
            lifetime_value[rows] = (discount @ np.diff(cumulative, axis=0)) * own
    return ClvScores(
        frequency=np.where(bought, frequency, np.nan),
        recency=np.where(bought, recency, np.nan),
        age=np.where(bought, age, np.nan),
        p_alive=p_alive,
        expected_90=expected_90,
        expected_365=expected_365,
        expected_order_value=order_value,
        clv=lifetime_value,
        expected_rate=rate,
        model=settings.loyalty_clv_model,
        params={k: round(v, 8) for k, v in model.params_.items()},
        spend_params=spend_params,
        log_likelihood=float(model.log_likelihood_),
        diagnostics=_holdout_chart(settings.loyalty_clv_model, frame) if holdout else {},
    )
