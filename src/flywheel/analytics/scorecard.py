"""The trained credit scorecard: monotonic optimal binning, weight of evidence, logistic
regression and points scaling, with per-factor explanations.

The binning and WOE come from ``optbinning`` (``BinningProcess``); the logistic regression from
scikit-learn; the points scaling is ours so that its convention is explicit:

* the target ``y`` is 1 for the event (a bad outcome: default, 90 days past due) and 0 otherwise;
* WOE of a bin = ln(share of all non-events in the bin / share of all events in the bin), so a
  positive WOE marks a safer-than-average bin (optbinning's convention);
* odds are good:bad, i.e. (1 − p) / p with p = P(event); the score is
  ``offset + factor · ln(odds)`` with ``factor = pdo / ln 2`` and
  ``offset = base_points − factor · ln(base_odds)``: by default 600 points at odds 50:1 and
  20 more points each time the odds double. A higher score is a safer customer;
* with n variables the intercept is shared evenly, so the points of variable j for a row are
  ``offset / n − factor · (intercept / n + coef_j · WOE_j)`` and the points of a row's factors
  add up to its score exactly.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Self

import numpy as np
import numpy.typing as npt
import pandas as pd  # type: ignore[import-untyped]

from flywheel.analytics.classification import auc, ks, population_stability_index

__all__ = [
    "CreditScorecard",
    "points_scaling",
    "score_from_odds",
    "weight_of_evidence",
]

Float64Array = npt.NDArray[np.float64]

TABLE_COLUMNS = (
    "variable",
    "bin",
    "count",
    "count_share",
    "event_count",
    "non_event_count",
    "event_rate",
    "woe",
    "iv",
    "coefficient",
    "points",
)


def points_scaling(
    base_points: float = 600.0, base_odds: float = 50.0, pdo: float = 20.0
) -> tuple[float, float]:
    """``(offset, factor)`` of the linear map score = offset + factor · ln(good:bad odds)."""
    if base_odds <= 0 or pdo <= 0:
        raise ValueError("base_odds and pdo must be positive")
    factor = pdo / math.log(2.0)
    return base_points - factor * math.log(base_odds), factor


def score_from_odds(
    odds: npt.ArrayLike, *, base_points: float = 600.0, base_odds: float = 50.0, pdo: float = 20.0
) -> Float64Array:
    """The score of good:bad ``odds`` under the scaling (600 at 50:1, +20 per doubling)."""
    offset, factor = points_scaling(base_points, base_odds, pdo)
    return np.asarray(offset + factor * np.log(np.asarray(odds, dtype=np.float64)))


def weight_of_evidence(event_count: npt.ArrayLike, non_event_count: npt.ArrayLike) -> Float64Array:
    """WOE of each bin from its event and non-event counts:
    ln((non_event_i / Σ non_event) / (event_i / Σ event)); 0 for a bin without events or without
    non-events (as optbinning does), so that the value stays finite."""
    events = np.asarray(event_count, dtype=np.float64)
    non_events = np.asarray(non_event_count, dtype=np.float64)
    defined = (events > 0) & (non_events > 0)
    ratio = np.divide(
        non_events / non_events.sum() * events.sum(),
        events,
        out=np.ones_like(events),
        where=defined,
    )
    return np.asarray(np.log(ratio), dtype=np.float64)


def _bin_label(value: Any) -> str:
    # optbinning gives a categorical bin as an array of its categories.
    if isinstance(value, str) or not hasattr(value, "__iter__"):
        return str(value)
    return " | ".join(str(each) for each in value)


class CreditScorecard:
    """Binning + WOE + logistic regression scorecard, scikit-learn style.

    Numeric columns get an optimal binning with a monotonic event-rate trend
    (``monotonic_trend``; "auto_asc_desc" lets each variable pick ascending or descending);
    other columns (text, category, boolean-as-text) are categorical. Missing values get a
    bin of their own (its WOE is learnt when the training data has missing values, else 0);
    so do categories not seen in training. ``min_iv`` drops variables with a lower information
    value; ``regularization`` is the C of the logistic regression.

    Use: ``score(X)`` points (higher is safer), ``predict_proba(X)`` P(event),
    ``explain(X)`` points per factor (rows add up to the score; ``relative=True`` measures them
    from the training average), ``bins(X)`` the bin label behind each factor's points,
    ``validate(X, y)`` AUC / KS / Gini / PSI.

    Fitted attributes: ``variables_``, ``categorical_variables_``, ``selected_variables_``
    (those kept by ``min_iv``, the columns of ``explain``), ``binning_process_``,
    ``estimator_``, ``coefficients_`` (variable → coefficient), ``intercept_``, ``offset_``,
    ``factor_``, ``table_`` (the scorecard table: variable, bin, count, count_share,
    event_count, non_event_count, event_rate, woe, iv, coefficient, points),
    ``train_scores_`` (scores of the training rows, the reference for PSI), ``neutral_points_``
    (the score of a row whose every WOE is 0, i.e. at the average of the training data).
    """

    def __init__(
        self,
        *,
        base_points: float = 600.0,
        base_odds: float = 50.0,
        pdo: float = 20.0,
        monotonic_trend: str = "auto_asc_desc",
        categorical_variables: list[str] | None = None,
        max_n_prebins: int = 20,
        min_prebin_size: float = 0.05,
        max_n_bins: int | None = None,
        min_iv: float | None = None,
        regularization: float = 1.0,
        max_iter: int = 1000,
    ) -> None:
        self.base_points = base_points
        self.base_odds = base_odds
        self.pdo = pdo
        self.monotonic_trend = monotonic_trend
        self.categorical_variables = categorical_variables
        self.max_n_prebins = max_n_prebins
        self.min_prebin_size = min_prebin_size
        self.max_n_bins = max_n_bins
        self.min_iv = min_iv
        self.regularization = regularization
        self.max_iter = max_iter

    # ------------------------------------------------------------------------------ fitting

    def _prepared(self, X: pd.DataFrame) -> pd.DataFrame:
        """The model's columns, numeric as float64 and categorical as object (NaN = missing)."""
        missing = [name for name in self.variables_ if name not in X.columns]
        if missing:
            raise ValueError(f"missing columns: {', '.join(missing)}")
        frame = pd.DataFrame(index=range(len(X)))
        for name in self.variables_:
            column = X[name].reset_index(drop=True)
            if name in self.categorical_variables_:
                text = column.astype("string")
                frame[name] = text.astype(object).where(text.notna(), np.nan)
            else:
                frame[name] = pd.to_numeric(column, errors="raise").astype(np.float64)
        return frame

    def fit(self, X: pd.DataFrame, y: npt.ArrayLike) -> Self:
        from optbinning import BinningProcess  # type: ignore[import-untyped]
        from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

        target = np.asarray(y)
        if target.ndim != 1 or len(target) != len(X):
            raise ValueError("y must be 1-d with one value per row of X")
        if not np.isin(target, (0, 1)).all():
            raise ValueError("y must hold only 0 and 1")
        target = target.astype(np.int64)
        if target.min() == target.max():
            raise ValueError("y holds a single class; a scorecard needs events and non-events")
        if X.shape[1] == 0:
            raise ValueError("X has no columns")

        declared = set(self.categorical_variables or [])
        self.variables_ = [str(name) for name in X.columns]
        self.categorical_variables_ = [
            name
            for name in self.variables_
            if name in declared
            or not (pd.api.types.is_numeric_dtype(X[name]) or pd.api.types.is_bool_dtype(X[name]))
        ]
        frame = self._prepared(X)

        numeric = [n for n in self.variables_ if n not in self.categorical_variables_]
        selection = {"iv": {"min": self.min_iv}} if self.min_iv is not None else None
        process = BinningProcess(
            self.variables_,
            categorical_variables=self.categorical_variables_ or None,
            max_n_prebins=self.max_n_prebins,
            min_prebin_size=self.min_prebin_size,
            max_n_bins=self.max_n_bins,
            selection_criteria=selection,
            binning_fit_params={
                name: {"monotonic_trend": self.monotonic_trend} for name in numeric
            },
        )
        with warnings.catch_warnings():
            # optbinning's own binning tables trip a pandas deprecation notice; nothing of ours.
            warnings.filterwarnings("ignore", message="Setting an item of incompatible dtype")
            process.fit(frame, target)
        selected = [str(name) for name in process.get_support(names=True)]
        if not selected:
            raise ValueError("no variable passed the selection (min_iv)")
        self.binning_process_ = process
        self.selected_variables_ = selected
        woe = self._woe(frame)

        estimator = LogisticRegression(C=self.regularization, max_iter=self.max_iter)
        estimator.fit(woe, target)
        self.estimator_ = estimator
        self.coefficients_ = {
            name: float(c) for name, c in zip(selected, estimator.coef_[0], strict=True)
        }
        self.intercept_ = float(estimator.intercept_[0])
        self.offset_, self.factor_ = points_scaling(self.base_points, self.base_odds, self.pdo)
        self.neutral_points_ = self.offset_ - self.factor_ * self.intercept_
        self.table_ = self._build_table()
        self.train_scores_ = self._points(woe).sum(axis=1)
        return self

    def _woe(self, frame: pd.DataFrame) -> Float64Array:
        transformed = self.binning_process_.transform(
            frame, metric="woe", metric_missing="empirical", metric_special="empirical"
        )
        return np.asarray(transformed[self.selected_variables_], dtype=np.float64)

    def _points(self, woe: Float64Array) -> Float64Array:
        n = len(self.selected_variables_)
        coef = np.array([self.coefficients_[name] for name in self.selected_variables_])
        shared = self.offset_ / n - self.factor_ * self.intercept_ / n
        return np.asarray(shared - self.factor_ * woe * coef[None, :])

    def _build_table(self) -> pd.DataFrame:
        n = len(self.selected_variables_)
        shared = self.offset_ / n - self.factor_ * self.intercept_ / n
        parts = []
        for name in self.selected_variables_:
            binned = self.binning_process_.get_binned_variable(name)
            built = binned.binning_table.build(add_totals=False)
            coefficient = self.coefficients_[name]
            woe = built["WoE"].astype(np.float64).to_numpy()
            parts.append(
                pd.DataFrame(
                    {
                        "variable": name,
                        "bin": [_bin_label(value) for value in built["Bin"]],
                        "count": built["Count"].astype(np.int64).to_numpy(),
                        "count_share": built["Count (%)"].astype(np.float64).to_numpy(),
                        "event_count": built["Event"].astype(np.int64).to_numpy(),
                        "non_event_count": built["Non-event"].astype(np.int64).to_numpy(),
                        "event_rate": built["Event rate"].astype(np.float64).to_numpy(),
                        "woe": woe,
                        "iv": built["IV"].astype(np.float64).to_numpy(),
                        "coefficient": coefficient,
                        "points": shared - self.factor_ * coefficient * woe,
                    }
                )
            )
        return pd.concat(parts, ignore_index=True)[list(TABLE_COLUMNS)]

    # --------------------------------------------------------------------------- prediction

    def _check_fitted(self) -> None:
        if not hasattr(self, "estimator_"):
            raise RuntimeError("the scorecard is not fitted: call fit(X, y) first")

    def predict_proba(self, X: pd.DataFrame) -> Float64Array:
        """P(event) of each row (the logistic regression on the WOE values)."""
        self._check_fitted()
        woe = self._woe(self._prepared(X))
        return np.asarray(self.estimator_.predict_proba(woe)[:, 1], dtype=np.float64)

    def explain(self, X: pd.DataFrame, *, relative: bool = False) -> pd.DataFrame:
        """Points of each factor (column) for each row; a row sums to its score.

        With ``relative=True`` each factor's points are measured from its points at WOE 0
        (the training average), so "−35" means this factor took 35 points off; those rows sum
        to ``score − neutral_points_``.
        """
        self._check_fitted()
        woe = self._woe(self._prepared(X))
        points = self._points(woe)
        if relative:
            points = points - (self.neutral_points_ / len(self.selected_variables_))
        return pd.DataFrame(points, columns=self.selected_variables_, index=X.index)

    def bins(self, X: pd.DataFrame) -> pd.DataFrame:
        """The bin of each row for each factor, as labelled in ``table_`` (e.g. "[8.50, 11.50)",
        "Missing"), so an explanation can say which range a factor's points come from."""
        self._check_fitted()
        frame = self._prepared(X)
        labels = pd.DataFrame(index=X.index)
        for name in self.selected_variables_:
            binned = self.binning_process_.get_binned_variable(name)
            codes = binned.transform(
                frame[name].to_numpy(),
                metric="indices",
                metric_special="empirical",
                metric_missing="empirical",
            )
            table = self.table_[self.table_["variable"] == name]["bin"].to_numpy()
            labels[name] = table[np.asarray(codes, dtype=np.int64)]
        return labels

    def score(self, X: pd.DataFrame) -> Float64Array:
        """The points of each row: higher is safer."""
        self._check_fitted()
        return np.asarray(self._points(self._woe(self._prepared(X))).sum(axis=1))

    def validate(self, X: pd.DataFrame, y: npt.ArrayLike) -> dict[str, float]:
        """Discrimination on ``(X, y)`` and stability against the training scores:
        ``{"auc", "ks", "gini", "psi", "n"}`` (PSI on 10 quantile bins of the training scores)."""
        scores = self.score(X)
        target = np.asarray(y)
        area = auc(target, scores, higher_is_event=False)
        return {
            "auc": area,
            "ks": ks(target, scores, higher_is_event=False),
            "gini": 2.0 * area - 1.0,
            "psi": population_stability_index(self.train_scores_, scores),
            "n": float(len(scores)),
        }
