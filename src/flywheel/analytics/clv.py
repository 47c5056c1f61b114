"""Customer lifetime value for non-contractual buying: BG/NBD, Pareto/NBD and Gamma-Gamma.

Each customer is summarised by the usual triple, in model periods (days or weeks):

* ``frequency`` (x): repeat purchases, i.e. distinct purchase days after the first one;
* ``recency`` (t_x): time from the first purchase to the last one (0 when x = 0);
* ``T``: time from the first purchase to the end of the calibration period.

The purchase models (Fader, Hardie & Lee 2005 for BG/NBD; Schmittlein, Morrison & Colombo 1987
for Pareto/NBD) are fitted by maximum likelihood in log-parameter space, the spend model
(Fader & Hardie 2013, Gamma-Gamma) on the repeat customers' mean order value. Customers who share
a triple are one weighted row: a million customers measured in whole days or weeks collapse to
far fewer distinct rows, which is what makes fitting and predicting fast.

No session, no clock: arrays in, arrays out.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import numpy.typing as npt
from scipy import special  # type: ignore[import-untyped]

from flywheel.analytics import clv_fit
from flywheel.analytics.clv_fit import (
    ByFrequency,
    Collapsed,
    Indexed,
    as_vector,
    check_summary,
    check_weights,
    collapse,
    dot,
    first_position,
    group_counts,
    optimise,
    sample_rows,
    scatter,
    size_penalty,
    sum_by,
    systematic_sample,
)
from flywheel.analytics.clv_summary import CustomerSummary, summarise

__all__ = [
    "BetaGeo",
    "Collapsed",
    "CustomerSummary",
    "GammaGamma",
    "ParetoNBD",
    "check_summary",
    "clv",
    "collapse",
    "summarise",
]

FloatArray = npt.NDArray[np.float64]

A_NEAR_ONE = 1e-5  # BG/NBD's expected purchases are 0/0 at a = 1: taken from both sides


# ----------------------------------------------------------------------------- purchase models


class _PurchaseModel(ABC):
    """What BG/NBD and Pareto/NBD share: fitting on collapsed rows and broadcasting back."""

    PARAM_NAMES: tuple[str, ...] = ()

    params_: dict[str, float]
    log_likelihood_: float
    n_customers_: float
    n_rows_: int
    converged_: bool
    n_iterations_: int

    def __init__(self, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    # The subclasses supply these three.
    @abstractmethod
    def _prepare(self, rows: Collapsed) -> Any: ...

    @abstractmethod
    def _log_likelihood(
        self, params: FloatArray, data: Any, *, gradient: bool
    ) -> tuple[float, FloatArray | None]: ...

    @abstractmethod
    def _start(self, rows: Collapsed) -> FloatArray: ...

    # True: _log_likelihood returns the gradient; otherwise the finite-difference scheme.
    _gradient: bool | str = True
    # Whether p_alive is costly enough per row (2F1) to be worth collapsing the rows first.
    _collapse_p_alive = False

    def fit(
        self,
        frequency: npt.ArrayLike,
        recency: npt.ArrayLike,
        T: npt.ArrayLike,
        weights: npt.ArrayLike | None = None,
    ) -> Self:
        if self.penalizer < 0:
            raise ValueError(f"penalizer must not be negative, got {self.penalizer}")
        rows = collapse(frequency, recency, T, weights)
        start = np.log(self._start(rows))
        data = self._prepare(rows)
        total = float(rows.weights.sum())
        on_sample = None
        if len(rows) > clv_fit.WARM_START_ROWS:
            sample = sample_rows(rows, clv_fit.WARM_START_ROWS)
            on_sample = self._objective(self._prepare(sample), float(sample.weights.sum()))
        theta, converged, iterations, message = optimise(
            self._objective(data, total), start, jac=self._gradient, on_sample=on_sample
        )
        params = np.exp(theta)
        with np.errstate(all="ignore"):
            ll, _ = self._log_likelihood(params, data, gradient=False)
        self.params_ = dict(zip(self.PARAM_NAMES, (float(p) for p in params), strict=True))
        self.log_likelihood_ = float(ll)
        self.n_customers_ = total
        self.n_rows_ = len(rows)
        self.converged_ = converged
        self.n_iterations_ = iterations
        self.message_ = message
        return self

    def _objective(self, data: Any, total: float) -> Callable[[FloatArray], Any]:
        """The mean negative log-likelihood (plus penalty) in log-parameters, with its gradient
        when the model has an analytic one."""
        penalizer = self.penalizer
        analytic = self._gradient is True

        def objective(theta: FloatArray) -> tuple[float, FloatArray] | float:
            params = np.exp(theta)
            ll, grad = self._log_likelihood(params, data, gradient=analytic)
            penalty, penalty_grad = size_penalty(theta, penalizer)
            value = -ll / total + penalty
            if not np.isfinite(value):
                value = np.inf
            if grad is None:
                return float(value)
            # d/dθ = d/dparam · param for θ = log(param).
            return float(value), -grad * params / total + penalty_grad

        return objective

    def log_likelihood(
        self,
        frequency: npt.ArrayLike,
        recency: npt.ArrayLike,
        T: npt.ArrayLike,
        weights: npt.ArrayLike | None = None,
    ) -> float:
        """The full log-likelihood of the fitted (or given) parameters on these customers."""
        rows = collapse(frequency, recency, T, weights)
        with np.errstate(all="ignore"):
            ll, _ = self._log_likelihood(self._params(), self._prepare(rows), gradient=False)
        return float(ll)

    def with_params(self, **params: float) -> Self:
        """Set the parameters directly (e.g. published values) instead of fitting."""
        if set(params) != set(self.PARAM_NAMES):
            raise ValueError(f"expected the parameters {', '.join(self.PARAM_NAMES)}")
        if any(not np.isfinite(v) or v <= 0 for v in params.values()):
            raise ValueError("every parameter must be a positive number")
        self.params_ = {name: float(params[name]) for name in self.PARAM_NAMES}
        return self

    def _params(self) -> FloatArray:
        if not hasattr(self, "params_"):
            raise ValueError(f"{type(self).__name__} is not fitted yet: call fit() first")
        return np.array([self.params_[name] for name in self.PARAM_NAMES], dtype=np.float64)

    # Prediction on the distinct rows; ``t`` may be a column (months × rows) for CLV.
    @abstractmethod
    def _p_alive_rows(self, x: FloatArray, t_x: FloatArray, age: FloatArray) -> FloatArray: ...

    @abstractmethod
    def _expected_rows(
        self, t: FloatArray, x: FloatArray, t_x: FloatArray, age: FloatArray
    ) -> FloatArray: ...

    def p_alive(
        self, frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike
    ) -> FloatArray:
        """Probability that each customer is still active at the end of the observation."""
        self._params()
        if self._collapse_p_alive:
            rows = collapse(frequency, recency, T)
            with np.errstate(all="ignore"):
                return rows.expand(self._p_alive_rows(rows.frequency, rows.recency, rows.T))
        x, t_x, age = check_summary(frequency, recency, T)
        with np.errstate(all="ignore"):
            return self._p_alive_rows(x, t_x, age)

    def expected_purchases(
        self, t: float, frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike
    ) -> FloatArray:
        """Expected purchases of each customer in the next ``t`` periods, given its history."""
        self._params()
        horizon = _horizon(t)
        rows = collapse(frequency, recency, T)
        with np.errstate(all="ignore"):
            values = self._expected_rows(np.array([horizon]), rows.frequency, rows.recency, rows.T)
        return rows.expand(values)

    def expected_purchases_new(self, t: npt.ArrayLike) -> FloatArray:
        """Expected repeat purchases of a customer in its first ``t`` periods (unconditional:
        the calibration/holdout chart's model curve)."""
        self._params()
        times = np.asarray(t, dtype=np.float64)
        if not np.isfinite(times).all() or (times < 0).any():
            raise ValueError("t must be finite and not negative")
        with np.errstate(all="ignore"):
            return np.asarray(self._new_rows(times), dtype=np.float64)

    @abstractmethod
    def _new_rows(self, t: FloatArray) -> FloatArray: ...

    def _expected_cumulative(self, times: FloatArray, rows: Collapsed) -> FloatArray:
        """Expected purchases up to each of ``times`` (a column) for every distinct row."""
        with np.errstate(all="ignore"):
            return self._expected_rows(times[:, None], rows.frequency, rows.recency, rows.T)


def _horizon(t: float) -> float:
    horizon = float(t)
    if not np.isfinite(horizon) or horizon < 0:
        raise ValueError(f"the horizon t must be a finite number ≥ 0, got {t}")
    return horizon


def _softplus(values: FloatArray) -> FloatArray:
    return np.logaddexp(0.0, values)


# ----------------------------------------------------------------------------- BG/NBD


@dataclass(frozen=True)
class _BgnbdData:
    by_x: ByFrequency
    total: float
    # Rows without a repeat purchase contribute r·ln α − r·ln(α+T) (plus the x = 0 terms).
    zero_T: FloatArray
    zero_w: FloatArray
    # Rows with repeat purchases: the only ones with a "dropped out after the last purchase"
    # branch in the likelihood.
    x: FloatArray
    w: FloatArray
    wx: FloatArray  # w · x
    age: Indexed
    recency: Indexed
    frequency: Indexed


class BetaGeo(_PurchaseModel):
    """BG/NBD (Fader, Hardie & Lee 2005): purchases at a gamma-mixed Poisson rate λ ~ Γ(r, α);
    after each purchase the customer drops out with a beta-mixed probability p ~ B(a, b).

    ``params_`` holds ``r``, ``alpha``, ``a`` and ``b``; ``log_likelihood_`` the full
    log-likelihood (−9582.4 on the CDNOW sample in weeks).
    """

    PARAM_NAMES = ("r", "alpha", "a", "b")

    def _prepare(self, rows: Collapsed) -> _BgnbdData:
        repeat = rows.frequency > 0
        x = rows.frequency[repeat]
        w = rows.weights[repeat]
        return _BgnbdData(
            by_x=ByFrequency.of(rows.frequency, rows.weights),
            total=float(rows.weights.sum()),
            zero_T=rows.T[~repeat],
            zero_w=rows.weights[~repeat],
            x=x,
            w=w,
            wx=w * x,
            age=Indexed.of(rows.T[repeat]),
            recency=Indexed.of(rows.recency[repeat]),
            frequency=Indexed.of(x),
        )

    def _start(self, rows: Collapsed) -> FloatArray:
        w = rows.weights
        mean_T = max(dot(w, rows.T) / float(w.sum()), 1e-3)
        mean_x = max(dot(w, rows.frequency) / float(w.sum()), 1e-3)
        return np.array([1.0, mean_T / mean_x, 1.0, 1.0])

    def _log_likelihood(
        self, params: FloatArray, data: _BgnbdData, *, gradient: bool
    ) -> tuple[float, FloatArray | None]:
        r, alpha, a, b = (float(p) for p in params)
        ux, weight_x = data.by_x.values, data.by_x.weights
        gammaln, betaln = special.gammaln, special.betaln
        per_x = gammaln(r + ux) - gammaln(r) + betaln(a, b + ux) - betaln(a, b)
        log_alpha = np.log(alpha)
        zero_log_T = np.log(alpha + data.zero_T)
        ll = dot(weight_x, per_x) + data.total * r * log_alpha - r * dot(data.zero_w, zero_log_T)

        x, w, wx = data.x, data.w, data.wx
        log_T = np.log(alpha + data.age.values)[data.age.codes]
        log_t = np.log(alpha + data.recency.values)[data.recency.codes]
        ratio = log_T - log_t
        # D = ln[a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)], the odds of "dropped out after the last
        # purchase" against "still alive at T".
        r_x = x + r
        dropped = r_x * ratio
        dropped += (np.log(a) - np.log(b + data.frequency.values - 1.0))[data.frequency.codes]
        w_log_T = dot(w, log_T)
        ll += -r * w_log_T - dot(wx, log_T) + dot(w, _softplus(dropped))
        if not gradient:
            return ll, None

        digamma = special.digamma
        share = special.expit(dropped)
        share *= w  # w · P(dropped out | data)
        share_by_x = sum_by(data.frequency.codes, share, len(data.frequency.values))
        d_r = (
            dot(weight_x, digamma(r + ux) - digamma(r))
            + data.total * log_alpha
            - dot(data.zero_w, zero_log_T)
            - w_log_T
            + dot(share, ratio)
        )
        inv_T = (1.0 / (alpha + data.age.values))[data.age.codes]
        inv_t = (1.0 / (alpha + data.recency.values))[data.recency.codes]
        inv_t -= inv_T
        inv_t *= r_x
        d_alpha = (
            data.total * r / alpha
            - r * dot(data.zero_w, 1.0 / (alpha + data.zero_T))
            - r * dot(w, inv_T)
            - dot(wx, inv_T)
            - dot(share, inv_t)
        )
        psi_ab, psi_abx = digamma(a + b), digamma(a + b + ux)
        d_a = dot(weight_x, psi_ab - psi_abx) + float(share_by_x.sum()) / a
        d_b = dot(weight_x, digamma(b + ux) - psi_abx - digamma(b) + psi_ab) - dot(
            share_by_x, 1.0 / (b + data.frequency.values - 1.0)
        )
        return ll, np.array([d_r, d_alpha, d_a, d_b])

    def _p_alive_rows(self, x: FloatArray, t_x: FloatArray, age: FloatArray) -> FloatArray:
        r, alpha, a, b = self._params()
        repeat = x > 0
        dropped = (
            np.log(a)
            - np.log(np.where(repeat, b + x - 1.0, 1.0))
            + (r + x) * (np.log(alpha + age) - np.log(alpha + t_x))
        )
        return np.where(repeat, special.expit(-dropped), 1.0)

    def _expected_rows(
        self, t: FloatArray, x: FloatArray, t_x: FloatArray, age: FloatArray
    ) -> FloatArray:
        r, alpha, a, b = self._params()
        # The 2F1 term depends on (x, T) only: once per distinct pair.
        pairs, count = group_counts(x, age)
        pair_x, pair_T = scatter(pairs, count, x), scatter(pairs, count, age)
        scale = _bgnbd_growth(r, alpha, a, b, t, pair_x, pair_T)
        alive = self._p_alive_rows(x, t_x, age)
        return np.asarray(scale[..., pairs] * alive)

    def _new_rows(self, t: FloatArray) -> FloatArray:
        r, alpha, a, b = self._params()
        return _bgnbd_growth(r, alpha, a, b, t, np.zeros(1), np.zeros(1))


def _bgnbd_growth(
    r: float, alpha: float, a: float, b: float, t: FloatArray, x: FloatArray, age: FloatArray
) -> FloatArray:
    """Expected purchases in the next t periods of a customer alive at T with x repeats:
    (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x−1; t/(α+T+t))]."""
    if abs(a - 1.0) < A_NEAR_ONE:
        # 0/0 at a = 1; the expression is smooth in a, so the mean of both sides 10·δ away is
        # exact to ~1e-8 without cancelling more than a few digits.
        return (
            _bgnbd_growth(r, alpha, 1.0 + 10 * A_NEAR_ONE, b, t, x, age)
            + _bgnbd_growth(r, alpha, 1.0 - 10 * A_NEAR_ONE, b, t, x, age)
        ) / 2
    z = t / (alpha + age + t)
    # Euler's transformation of 2F1(r+x, b+x; a+b+x−1; z) · (1−z)^(r+x): the parameters of the
    # series stay small, so it neither overflows for frequent buyers nor loses digits.
    tail = np.exp((a - 1.0) * np.log1p(-z)) * special.hyp2f1(
        a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z
    )
    return np.asarray((a + b + x - 1.0) / (a - 1.0) * (1.0 - tail))


# ----------------------------------------------------------------------------- Pareto/NBD


@dataclass(frozen=True)
class _ParetoData:
    by_x: ByFrequency
    total: float
    x: FloatArray
    age: FloatArray
    w: FloatArray
    # The Gauss hypergeometric terms depend on (x, t_x) and on (x, T) only: they are evaluated
    # once per distinct pair, which is far fewer than the rows.
    pair_x: FloatArray
    pair_y: FloatArray
    pair_of_recency: npt.NDArray[np.intp]
    pair_of_age: npt.NDArray[np.intp]


def _pareto_log_h(
    r: float, alpha: float, s: float, beta: float, x: FloatArray, y: FloatArray
) -> FloatArray:
    """ln[2F1(r+s+x, ·; r+s+x+1; z(y)) / (max(α, β) + y)^(r+s+x)], the two terms of A₀, with the
    branch on α ≥ β that keeps z in [0, 1)."""
    rho = r + s + x
    if alpha >= beta:
        z = (alpha - beta) / (alpha + y)
        series = special.hyp2f1(rho, s + 1.0, rho + 1.0, z)
        base = alpha + y
    else:
        z = (beta - alpha) / (beta + y)
        series = special.hyp2f1(rho, r + x, rho + 1.0, z)
        base = beta + y
    return np.asarray(np.log(series) - rho * np.log(base))


def _pareto_log_a0(log_h_recency: FloatArray, log_h_age: FloatArray) -> FloatArray:
    """ln A₀ = ln[h(t_x) − h(T)], h decreasing, computed without cancellation; −∞ at t_x = T."""
    return np.asarray(log_h_recency + np.log1p(-np.exp(np.minimum(log_h_age - log_h_recency, 0))))


class ParetoNBD(_PurchaseModel):
    """Pareto/NBD (Schmittlein, Morrison & Colombo 1987): purchases at a gamma-mixed Poisson
    rate λ ~ Γ(r, α) while alive, an exponential lifetime with a gamma-mixed dropout rate
    μ ~ Γ(s, β).

    ``params_`` holds ``r``, ``alpha``, ``s`` and ``beta``; on the CDNOW sample in weeks the
    log-likelihood is −9595.0. The gradient is taken numerically (the derivatives of 2F1 in its
    parameters have no closed form).
    """

    PARAM_NAMES = ("r", "alpha", "s", "beta")
    # Central differences: forward ones stop short of the published fourth digit of β, along
    # which the likelihood is very flat.
    _gradient = "3-point"
    _collapse_p_alive = True

    def _prepare(self, rows: Collapsed) -> _ParetoData:
        n = len(rows)
        both_x = np.concatenate([rows.frequency, rows.frequency])
        both_y = np.concatenate([rows.recency, rows.T])
        codes, count = group_counts(both_x, both_y)
        return _ParetoData(
            by_x=ByFrequency.of(rows.frequency, rows.weights),
            total=float(rows.weights.sum()),
            x=rows.frequency,
            age=rows.T,
            w=rows.weights,
            pair_x=scatter(codes, count, both_x),
            pair_y=scatter(codes, count, both_y),
            pair_of_recency=codes[:n],
            pair_of_age=codes[n:],
        )

    def _start(self, rows: Collapsed) -> FloatArray:
        w = rows.weights
        mean_T = max(dot(w, rows.T) / float(w.sum()), 1e-3)
        mean_x = max(dot(w, rows.frequency) / float(w.sum()), 1e-3)
        return np.array([1.0, mean_T / mean_x, 1.0, mean_T])

    def _log_likelihood(
        self, params: FloatArray, data: _ParetoData, *, gradient: bool
    ) -> tuple[float, FloatArray | None]:
        r, alpha, s, beta = (float(p) for p in params)
        ux, wx_freq = data.by_x.values, data.by_x.weights
        per_x = special.gammaln(r + ux) - special.gammaln(r)
        ll = dot(wx_freq, per_x) + data.total * (r * np.log(alpha) + s * np.log(beta))
        log_h = _pareto_log_h(r, alpha, s, beta, data.pair_x, data.pair_y)
        log_a0 = _pareto_log_a0(log_h[data.pair_of_recency], log_h[data.pair_of_age])
        x = data.x
        alive_to_T = -(r + x) * np.log(alpha + data.age) - s * np.log(beta + data.age)
        left = np.log(s) - np.log(r + s + x) + log_a0
        ll += dot(data.w, np.logaddexp(alive_to_T, left))
        return ll, None

    def _p_alive_rows(self, x: FloatArray, t_x: FloatArray, age: FloatArray) -> FloatArray:
        r, alpha, s, beta = (float(p) for p in self._params())
        # The 2F1 terms once per distinct (x, t_x) or (x, T) pair.
        n = len(x)
        both_x, both_y = np.concatenate([x, x]), np.concatenate([t_x, age])
        pairs, count = group_counts(both_x, both_y)
        log_h = _pareto_log_h(
            r, alpha, s, beta, scatter(pairs, count, both_x), scatter(pairs, count, both_y)
        )
        log_a0 = _pareto_log_a0(log_h[pairs[:n]], log_h[pairs[n:]])
        odds_dead = (
            np.log(s)
            - np.log(r + s + x)
            + (r + x) * np.log(alpha + age)
            + s * np.log(beta + age)
            + log_a0
        )
        return np.asarray(special.expit(-odds_dead))

    def _expected_rows(
        self, t: FloatArray, x: FloatArray, t_x: FloatArray, age: FloatArray
    ) -> FloatArray:
        r, alpha, s, beta = (float(p) for p in self._params())
        alive = self._p_alive_rows(x, t_x, age)
        growth = np.log1p(t / (beta + age))
        return np.asarray(
            (r + x) * (beta + age) / (alpha + age) * _one_minus_power_over(s - 1.0, growth) * alive
        )

    def _new_rows(self, t: FloatArray) -> FloatArray:
        r, alpha, s, beta = (float(p) for p in self._params())
        return np.asarray(r * beta / alpha * _one_minus_power_over(s - 1.0, np.log1p(t / beta)))


def _one_minus_power_over(k: float, log_growth: FloatArray) -> FloatArray:
    """[1 − exp(−k·L)] / k, which tends to L as k → 0 (the Pareto/NBD's s = 1)."""
    if abs(k) < 1e-12:
        return np.asarray(log_growth)
    return np.asarray(-np.expm1(-k * log_growth) / k)


# ----------------------------------------------------------------------------- Gamma-Gamma


class _GammaGammaData:
    """The repeat customers' arrays, with what does not move with the parameters summed once."""

    def __init__(self, x: FloatArray, m: FloatArray, w: FloatArray) -> None:
        self.by_x = ByFrequency.of(x, w)
        self.w = w
        self.wx = w * x
        self.mx = m * x
        self.total = float(w.sum())
        # (p·x − 1)·ln m + p·x·ln x = p·Σ w·x·(ln m + ln x) − Σ w·ln m.
        self.constant_p = dot(self.wx, np.log(m) + np.log(x))
        self.constant = -dot(w, np.log(m))

    def log_likelihood(
        self, params: FloatArray, *, gradient: bool
    ) -> tuple[float, FloatArray | None]:
        p, q, v = (float(value) for value in params)
        ux, uw = self.by_x.values, self.by_x.weights
        gammaln = special.gammaln
        per_x = gammaln(p * ux + q) - gammaln(p * ux) - gammaln(q)
        spread = self.mx + v
        log_spread = np.log(spread)
        wx_log, w_log = dot(self.wx, log_spread), dot(self.w, log_spread)
        ll = (
            dot(uw, per_x)
            + self.total * q * np.log(v)
            + p * self.constant_p
            + self.constant
            - p * wx_log
            - q * w_log
        )
        if not gradient:
            return ll, None
        digamma = special.digamma
        psi_pxq = digamma(p * ux + q)
        d_p = dot(uw, ux * (psi_pxq - digamma(p * ux))) + self.constant_p - wx_log
        d_q = dot(uw, psi_pxq - digamma(q)) + self.total * np.log(v) - w_log
        np.reciprocal(spread, out=spread)
        d_v = self.total * q / v - p * dot(self.wx, spread) - q * dot(self.w, spread)
        return ll, np.array([d_p, d_q, d_v])


class GammaGamma:
    """Gamma-Gamma spend model (Fader & Hardie 2013): a customer's order values are gamma with
    shape p and a customer-level scale ν ~ Γ(q, γ); fitted on the repeat customers' mean order
    value. ``params_`` holds ``p``, ``q`` and ``v`` (the paper's γ, also ``gamma_``).

    Assumes spend and purchase frequency are independent (check the correlation first).
    """

    PARAM_NAMES = ("p", "q", "v")

    params_: dict[str, float]
    log_likelihood_: float
    n_customers_: float
    converged_: bool
    n_iterations_: int

    def __init__(self, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    @property
    def gamma_(self) -> float:
        return float(self._params()[2])

    @staticmethod
    def _check(
        frequency: npt.ArrayLike, monetary_value: npt.ArrayLike, *, fitting: bool
    ) -> tuple[FloatArray, FloatArray]:
        x = as_vector("frequency", frequency)
        m = as_vector("monetary_value", monetary_value)
        if len(x) != len(m):
            raise ValueError(
                f"frequency and monetary_value must have the same length, got {len(x)} and {len(m)}"
            )
        if len(x) == 0:
            raise ValueError("no customers: frequency and monetary_value are empty")
        if (x < 0).any() or (x != np.floor(x)).any():
            position = first_position((x < 0) | (x != np.floor(x)))
            raise ValueError(
                f"frequency must be a whole number ≥ 0 (position {position}: {x[position]:g})"
            )
        if fitting:
            if (x == 0).any():
                raise ValueError(
                    f"Gamma-Gamma is fitted on repeat customers only: {int((x == 0).sum())} "
                    f"customers have frequency 0 (first at position {first_position(x == 0)})"
                )
            if (m <= 0).any():
                position = first_position(m <= 0)
                raise ValueError(
                    f"monetary_value must be positive to fit Gamma-Gamma: "
                    f"{int((m <= 0).sum())} customers are not (first at position {position}: "
                    f"{m[position]:g})"
                )
        elif (m < 0).any():
            position = first_position(m < 0)
            raise ValueError(
                f"monetary_value must not be negative (position {position}: {m[position]:g})"
            )
        return x, m

    def fit(
        self,
        frequency: npt.ArrayLike,
        monetary_value: npt.ArrayLike,
        weights: npt.ArrayLike | None = None,
    ) -> Self:
        if self.penalizer < 0:
            raise ValueError(f"penalizer must not be negative, got {self.penalizer}")
        x, m = self._check(frequency, monetary_value, fitting=True)
        w = check_weights(weights, len(x))
        mean_m = dot(w, m) / float(w.sum())
        on_sample = None
        if len(x) > clv_fit.WARM_START_ROWS:
            taken = systematic_sample(w, clv_fit.WARM_START_ROWS)
            keep = taken > 0
            on_sample = self._objective(_GammaGammaData(x[keep], m[keep], taken[keep]))
        data = _GammaGammaData(x, m, w)
        theta, converged, iterations, message = optimise(
            self._objective(data),
            np.log(np.array([1.0, 2.0, mean_m])),
            jac=True,
            on_sample=on_sample,
        )
        params = np.exp(theta)
        self.params_ = dict(zip(self.PARAM_NAMES, (float(p) for p in params), strict=True))
        with np.errstate(all="ignore"):
            self.log_likelihood_ = float(data.log_likelihood(params, gradient=False)[0])
        self.n_customers_ = data.total
        self.converged_ = converged
        self.n_iterations_ = iterations
        self.message_ = message
        return self

    def log_likelihood(
        self,
        frequency: npt.ArrayLike,
        monetary_value: npt.ArrayLike,
        weights: npt.ArrayLike | None = None,
    ) -> float:
        """The full log-likelihood of the fitted (or given) parameters on these customers."""
        x, m = self._check(frequency, monetary_value, fitting=True)
        data = _GammaGammaData(x, m, check_weights(weights, len(x)))
        with np.errstate(all="ignore"):
            return float(data.log_likelihood(self._params(), gradient=False)[0])

    def _objective(self, data: _GammaGammaData) -> Callable[[FloatArray], tuple[float, FloatArray]]:
        penalizer = self.penalizer

        def objective(theta: FloatArray) -> tuple[float, FloatArray]:
            params = np.exp(theta)
            ll, grad = data.log_likelihood(params, gradient=True)
            assert grad is not None
            penalty, penalty_grad = size_penalty(theta, penalizer)
            value = -ll / data.total + penalty
            return (float(value) if np.isfinite(value) else np.inf), (
                -grad * params / data.total + penalty_grad
            )

        return objective

    def with_params(self, *, p: float, q: float, v: float) -> Self:
        """Set the parameters directly (e.g. published values) instead of fitting."""
        if any(not np.isfinite(value) or value <= 0 for value in (p, q, v)):
            raise ValueError("every parameter must be a positive number")
        self.params_ = {"p": float(p), "q": float(q), "v": float(v)}
        return self

    def _params(self) -> FloatArray:
        if not hasattr(self, "params_"):
            raise ValueError("GammaGamma is not fitted yet: call fit() first")
        return np.array([self.params_[name] for name in self.PARAM_NAMES], dtype=np.float64)

    def expected_order_value(
        self, frequency: npt.ArrayLike, monetary_value: npt.ArrayLike
    ) -> FloatArray:
        """E[order value | x, m_x]: a credibility-weighted mix of the population mean
        p·γ/(q−1) and the customer's own mean (the population mean when x = 0)."""
        p, q, v = self._params()
        x, m = self._check(frequency, monetary_value, fitting=False)
        return np.asarray(p * (v + x * m) / (p * x + q - 1.0))

    def population_mean_order_value(self) -> float:
        p, q, v = self._params()
        return float(p * v / (q - 1.0)) if q > 1 else float("inf")


# ----------------------------------------------------------------------------- CLV


def clv(
    purchases: BetaGeo | ParetoNBD,
    spend: GammaGamma,
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    T: npt.ArrayLike,
    monetary_value: npt.ArrayLike,
    *,
    months: int = 12,
    monthly_discount_rate: float = 0.01,
    periods_per_month: float = 30.0,
) -> FloatArray:
    """Discounted CLV over ``months``: Σₘ E[purchases in month m] · E[order value] / (1+d)^m.

    ``periods_per_month`` is a month in model periods (30 for days, 30/7 for weeks).
    """
    if months < 1:
        raise ValueError(f"months must be at least 1, got {months}")
    if not np.isfinite(monthly_discount_rate) or monthly_discount_rate <= -1:
        raise ValueError(f"the monthly discount rate must be > −1, got {monthly_discount_rate}")
    if not np.isfinite(periods_per_month) or periods_per_month <= 0:
        raise ValueError(f"periods_per_month must be positive, got {periods_per_month}")
    order_value = spend.expected_order_value(frequency, monetary_value)
    rows = collapse(frequency, recency, T)
    if len(order_value) != len(rows.inverse):
        raise ValueError("monetary_value must have one value per customer")
    purchases._params()
    times = periods_per_month * np.arange(months + 1, dtype=np.float64)
    cumulative = purchases._expected_cumulative(times, rows)
    per_month = np.diff(cumulative, axis=0)
    discount = (1.0 + monthly_discount_rate) ** -np.arange(1, months + 1, dtype=np.float64)
    return np.asarray(rows.expand(np.einsum("m,mn->n", discount, per_month)) * order_value)
