"""The weighted rows and the maximum-likelihood machinery behind the CLV models (``clv``):
input checks, collapsing customers who share (frequency, recency, T), and the optimiser."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd  # type: ignore[import-untyped]
from scipy import optimize  # type: ignore[import-untyped]

FloatArray = npt.NDArray[np.float64]


# Log-parameters are kept inside ±LOG_BOUND so that a runaway step cannot overflow exp().
LOG_BOUND = 25.0
# Tight enough that the fitted parameters reach the published CDNOW digits and two fits of the
# same data agree on the log-likelihood to ~1e-12 relative.
FIT_OPTIONS = {"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-8, "maxcor": 20}
ACCEPTED_GRADIENT = 1e-6
# Above this many distinct rows a fit starts from the optimum of a sample of about this size.
WARM_START_ROWS = 20_000
WARM_START_OPTIONS = {"maxiter": 500, "ftol": 1e-12, "gtol": 1e-7, "maxcor": 20}
NEWTON_STEPS = 30
DIFFERENCE_STEP = 1e-6  # in log-parameters, for central-difference gradients
HESSIAN_STEP = 1e-4


# ----------------------------------------------------------------------------- validation


def as_vector(name: str, values: npt.ArrayLike) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a one-dimensional array, got shape {array.shape}")
    bad = ~np.isfinite(array)
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name} holds {int(bad.sum())} missing or infinite values "
            f"(first at position {position})"
        )
    return array


def dot(a: FloatArray, b: FloatArray) -> float:
    # Not BLAS: a threaded ddot spins idle cores for vectors this size and is many times slower
    # on a busy machine.
    return float(np.einsum("i,i->", a, b))


def first_position(mask: npt.NDArray[np.bool_]) -> int:
    return int(np.flatnonzero(mask)[0])


def check_summary(
    frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The three arrays as float64 after checking that they describe customers; a ValueError
    names the first offending position otherwise."""
    x = as_vector("frequency", frequency)
    t_x = as_vector("recency", recency)
    age = as_vector("T", T)
    if not len(x) == len(t_x) == len(age):
        raise ValueError(
            f"frequency, recency and T must have the same length, got {len(x)}, {len(t_x)} "
            f"and {len(age)}"
        )
    if len(x) == 0:
        raise ValueError("no customers: frequency, recency and T are empty")
    for name, array in (("frequency", x), ("recency", t_x), ("T", age)):
        negative = array < 0
        if negative.any():
            position = first_position(negative)
            raise ValueError(
                f"{name} must not be negative: {int(negative.sum())} customers are "
                f"(first at position {position}: {array[position]:g})"
            )
    fractional = x != np.floor(x)
    if fractional.any():
        position = first_position(fractional)
        raise ValueError(
            f"frequency counts repeat purchases and must be a whole number "
            f"(position {position}: {x[position]:g})"
        )
    late = t_x > age
    if late.any():
        position = first_position(late)
        raise ValueError(
            f"recency must not exceed T: {int(late.sum())} customers bought after the end of "
            f"their observation (first at position {position}: recency {t_x[position]:g} > "
            f"T {age[position]:g})"
        )
    orphan = (x == 0) & (t_x > 0)
    if orphan.any():
        position = first_position(orphan)
        raise ValueError(
            f"recency must be 0 when frequency is 0: {int(orphan.sum())} customers have no "
            f"repeat purchase but a recency (first at position {position}: "
            f"recency {t_x[position]:g})"
        )
    return x, t_x, age


def check_weights(weights: npt.ArrayLike | None, n: int) -> FloatArray:
    if weights is None:
        return np.ones(n, dtype=np.float64)
    w = as_vector("weights", weights)
    if len(w) != n:
        raise ValueError(f"weights must have one value per customer ({n}), got {len(w)}")
    if (w < 0).any():
        raise ValueError(f"weights must not be negative (position {first_position(w < 0)})")
    if w.sum() <= 0:
        raise ValueError("weights must not all be 0")
    return w


# ----------------------------------------------------------------------------- collapsing


@dataclass(frozen=True)
class Collapsed:
    """The distinct (frequency, recency, T) rows with their summed weights; ``inverse`` maps
    every original customer to its row, so ``values[inverse]`` broadcasts a result back."""

    frequency: FloatArray
    recency: FloatArray
    T: FloatArray
    weights: FloatArray
    inverse: npt.NDArray[np.intp]

    def __len__(self) -> int:
        return len(self.frequency)

    def expand(self, values: FloatArray) -> FloatArray:
        return values[..., self.inverse]


def codes_of(values: npt.NDArray[Any]) -> tuple[npt.NDArray[np.intp], int]:
    # pandas hashes (O(n)) where np.unique sorts: about ten times faster on a million rows.
    codes, uniques = pd.factorize(values, sort=False)
    return np.asarray(codes, dtype=np.intp), len(uniques)


def group(*columns: npt.NDArray[Any]) -> tuple[npt.NDArray[np.intp], int]:
    """One code per distinct combination of the columns (in order of first appearance)."""
    codes, count = codes_of(columns[0])
    for column in columns[1:]:
        other, other_count = codes_of(column)
        codes, count = codes_of(codes.astype(np.int64) * other_count + other)
    return codes, count


def group_counts(counts: FloatArray, *columns: FloatArray) -> tuple[npt.NDArray[np.intp], int]:
    """``group`` when the first column holds whole numbers ≥ 0 (purchase counts): they serve
    as their own codes, and one hash of a combined key replaces the pairwise ones."""
    codes = [codes_of(column) for column in columns]
    size = float(counts.max()) + 1.0
    for _, count in codes:
        size *= count
    if size >= 2.0**62:
        return group(counts, *columns)
    key = counts.astype(np.int64)
    for column_codes, count in codes:
        key = key * count + column_codes
    return codes_of(key)


def sum_by(codes: npt.NDArray[Any], weights: npt.ArrayLike, count: int) -> FloatArray:
    return np.bincount(codes, weights=weights, minlength=count).astype(np.float64, copy=False)


def scatter(codes: npt.NDArray[np.intp], count: int, values: FloatArray) -> FloatArray:
    # Every member of a group holds the same value, so any write order gives the group's value.
    out = np.empty(count, dtype=np.float64)
    out[codes] = values
    return out


def collapse(
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    T: npt.ArrayLike,
    weights: npt.ArrayLike | None = None,
) -> Collapsed:
    """Validate the customers and merge those with the same (frequency, recency, T)."""
    x, t_x, age = check_summary(frequency, recency, T)
    w = check_weights(weights, len(x))
    codes, count = group_counts(x, t_x, age)
    return Collapsed(
        frequency=scatter(codes, count, x),
        recency=scatter(codes, count, t_x),
        T=scatter(codes, count, age),
        weights=sum_by(codes, w, count),
        inverse=codes,
    )


def systematic_sample(weights: FloatArray, size: int) -> FloatArray:
    """How many of about ``size`` customers drawn systematically by weight (every k-th unit of
    cumulative weight, rows in their given order) fall on each row: deterministic and close to
    proportional, so a heavy row keeps its share."""
    cumulative = np.cumsum(weights)
    step = cumulative[-1] / size
    return np.diff(np.floor(cumulative / step), prepend=0.0)


def sample_rows(rows: Collapsed, size: int) -> Collapsed:
    """About ``size`` customers of ``rows`` (see ``systematic_sample``)."""
    taken = systematic_sample(rows.weights, size)
    keep = taken > 0
    return Collapsed(
        frequency=rows.frequency[keep],
        recency=rows.recency[keep],
        T=rows.T[keep],
        weights=taken[keep],
        inverse=np.empty(0, dtype=np.intp),
    )


@dataclass(frozen=True)
class ByFrequency:
    """The distinct frequencies with their total weight: terms that depend on x alone are
    evaluated once per frequency, not once per row."""

    values: FloatArray
    weights: FloatArray

    @classmethod
    def of(cls, x: FloatArray, w: FloatArray) -> ByFrequency:
        codes, count = codes_of(x)
        return cls(scatter(codes, count, x), sum_by(codes, w, count))


@dataclass(frozen=True)
class Indexed:
    """A column as codes into its distinct values: a function of the column is evaluated once
    per distinct value and gathered (customers measured in whole days share few values)."""

    values: FloatArray
    codes: npt.NDArray[np.intp]

    @classmethod
    def of(cls, column: FloatArray) -> Indexed:
        codes, count = codes_of(column)
        return cls(scatter(codes, count, column), codes)


# ----------------------------------------------------------------------------- fitting


def maximise(
    objective: Callable[[FloatArray], Any],
    start: FloatArray,
    *,
    jac: bool | str,
    options: dict[str, Any] = FIT_OPTIONS,
) -> tuple[FloatArray, bool, int, str]:
    """Minimise ``objective`` (the mean negative log-likelihood) over log-parameters with
    L-BFGS-B; Nelder-Mead takes over when L-BFGS-B stops away from a flat point."""
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(start)
    with np.errstate(all="ignore"):
        result = optimize.minimize(
            objective, start, jac=jac, method="L-BFGS-B", bounds=bounds, options=options
        )
    best, iterations = np.asarray(result.x, dtype=np.float64), int(result.nit)
    gradient = np.asarray(getattr(result, "jac", np.full(len(start), np.inf)))
    # A line search that cannot improve any more at a point this flat is the optimum to the
    # precision of the arithmetic, not a failure.
    converged = bool(result.success) or (
        bool(np.isfinite(result.fun)) and float(np.max(np.abs(gradient))) < ACCEPTED_GRADIENT
    )
    if converged:
        return best, True, iterations, str(result.message)

    def value(theta: FloatArray) -> float:
        found = objective(theta)
        return float(found[0] if isinstance(found, tuple) else found)

    with np.errstate(all="ignore"):
        polish = optimize.minimize(
            value,
            best if np.isfinite(result.fun) else start,
            method="Nelder-Mead",
            options={"xatol": 1e-10, "fatol": 1e-15, "maxiter": 20000, "maxfev": 40000},
        )
    if not np.isfinite(result.fun) or polish.fun <= result.fun:
        best = np.asarray(polish.x, dtype=np.float64)
    return (
        best,
        bool(polish.success),
        iterations + int(polish.nit),
        f"Nelder-Mead: {polish.message}",
    )


def value_and_gradient(
    objective: Callable[[FloatArray], Any], theta: FloatArray, *, analytic: bool
) -> tuple[float, FloatArray]:
    if analytic:
        value, gradient = objective(theta)
        return float(value), np.asarray(gradient, dtype=np.float64)
    # Central differences, as in the fit itself.
    value = float(objective(theta))
    gradient = np.empty(len(theta))
    for index in range(len(theta)):
        step = np.zeros(len(theta))
        step[index] = DIFFERENCE_STEP
        gradient[index] = (objective(theta + step) - objective(theta - step)) / (
            2 * DIFFERENCE_STEP
        )
    return value, gradient


def estimate_hessian(
    objective: Callable[[FloatArray], Any], theta: FloatArray, *, analytic: bool
) -> FloatArray:
    """The Hessian by central differences of the gradient (of the value without one)."""
    size = len(theta)
    hessian = np.empty((size, size))
    step = HESSIAN_STEP
    with np.errstate(all="ignore"):
        if analytic:
            for index in range(size):
                shift = np.zeros(size)
                shift[index] = step
                hessian[:, index] = (
                    value_and_gradient(objective, theta + shift, analytic=True)[1]
                    - value_and_gradient(objective, theta - shift, analytic=True)[1]
                ) / (2 * step)
        else:
            centre = float(objective(theta))
            for i in range(size):
                for j in range(i, size):
                    e_i, e_j = np.zeros(size), np.zeros(size)
                    e_i[i], e_j[j] = step, step
                    if i == j:
                        hessian[i, i] = (
                            objective(theta + e_i) - 2 * centre + objective(theta - e_i)
                        ) / step**2
                    else:
                        hessian[i, j] = hessian[j, i] = (
                            objective(theta + e_i + e_j)
                            - objective(theta + e_i - e_j)
                            - objective(theta - e_i + e_j)
                            + objective(theta - e_i - e_j)
                        ) / (4 * step**2)
    return (hessian + hessian.T) / 2


def newton_steps(
    objective: Callable[[FloatArray], Any],
    theta: FloatArray,
    hessian: FloatArray,
    *,
    analytic: bool,
) -> tuple[FloatArray, bool, int]:
    """Newton steps with a fixed (approximate) Hessian and step halving; converged when the
    gradient of the mean negative log-likelihood is below the fit's tolerance."""
    try:
        np.linalg.cholesky(hessian)
    except np.linalg.LinAlgError:
        return theta, False, 0
    with np.errstate(all="ignore"):
        value, gradient = value_and_gradient(objective, theta, analytic=analytic)
        for iteration in range(1, NEWTON_STEPS + 1):
            if not np.isfinite(value):
                return theta, False, iteration
            if float(np.max(np.abs(gradient))) < FIT_OPTIONS["gtol"]:
                return theta, True, iteration
            step = np.linalg.solve(hessian, gradient)
            for _ in range(30):
                candidate = np.clip(theta - step, -LOG_BOUND, LOG_BOUND)
                new_value, new_gradient = value_and_gradient(
                    objective, candidate, analytic=analytic
                )
                if new_value <= value:
                    break
                step /= 2
            else:
                # No decrease: at the optimum to the precision of the arithmetic, or lost.
                converged = float(np.max(np.abs(gradient))) < ACCEPTED_GRADIENT
                return theta, converged, iteration
            theta, value, gradient = candidate, new_value, new_gradient
    return theta, False, NEWTON_STEPS


def optimise(
    full: Callable[[FloatArray], Any],
    start: FloatArray,
    *,
    jac: bool | str,
    on_sample: Callable[[FloatArray], Any] | None,
) -> tuple[FloatArray, bool, int, str]:
    """The maximum-likelihood log-parameters. With ``on_sample`` (the objective on a small
    sample of the data) most of the way is done on the sample, then Newton steps on every row
    with the sample's Hessian: the same optimum in a handful of full-size evaluations."""
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    # L-BFGS-B's BLAS calls on vectors of 3 or 4 numbers wake every BLAS thread: with them the
    # optimiser's own bookkeeping costs more than the likelihood (10× on a busy machine).
    with threadpool_limits(limits=1, user_api="blas"):
        if on_sample is None:
            return maximise(full, start, jac=jac)
        analytic = jac is True
        near, *_ = maximise(on_sample, start, jac=jac, options=WARM_START_OPTIONS)
        hessian = estimate_hessian(on_sample, near, analytic=analytic)
        theta, converged, iterations = newton_steps(full, near, hessian, analytic=analytic)
        if converged:
            return theta, True, iterations, "Newton steps from a sample's optimum"
        theta, converged, more, message = maximise(full, theta, jac=jac)
        return theta, converged, iterations + more, message


def size_penalty(log_params: FloatArray, penalizer: float) -> tuple[float, FloatArray]:
    """``penalizer · Σ params²`` on the mean negative log-likelihood, and its gradient in
    log-parameters (the convention of the ``lifetimes`` package)."""
    if penalizer == 0:
        return 0.0, np.zeros_like(log_params)
    params = np.exp(log_params)
    return penalizer * dot(params, params), 2.0 * penalizer * params * params
