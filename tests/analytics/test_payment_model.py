"""Payment-date prediction: point-in-time features, baselines, model and backtest."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from flywheel.analytics.payment_model import (
    FEATURE_COLUMNS,
    PaymentDelayModel,
    _expanding_median,
    backtest,
    baseline_predictions,
    build_features,
    chinese_new_year_days,
    days_late,
)

NaT = pd.NaT


def invoice_frame(rows: list[tuple[str, str, str, str | None, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(
        rows, columns=["customer", "issue_date", "due_date", "paid_date", "amount"]
    )
    for column in ("issue_date", "due_date", "paid_date"):
        frame[column] = pd.to_datetime(frame[column])
    return frame


def hand_example() -> pd.DataFrame:
    return invoice_frame(
        [
            ("X", "2024-01-01", "2024-01-31", "2024-02-05", 100.0),  # 5 days late
            ("X", "2024-01-10", "2024-02-09", "2024-02-01", 300.0),  # 8 days early
            ("X", "2024-02-05", "2024-03-06", "2024-03-20", 200.0),  # 14 days late
            ("X", "2024-02-06", "2024-03-07", None, 400.0),  # open
            ("X", "2024-03-25", "2024-04-24", None, 100.0),  # open
            ("Y", "2024-02-10", "2024-03-11", "2024-03-11", 50.0),  # on the day
        ]
    )


def test_days_late_counts_early_payment_as_negative() -> None:
    late = days_late(hand_example())

    assert late[:3].tolist() == [5.0, -8.0, 14.0]
    assert np.isnan(late[3])
    assert late[5] == 0.0


def test_features_use_only_payments_made_before_the_issue_date() -> None:
    features = build_features(hand_example())

    first, third, fourth, fifth, other = (features.iloc[i] for i in (0, 2, 3, 4, 5))
    assert first["history_count"] == 0
    assert math.isnan(first["history_mean_days_late"])
    assert first["open_count"] == 0
    # Issued 2024-02-05: only invoice 2 (paid 02-01) is history; invoice 1 is paid that same day.
    assert third["history_count"] == 1
    assert third["history_mean_days_late"] == -8.0
    assert third["history_median_days_late"] == -8.0
    assert math.isnan(third["history_std_days_late"])
    assert third["days_since_last_payment"] == 4.0
    assert third["prior_invoice_count"] == 2
    assert third["amount_to_usual"] == pytest.approx(200.0 / 200.0)
    assert third["open_count"] == 1  # invoice 1 is still open on 02-05
    assert third["open_amount_to_amount"] == pytest.approx(100.0 / 200.0)
    assert third["tenure_days"] == 35.0
    # Issued 02-06: invoices 2 (−8) and 1 (+5) are history.
    assert fourth["history_count"] == 2
    assert fourth["history_mean_days_late"] == pytest.approx(-1.5)
    assert fourth["history_median_days_late"] == pytest.approx(-1.5)
    assert fourth["history_std_days_late"] == pytest.approx(math.sqrt(84.5))  # sample std
    assert fourth["history_share_late"] == pytest.approx(0.5)
    assert fourth["history_last_days_late"] == 5.0  # paid last
    assert fourth["amount_to_usual"] == pytest.approx(400.0 / 200.0)
    assert fourth["open_count"] == 1
    # Issued 03-25: three payments −8, +5, +14.
    assert fifth["history_count"] == 3
    assert fifth["history_mean_days_late"] == pytest.approx(11.0 / 3.0)
    assert fifth["history_median_days_late"] == 5.0
    assert fifth["history_share_late"] == pytest.approx(2.0 / 3.0)
    assert fifth["history_share_late_30"] == 0.0
    assert fifth["history_recent_mean_days_late"] == pytest.approx(11.0 / 3.0)
    assert fifth["open_count"] == 1
    assert fifth["open_amount_log"] == pytest.approx(math.log1p(400.0))
    # Another customer's history never leaks in.
    assert other["history_count"] == 0
    assert other["prior_invoice_count"] == 0


def test_due_date_calendar_features() -> None:
    features = build_features(hand_example())
    first = features.iloc[0]  # due Wednesday 2024-01-31; Spring Festival 2024-02-10

    assert first["terms_days"] == 30.0
    assert first["due_weekday"] == 2.0
    assert first["due_day_of_month"] == 31.0
    assert first["due_days_to_month_end"] == 0.0
    assert first["due_days_from_new_year"] == -10.0
    assert first["issue_month"] == 1.0
    assert np.datetime64("2024-02-10") == chinese_new_year_days().astype("datetime64[D]")[14]


def test_a_later_event_never_changes_an_earlier_invoice_features() -> None:
    invoices = random_history(customers=30, per_customer=15, seed=5)
    before = build_features(invoices)
    changed = invoices.copy()
    # Rewrite everything that happens from 2024-07-01 on.
    late_paid = changed["paid_date"] >= pd.Timestamp("2024-07-01")
    changed.loc[late_paid, "paid_date"] = changed.loc[late_paid, "paid_date"] + pd.Timedelta(
        days=40
    )
    late_issued = changed["issue_date"] >= pd.Timestamp("2024-07-01")
    changed.loc[late_issued, "amount"] = 1.0

    after = build_features(changed)

    early = invoices["issue_date"] < pd.Timestamp("2024-07-01")
    pd.testing.assert_frame_equal(before[early], after[early])


def test_vectorised_features_match_a_plain_loop() -> None:
    invoices = random_history(customers=25, per_customer=12, seed=9)
    features = build_features(invoices)
    late = days_late(invoices)

    for position in range(len(invoices)):
        row = invoices.iloc[position]
        same = invoices["customer"] == row["customer"]
        history = late[(same & (invoices["paid_date"] < row["issue_date"])).to_numpy()]
        issued = same & (invoices["issue_date"] < row["issue_date"])
        still_open = issued & ~(invoices["paid_date"] < row["issue_date"])
        got = features.iloc[position]
        assert got["history_count"] == len(history)
        assert got["prior_invoice_count"] == int(issued.sum())
        assert got["open_count"] == int(still_open.sum())
        if len(history):
            assert got["history_mean_days_late"] == pytest.approx(history.mean())
            assert got["history_median_days_late"] == pytest.approx(np.median(history))
            assert got["history_share_late"] == pytest.approx((history > 0).mean())
            paid_days = invoices["paid_date"][same & (invoices["paid_date"] < row["issue_date"])]
            for column, values in (
                ("history_usual_weekday_share", paid_days.dt.day_of_week),
                ("history_usual_day_share", paid_days.dt.day),
            ):
                assert got[column] == pytest.approx(values.value_counts().max() / len(history))


def random_history(
    *, customers: int, per_customer: int, seed: int, size_effect: float = 0.0
) -> pd.DataFrame:
    """Customers with their own habit (days late) plus noise; optionally big invoices are paid
    ``size_effect`` days later, which no customer average can know."""
    rng = np.random.default_rng(seed)
    n = customers * per_customer
    customer = np.repeat(np.arange(customers), per_customer)
    habit = rng.normal(8.0, 10.0, customers)[customer]
    issue = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 730, n), unit="D")
    terms = rng.choice([30, 60], n)
    due = issue + pd.to_timedelta(terms, unit="D")
    big = rng.uniform(size=n) < 0.3
    amount = np.where(big, rng.uniform(50_000, 90_000, n), rng.uniform(1_000, 5_000, n))
    delay = np.rint(habit + size_effect * big + rng.normal(0.0, 3.0, n)).astype(int)
    paid = pd.Series(due + pd.to_timedelta(delay, unit="D"))
    paid = paid.where(paid < pd.Timestamp("2025-01-01"))
    return pd.DataFrame(
        {
            "customer": [f"C{c:03d}" for c in customer],
            "issue_date": issue,
            "due_date": due,
            "paid_date": paid.to_numpy(),
            "amount": amount,
        }
    )


def test_baselines_fall_back_to_the_global_median_without_history() -> None:
    features = build_features(hand_example())

    baselines = baseline_predictions(features, global_median=2.0)

    assert baselines["customer_median"].tolist() == [2.0, 2.0, -8.0, -1.5, 5.0, 2.0]
    assert baselines["customer_mean"].iloc[4] == pytest.approx(11.0 / 3.0)
    assert baselines["due_date"].tolist() == [0.0] * 6


def test_model_learns_what_the_customer_average_cannot_see() -> None:
    invoices = random_history(customers=150, per_customer=40, seed=2, size_effect=20.0)

    result = backtest(invoices, split_date="2024-07-01", model=PaymentDelayModel(max_iter=150))

    best = result.baseline_mae_days[result.best_baseline]
    assert result.mae_days < 0.7 * best
    assert result.improvement_over_best_baseline > 0.3
    assert result.baseline_mae_days["due_date"] > best
    assert result.auc_late is not None
    assert result.auc_late > 0.9
    probabilities = result.predictions[["p_late", "p_late_30"]].to_numpy()
    assert np.all((probabilities >= 0) & (probabilities <= 1))


def test_usual_payment_day_is_the_most_frequent_so_far() -> None:
    invoices = invoice_frame(
        [
            ("X", "2024-01-01", "2024-01-20", "2024-01-25", 100.0),
            ("X", "2024-02-01", "2024-02-20", "2024-02-25", 100.0),
            ("X", "2024-03-01", "2024-03-20", "2024-03-10", 100.0),
            ("X", "2024-03-15", "2024-04-03", "2024-03-25", 100.0),  # the run on the 25th
            ("X", "2024-04-01", "2024-05-05", None, 100.0),
        ]
    )

    features = build_features(invoices)

    assert features["history_usual_day_share"].tolist()[1:] == [1.0, 1.0, 2 / 3, 3 / 4]
    # Meant for the due date plus the mean days late ((5 + 5 − 10 − 9) / 4 → −2): 3 May, whose
    # nearest run on the 25th is 25 April, 10 days before the due date and 8 before 3 May.
    assert features["usual_day_days_late"].iloc[4] == -10.0
    assert features["usual_day_shift"].iloc[4] == -8.0
    # Two of the four payments fell on a Sunday, three on the 25th: the day of month wins.
    assert features["history_usual_weekday_share"].iloc[4] == 0.5
    assert features["usual_run_days_late"].iloc[4] == -10.0


def test_model_learns_payment_runs_the_customer_median_cannot_see() -> None:
    """Customers who pay in a monthly run on a fixed day: the day an invoice is paid depends on
    where its due date falls against the run, which no average of days late knows."""
    rng = np.random.default_rng(4)
    customers, per_customer = 120, 40
    n = customers * per_customer
    customer = np.repeat(np.arange(customers), per_customer)
    run_day = rng.choice([5, 10, 15, 20, 25], customers)[customer]
    issue = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D")
    due = issue + pd.to_timedelta(30, unit="D")
    intended = due + pd.to_timedelta(rng.integers(0, 4, n), unit="D")
    this_month = intended.to_period("M").to_timestamp() + pd.to_timedelta(run_day - 1, unit="D")
    paid = this_month.where(this_month >= intended, this_month + pd.DateOffset(months=1))
    invoices = pd.DataFrame(
        {
            "customer": customer,
            "issue_date": issue,
            "due_date": due,
            "paid_date": pd.Series(paid).where(pd.Series(paid) < pd.Timestamp("2024-07-01")),
            "amount": rng.uniform(1_000, 5_000, n),
        }
    )

    result = backtest(invoices, split_date="2024-01-01", model=PaymentDelayModel(max_iter=150))

    assert result.improvement_over_best_baseline > 0.5


def test_backtest_splits_by_time() -> None:
    invoices = random_history(customers=40, per_customer=20, seed=4)
    split = pd.Timestamp("2024-03-01")

    result = backtest(
        invoices, split_date=split, settle_days=0, model=PaymentDelayModel(max_iter=30)
    )

    trained = (
        (invoices["issue_date"] < split)
        & (invoices["paid_date"] < split)
        & (invoices["due_date"] <= split)
    )
    tested = invoices["issue_date"] >= split
    assert result.n_train == int(trained.sum())
    assert result.n_test == int(tested.sum())
    assert result.n_test_paid == int((tested & invoices["paid_date"].notna()).sum())
    assert list(result.predictions.index) == list(invoices.index[tested])
    actual = result.predictions["days_late"].dropna()
    expected = np.mean(np.abs(result.predictions.loc[actual.index, "predicted_days_late"] - actual))
    assert result.mae_days == pytest.approx(expected)


def test_backtest_without_training_data_says_so() -> None:
    with pytest.raises(ValueError, match="before the split date"):
        backtest(hand_example(), split_date="2023-01-01")


def test_model_refuses_unpaid_targets() -> None:
    features = build_features(hand_example())
    with pytest.raises(ValueError, match="NaN"):
        PaymentDelayModel().fit(features, days_late(hand_example()))
    assert set(FEATURE_COLUMNS) <= set(features.columns)


def test_an_open_invoice_is_predicted_later_than_it_already_is() -> None:
    invoices = random_history(customers=60, per_customer=20, seed=6)
    features = build_features(invoices)
    late = days_late(invoices)
    paid = ~np.isnan(late)
    model = PaymentDelayModel(max_iter=60).fit(features[paid], late[paid])
    sample = features[paid].iloc[:200]
    plain = model.predict(sample)

    far_from_due = model.predict_given_unpaid(sample, np.full(200, -1000.0))
    overdue_40 = model.predict_given_unpaid(sample, np.full(200, 40.0))
    overdue_90 = model.predict_given_unpaid(sample, np.full(200, 90.0))

    # Long before the due date nothing is known yet: the prediction plus the median residual.
    assert far_from_due == pytest.approx(plain + np.median(model.residuals_), abs=0.5)
    assert np.all(overdue_40 > 40.0)
    assert np.all(overdue_90 >= overdue_40)
    # Beyond every residual seen in training: one day after today.
    beyond = model.predict_given_unpaid(sample, plain + model.residuals_[-1] + 5.0)
    assert beyond == pytest.approx(plain + model.residuals_[-1] + 6.0)


@pytest.mark.parametrize("holdout", [0.2, None])
def test_probabilities_of_paying_late_are_calibrated(holdout: float | None) -> None:
    invoices = random_history(customers=150, per_customer=40, seed=8, size_effect=20.0)

    result = backtest(
        invoices,
        split_date="2024-07-01",
        model=PaymentDelayModel(max_iter=80, calibration_holdout=holdout),
    )

    scored = result.predictions.dropna(subset=["days_late"])
    late = (scored["days_late"] > 0).to_numpy()
    very_late = (scored["days_late"] > 30).to_numpy()
    assert scored["p_late"].mean() == pytest.approx(late.mean(), abs=0.05)
    assert scored["p_late_30"].mean() == pytest.approx(very_late.mean(), abs=0.05)
    # Sure cases: the most confident tenth is right far more often than the least confident.
    top = scored["p_late"] >= scored["p_late"].quantile(0.9)
    bottom = scored["p_late"] <= scored["p_late"].quantile(0.1)
    assert late[top.to_numpy()].mean() > 0.9
    assert late[bottom.to_numpy()].mean() < 0.3


def test_fit_keeps_the_most_recent_rows_when_capped() -> None:
    invoices = random_history(customers=20, per_customer=20, seed=5)
    invoices = invoices.sort_values("issue_date", kind="stable").reset_index(drop=True)
    paid = invoices["paid_date"].notna().to_numpy()
    features = build_features(invoices)[paid]
    target = days_late(invoices)[paid]
    # The older rows say "30 days late", the recent ones "on the day": only the recent count.
    target = np.where(np.arange(len(target)) < len(target) - 100, 30.0, 0.0)

    model = PaymentDelayModel(max_iter=30, max_train_rows=100).fit(features, target)

    assert model.n_train_ == 100
    assert np.abs(model.predict(features)).max() < 1.0


def test_features_of_some_rows_equal_those_of_every_row() -> None:
    invoices = random_history(customers=30, per_customer=15, seed=11)
    rows = np.flatnonzero(invoices["paid_date"].isna().to_numpy())[::2]
    rows = np.r_[rows, [3, 0]]  # any order, paid ones too

    some = build_features(invoices, rows=rows)

    pd.testing.assert_frame_equal(some, build_features(invoices).iloc[rows])


def test_medians_of_some_prefixes_equal_the_running_median() -> None:
    rng = np.random.default_rng(3)
    codes = np.sort(rng.integers(0, 40, size=600))
    values = rng.integers(-10, 60, size=600).astype(float)
    every = _expanding_median(values, codes)
    at = rng.choice(600, size=150)

    some = _expanding_median(values, codes, at=at)

    np.testing.assert_allclose(some[at], every[at])
    assert np.isnan(np.delete(some, at)).all()
