"""Churn risk: the rules (1 − probability alive for transactional buyers, a renewal risk from
health for contract accounts, a prior for accounts without purchases) and a logistic churn
classifier kept as plain numbers. Pure: arrays in, arrays out.

Renewal risk (contract accounts)::

    odds = ODDS_AT_GREEN × RENEWAL_ODDS_PER_10 ^ ((GREEN_FROM − health) / 10) × contract_odds
    risk = odds / (1 + odds)

An account at the green threshold (health 70) has a 15 % renewal risk; every 10 points of
health less doubles the odds (health 40: 59 %, health 100: 2 %, health 0: 96 %).
``contract_odds`` multiplies in the contract's own signals (a renewal soon without a renewal
talk, a shrinking scope, …); it is 1 until contracts are recorded.

No history: an account that has not bought yet has no probability alive. Its risk is the
company's base rate, the mean risk of the transactional accounts that have bought
(``NO_HISTORY_FALLBACK`` when none has).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

GREEN_FROM = 70
RISK_AT_GREEN = 0.15
ODDS_AT_GREEN = RISK_AT_GREEN / (1.0 - RISK_AT_GREEN)
RENEWAL_ODDS_PER_10 = 2.0
NO_HISTORY_FALLBACK = 0.5

RENEWAL_FORMULA = (
    "renewal risk = odds / (1 + odds), odds = 0.176 × 2^((70 − health) / 10) × contract odds"
)
RULE_FORMULA = "churn risk = 1 − P(alive)"


def renewal_risk(health: npt.ArrayLike, contract_odds: npt.ArrayLike | None = None) -> FloatArray:
    """Renewal risk of contract accounts from their health (0–100); see the module's formula."""
    h = np.asarray(health, dtype=np.float64)
    log_odds = math.log(ODDS_AT_GREEN) + math.log(RENEWAL_ODDS_PER_10) * (GREEN_FROM - h) / 10.0
    if contract_odds is not None:
        log_odds = log_odds + np.log(np.asarray(contract_odds, dtype=np.float64))
    risk: FloatArray = 1.0 / (1.0 + np.exp(-log_odds))
    return risk


def alive_risk(p_alive: npt.ArrayLike) -> FloatArray:
    """1 − P(alive), clipped to 0 … 1 (NaN where the model has nothing to go on)."""
    risk: FloatArray = np.clip(1.0 - np.asarray(p_alive, dtype=np.float64), 0.0, 1.0)
    return risk


def base_rate(risk: FloatArray) -> float:
    """The no-history prior: the mean of the known risks, else ``NO_HISTORY_FALLBACK``."""
    known = risk[~np.isnan(risk)]
    return float(known.mean()) if known.size else NO_HISTORY_FALLBACK


@dataclass(frozen=True, slots=True)
class RuleRisk:
    risk: FloatArray
    basis: npt.NDArray[np.object_]  # "p_alive", "renewal" or "no_history"


def rule_risk(p_alive: FloatArray, health: npt.ArrayLike, contract: BoolArray) -> RuleRisk:
    """Every account's rule-based risk: renewal for contract accounts, 1 − P(alive) for
    transactional ones that have bought, the base rate for those that have not."""
    alive = alive_risk(p_alive)
    transactional = ~contract
    history = ~np.isnan(alive)
    prior = base_rate(alive[transactional & history])
    risk = np.where(contract, renewal_risk(health), np.where(history, alive, prior))
    basis = np.where(contract, "renewal", np.where(history, "p_alive", "no_history")).astype(object)
    return RuleRisk(risk=risk.astype(np.float64), basis=basis)


class ChurnLogistic:
    """Logistic regression on standardised features; fitted by scikit-learn, kept and applied
    as plain numbers (``to_params``/``from_params``) so no pickle is stored.

    NaN in a feature is replaced by the training mean before scaling."""

    def __init__(self, c: float = 1.0, max_iter: int = 1000) -> None:
        self.c = c
        self.max_iter = max_iter

    def fit(self, X: npt.ArrayLike, y: npt.ArrayLike, feature_names: Sequence[str]) -> Self:
        from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

        x = np.asarray(X, dtype=np.float64)
        target = np.asarray(y, dtype=np.int64)
        if x.ndim != 2 or x.shape[0] != target.shape[0] or x.shape[1] != len(feature_names):
            raise ValueError("X must be n × features with one label per row")
        if np.unique(target).size < 2:
            raise ValueError("a churn classifier needs lost and kept accounts")
        with np.errstate(invalid="ignore"):
            mean = np.nanmean(x, axis=0)
        mean = np.where(np.isnan(mean), 0.0, mean)
        filled = np.where(np.isnan(x), mean, x)
        scale = filled.std(axis=0)
        # A column constant in training (up to rounding) carries nothing: scale 1, not 1e-16.
        scale = np.where(scale > 1e-9 * (1.0 + np.abs(mean)), scale, 1.0)
        model = LogisticRegression(C=self.c, max_iter=self.max_iter)
        model.fit((filled - mean) / scale, target)
        self.feature_names_ = list(feature_names)
        self.mean_ = mean
        self.scale_ = scale
        self.coef_ = model.coef_[0].astype(np.float64)
        self.intercept_ = float(model.intercept_[0])
        p = np.clip(self.predict_proba(x), 1e-12, 1 - 1e-12)
        self.log_likelihood_ = float(np.sum(target * np.log(p) + (1 - target) * np.log1p(-p)))
        return self

    def predict_proba(self, X: npt.ArrayLike) -> FloatArray:
        """P(lost) of each row."""
        x = np.asarray(X, dtype=np.float64)
        filled = np.where(np.isnan(x), self.mean_, x)
        z = ((filled - self.mean_) / self.scale_) @ self.coef_ + self.intercept_
        p: FloatArray = 1.0 / (1.0 + np.exp(-np.clip(z, -500.0, 500.0)))
        return p

    def to_params(self) -> dict[str, Any]:
        return {
            "features": self.feature_names_,
            "mean": [float(v) for v in self.mean_],
            "scale": [float(v) for v in self.scale_],
            "coef": [float(v) for v in self.coef_],
            "intercept": self.intercept_,
        }

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> ChurnLogistic:
        model = cls()
        model.feature_names_ = [str(f) for f in params["features"]]
        model.mean_ = np.asarray(params["mean"], dtype=np.float64)
        model.scale_ = np.asarray(params["scale"], dtype=np.float64)
        model.coef_ = np.asarray(params["coef"], dtype=np.float64)
        model.intercept_ = float(params["intercept"])
        return model
