"""The trained scorecard: WOE, monotonic binning, points scaling and explanations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from flywheel.analytics.classification import auc
from flywheel.analytics.scorecard import (
    CreditScorecard,
    points_scaling,
    score_from_odds,
    weight_of_evidence,
)


def categories_table() -> tuple[pd.DataFrame, np.ndarray]:
    """Category A: 10 events of 100, B: 30 of 100, C: 60 of 100 (rows shuffled)."""
    rows = (
        [("A", 1)] * 10
        + [("A", 0)] * 90
        + [("B", 1)] * 30
        + [("B", 0)] * 70
        + [("C", 1)] * 60
        + [("C", 0)] * 40
    )
    order = np.random.default_rng(0).permutation(len(rows))
    frame = pd.DataFrame([rows[i] for i in order], columns=["segment", "default"])
    return frame[["segment"]], frame["default"].to_numpy()


def monotone_sample(n: int = 6000, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    utilisation = rng.uniform(0.0, 1.0, n)  # riskier when higher
    tenure = rng.uniform(0.0, 20.0, n)  # safer when higher
    logit = -2.0 + 3.0 * utilisation - 0.15 * tenure
    y = (rng.uniform(size=n) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"utilisation": utilisation, "tenure": tenure}), y


def test_points_scaling_600_at_50_to_1_and_20_points_double_the_odds() -> None:
    offset, factor = points_scaling(600.0, 50.0, 20.0)

    assert factor == pytest.approx(20.0 / math.log(2.0))  # 28.8539…
    assert offset == pytest.approx(600.0 - 20.0 / math.log(2.0) * math.log(50.0))  # 487.12…
    assert score_from_odds([50.0, 100.0, 25.0, 200.0]) == pytest.approx([600, 620, 580, 640])
    assert score_from_odds([1.0], base_points=500, base_odds=1, pdo=50) == pytest.approx([500])


def test_weight_of_evidence_formula_on_a_hand_made_table() -> None:
    # Events 10/30/60 of 100, non-events 90/70/40 of 200:
    # ln((90/200)/(10/100)) = ln 4.5; ln((70/200)/(30/100)) = ln(7/6); ln((40/200)/(60/100)) = ln(1/3)
    woe = weight_of_evidence([10, 30, 60], [90, 70, 40])

    assert woe == pytest.approx([math.log(4.5), math.log(7 / 6), math.log(1 / 3)])
    # A bin without events (or without non-events) gets 0 rather than infinity.
    assert weight_of_evidence([0, 5], [5, 5]) == pytest.approx([0.0, math.log(0.5)])


def test_fitted_table_holds_the_hand_computed_woe_and_points() -> None:
    X, y = categories_table()

    card = CreditScorecard().fit(X, y)

    table = card.table_.set_index("bin")
    assert table.loc["A", "count"] == 100
    assert table.loc["A", "event_count"] == 10
    assert table.loc["B", "event_rate"] == pytest.approx(0.3)
    assert table.loc["C", "non_event_count"] == 40
    # Here the event totals are 100 and the non-event totals 200.
    assert table.loc["A", "woe"] == pytest.approx(math.log((90 / 200) / (10 / 100)))
    assert table.loc["B", "woe"] == pytest.approx(math.log((70 / 200) / (30 / 100)))
    assert table.loc["C", "woe"] == pytest.approx(math.log((40 / 200) / (60 / 100)))
    # One variable: points of a bin = offset − factor · (intercept + coefficient · WOE).
    offset, factor = points_scaling()
    b0, b1 = card.intercept_, card.coefficients_["segment"]
    for segment in "ABC":
        expected = offset - factor * (b0 + b1 * table.loc[segment, "woe"])
        assert table.loc[segment, "points"] == pytest.approx(expected)
    # Each row scores the points of its bin; A (10% bad) is safest.
    scores = card.score(pd.DataFrame({"segment": ["A", "B", "C"]}))
    assert scores == pytest.approx(table.loc[["A", "B", "C"], "points"].to_numpy())
    assert scores[0] > scores[1] > scores[2]


def test_binning_is_monotonic_in_both_directions() -> None:
    X, y = monotone_sample()

    card = CreditScorecard().fit(X, y)

    table = card.table_[~card.table_["bin"].isin(["Special", "Missing"])]
    rising = table[table["variable"] == "utilisation"]
    falling = table[table["variable"] == "tenure"]
    assert len(rising) >= 3
    assert len(falling) >= 3
    assert np.all(np.diff(rising["event_rate"].to_numpy()) > 0)
    assert np.all(np.diff(rising["woe"].to_numpy()) < 0)
    assert np.all(np.diff(rising["points"].to_numpy()) < 0)
    assert np.all(np.diff(falling["event_rate"].to_numpy()) < 0)
    assert np.all(np.diff(falling["woe"].to_numpy()) > 0)
    assert np.all(np.diff(falling["points"].to_numpy()) > 0)


def test_score_is_the_scaled_log_odds_and_explain_rows_add_up() -> None:
    X, y = monotone_sample()
    card = CreditScorecard(base_points=600, base_odds=50, pdo=20).fit(X, y)
    sample = X.iloc[:50]

    scores = card.score(sample)
    p_bad = card.predict_proba(sample)
    explained = card.explain(sample)
    relative = card.explain(sample, relative=True)

    offset, factor = points_scaling(600, 50, 20)
    assert scores == pytest.approx(offset + factor * np.log((1 - p_bad) / p_bad))
    assert list(explained.columns) == ["utilisation", "tenure"]
    assert explained.sum(axis=1).to_numpy() == pytest.approx(scores)
    assert relative.sum(axis=1).to_numpy() == pytest.approx(scores - card.neutral_points_)
    # Each factor's points are those of the row's bin in the scorecard table.
    labels = card.bins(sample)
    lookup = card.table_.set_index(["variable", "bin"])["points"]
    for variable in ("utilisation", "tenure"):
        from_table = [lookup[(variable, label)] for label in labels[variable]]
        assert explained[variable].to_numpy() == pytest.approx(from_table)
    # A high utilisation takes points off relative to the average.
    worst = X["utilisation"].iloc[:50].idxmax()
    assert relative.loc[worst, "utilisation"] < 0


def test_missing_values_get_a_bin_of_their_own() -> None:
    rng = np.random.default_rng(3)
    n = 3000
    income = rng.uniform(1.0, 10.0, n)
    y = (rng.uniform(size=n) < 0.15).astype(int)
    unknown = rng.uniform(size=n) < 0.2
    # Applicants who hide their income default far more often.
    y[unknown] = (rng.uniform(size=int(unknown.sum())) < 0.6).astype(int)
    income[unknown] = np.nan
    region = np.where(rng.uniform(size=n) < 0.5, "north", None)
    X = pd.DataFrame({"income": income, "region": pd.Series(region, dtype=object)})

    card = CreditScorecard().fit(X, y)

    missing = card.table_[(card.table_["variable"] == "income") & (card.table_["bin"] == "Missing")]
    assert int(missing["count"].iloc[0]) == int(unknown.sum())
    assert float(missing["woe"].iloc[0]) < -1.0
    row = pd.DataFrame({"income": [np.nan], "region": [None]})
    assert card.explain(row)["income"].iloc[0] == pytest.approx(float(missing["points"].iloc[0]))
    assert card.bins(row)["income"].iloc[0] == "Missing"
    assert "region" in card.categorical_variables_


def test_validate_reports_auc_ks_gini_and_psi() -> None:
    X, y = monotone_sample(seed=1)
    X_new, y_new = monotone_sample(seed=2)
    card = CreditScorecard().fit(X, y)

    report = card.validate(X_new, y_new)

    assert set(report) == {"auc", "ks", "gini", "psi", "n"}
    assert report["auc"] == pytest.approx(auc(y_new, -card.score(X_new)))
    assert report["gini"] == pytest.approx(2 * report["auc"] - 1)
    assert 0.6 < report["auc"] < 0.9
    assert 0.0 < report["ks"] < 1.0
    assert report["psi"] < 0.05  # same population


def test_fit_refuses_a_single_class_or_a_non_binary_target() -> None:
    X, _ = categories_table()
    with pytest.raises(ValueError, match="single class"):
        CreditScorecard().fit(X, np.zeros(len(X), dtype=int))
    with pytest.raises(ValueError, match="only 0 and 1"):
        CreditScorecard().fit(X, np.full(len(X), 2))
    with pytest.raises(RuntimeError, match="not fitted"):
        CreditScorecard().score(X)
