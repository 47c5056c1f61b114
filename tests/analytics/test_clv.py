"""CLV models: the published CDNOW figures, agreement with ``lifetimes``, collapsing and weights,
edge cases and input checks, and the transaction summary."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

from flywheel.analytics import clv_fit
from flywheel.analytics.clv import (
    BetaGeo,
    CustomerSummary,
    GammaGamma,
    ParetoNBD,
    check_summary,
    clv,
    collapse,
    summarise,
)
from tests.analytics.cdnow import CALIBRATION_END, HOLDOUT_END, cdnow_transactions

# ---------------------------------------------------------------- the CDNOW sample


@pytest.fixture(scope="module")
def cdnow() -> CustomerSummary:
    sales = cdnow_transactions()
    return summarise(
        sales.customer,
        sales.days,
        sales.amount,
        calibration_end=int(CALIBRATION_END.astype(np.int64)),
        holdout_end=int(HOLDOUT_END.astype(np.int64)),
        period_days=7,
    )


@pytest.fixture(scope="module")
def bgnbd(cdnow: CustomerSummary) -> BetaGeo:
    return BetaGeo().fit(cdnow.frequency, cdnow.recency, cdnow.T)


@pytest.fixture(scope="module")
def pareto(cdnow: CustomerSummary) -> ParetoNBD:
    return ParetoNBD().fit(cdnow.frequency, cdnow.recency, cdnow.T)


@pytest.fixture(scope="module")
def spend(cdnow: CustomerSummary) -> GammaGamma:
    assert cdnow.monetary_value is not None
    repeat = cdnow.frequency > 0
    return GammaGamma().fit(cdnow.frequency[repeat], cdnow.monetary_value[repeat])


def test_cdnow_summary_in_weeks_matches_the_published_one(cdnow: CustomerSummary) -> None:
    from tests.analytics.cdnow import lifetimes_dataset

    published = np.genfromtxt(
        lifetimes_dataset("cdnow_customers_summary_with_transactions.csv"),
        delimiter=",",
        names=True,
    )
    by_id = {int(row["ID"]): row for row in published}

    assert len(cdnow) == 2357
    assert cdnow.n_transactions == 6919
    assert cdnow.frequency.sum() == 2457  # repeat purchases in weeks 1-39
    assert cdnow.holdout_frequency is not None
    assert cdnow.holdout_frequency.sum() == 1882  # and in weeks 40-78
    assert cdnow.holdout_length == pytest.approx(39.0)
    assert cdnow.monetary_value is not None
    for position, customer in enumerate(cdnow.customer_ids):
        row = by_id.get(int(customer))
        if row is None:  # the published file lacks its last line's customer
            continue
        assert cdnow.frequency[position] == row["x"]
        assert round(cdnow.recency[position], 2) == pytest.approx(row["t_x"], abs=0.006)
        assert round(cdnow.T[position], 2) == pytest.approx(row["T"], abs=0.006)
        assert cdnow.monetary_value[position] == pytest.approx(row["zbar"], abs=0.006)


def test_bgnbd_reproduces_fader_hardie_lee_2005(bgnbd: BetaGeo) -> None:
    params = {name: round(value, 3) for name, value in bgnbd.params_.items()}

    assert params == {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert round(bgnbd.log_likelihood_, 1) == -9582.4
    assert bgnbd.converged_
    assert bgnbd.n_customers_ == 2357


def test_pareto_nbd_reproduces_the_published_cdnow_fit(pareto: ParetoNBD) -> None:
    params = {name: round(value, 3) for name, value in pareto.params_.items()}

    assert params == {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
    assert round(pareto.log_likelihood_, 1) == -9595.0
    assert pareto.converged_


def test_gamma_gamma_reproduces_fader_hardie_2013(spend: GammaGamma) -> None:
    params = {name: round(value, 2) for name, value in spend.params_.items()}

    assert params == {"p": 6.25, "q": 3.74, "v": 15.44}
    assert spend.gamma_ == spend.params_["v"]
    assert spend.n_customers_ == 946
    assert spend.converged_


def test_holdout_prediction_is_close_to_the_actual_repeat_purchases(
    cdnow: CustomerSummary, bgnbd: BetaGeo
) -> None:
    # FHL 2005: the model tracks the 1,882 holdout repeat purchases within a few percent.
    predicted = bgnbd.expected_purchases(39, cdnow.frequency, cdnow.recency, cdnow.T).sum()

    assert predicted == pytest.approx(1653.4, abs=0.1)
    assert cdnow.holdout_frequency is not None
    assert abs(predicted - cdnow.holdout_frequency.sum()) / 1882 < 0.15
    # A new customer's expected repeats over the 39 calibration and 78 weeks (the chart's curve).
    curve = bgnbd.expected_purchases_new([0.0, 39.0, 78.0])
    assert curve[0] == 0
    assert curve[1] == pytest.approx(1.195, abs=0.001)
    assert curve[2] == pytest.approx(1.858, abs=0.001)


def test_refitting_gives_the_same_log_likelihood(cdnow: CustomerSummary, bgnbd: BetaGeo) -> None:
    again = BetaGeo().fit(cdnow.frequency, cdnow.recency, cdnow.T)

    assert again.log_likelihood_ == pytest.approx(bgnbd.log_likelihood_, rel=1e-12)
    assert bgnbd.log_likelihood(cdnow.frequency, cdnow.recency, cdnow.T) == pytest.approx(
        bgnbd.log_likelihood_, rel=1e-14
    )


# ---------------------------------------------------------------- against lifetimes


@pytest.fixture(scope="module")
def lifetimes() -> object:
    return pytest.importorskip("lifetimes")


def _series(values: np.ndarray) -> object:
    import pandas as pd

    return pd.Series(values)


def test_bgnbd_predictions_equal_lifetimes_for_the_same_parameters(
    lifetimes: object, cdnow: CustomerSummary, bgnbd: BetaGeo
) -> None:
    import pandas as pd
    from lifetimes import BetaGeoFitter

    theirs = BetaGeoFitter()
    theirs.params_ = pd.Series(bgnbd.params_)
    f, r, T = cdnow.frequency, cdnow.recency, cdnow.T
    some = np.r_[0:10, 100:110, np.argsort(-f)[:10]]  # includes the most frequent buyers

    np.testing.assert_allclose(
        bgnbd.p_alive(f[some], r[some], T[some]),
        theirs.conditional_probability_alive(f[some], r[some], T[some]),
        rtol=1e-9,
    )
    for horizon in (1.0, 10.0, 39.0, 104.0):
        np.testing.assert_allclose(
            bgnbd.expected_purchases(horizon, f[some], r[some], T[some]),
            theirs.conditional_expected_number_of_purchases_up_to_time(
                horizon, _series(f[some]), _series(r[some]), _series(T[some])
            ),
            rtol=1e-9,
        )
    np.testing.assert_allclose(
        bgnbd.expected_purchases_new(np.array([1.0, 39.0, 78.0])),
        theirs.expected_number_of_purchases_up_to_time(np.array([1.0, 39.0, 78.0])),
        rtol=1e-9,
    )
    # lifetimes fits on rescaled times; its likelihood formula on our times and parameters:
    ll = -BetaGeoFitter._negative_log_likelihood(
        np.log(list(bgnbd.params_.values())), f, r, T, np.ones(len(f)), 0.0
    ) * len(f)
    assert bgnbd.log_likelihood_ == pytest.approx(ll, rel=1e-12)


def test_pareto_predictions_equal_lifetimes_in_both_branches(
    lifetimes: object, cdnow: CustomerSummary
) -> None:
    import pandas as pd
    from lifetimes import ParetoNBDFitter

    f, r, T = cdnow.frequency[:300], cdnow.recency[:300], cdnow.T[:300]
    # CDNOW's own fit has α < β; the second set takes the α ≥ β branch of A₀.
    for params in (
        {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669},
        {"r": 0.8, "alpha": 14.0, "s": 1.7, "beta": 3.0},
    ):
        ours = ParetoNBD().with_params(**params)
        theirs = ParetoNBDFitter()
        theirs.params_ = pd.Series(params)

        np.testing.assert_allclose(
            ours.p_alive(f, r, T), theirs.conditional_probability_alive(f, r, T), rtol=1e-9
        )
        np.testing.assert_allclose(
            ours.expected_purchases(39.0, f, r, T),
            theirs.conditional_expected_number_of_purchases_up_to_time(
                39.0, _series(f), _series(r), _series(T)
            ),
            rtol=1e-9,
        )
        ll = -ParetoNBDFitter._negative_log_likelihood(
            np.array(list(params.values())), f, r, T, np.ones(len(f)), 0.0
        )
        assert ours.log_likelihood(f, r, T) == pytest.approx(ll, rel=1e-12)


def test_gamma_gamma_and_clv_equal_lifetimes(
    lifetimes: object, cdnow: CustomerSummary, bgnbd: BetaGeo, spend: GammaGamma
) -> None:
    import pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    assert cdnow.monetary_value is not None
    f, r, T, m = cdnow.frequency, cdnow.recency, cdnow.T, cdnow.monetary_value
    theirs_spend = GammaGammaFitter()
    theirs_spend.params_ = pd.Series(spend.params_)
    theirs_purchases = BetaGeoFitter()
    theirs_purchases.params_ = pd.Series(bgnbd.params_)
    # What lifetimes' fit() would have set.
    theirs_purchases.predict = theirs_purchases.conditional_expected_number_of_purchases_up_to_time

    np.testing.assert_allclose(
        spend.expected_order_value(f, m),
        theirs_spend.conditional_expected_average_profit(_series(f), _series(m)),
        rtol=1e-12,
    )
    # lifetimes' month for weekly data is 4.345 weeks.
    ours = clv(bgnbd, spend, f, r, T, m, months=12, periods_per_month=4.345)
    expected = theirs_spend.customer_lifetime_value(
        theirs_purchases,
        _series(f),
        _series(r),
        _series(T),
        _series(m),
        time=12,
        discount_rate=0.01,
        freq="W",
    )
    np.testing.assert_allclose(ours, expected, rtol=1e-9)
    repeat = f > 0
    ll = (
        -GammaGammaFitter._negative_log_likelihood(
            np.log(list(spend.params_.values())), f[repeat], m[repeat], np.ones(repeat.sum()), 0.0
        )
        * repeat.sum()
    )
    assert spend.log_likelihood_ == pytest.approx(ll, rel=1e-12)


# ---------------------------------------------------------------- an independent likelihood


def bgnbd_log_likelihood_per_customer(
    params: dict[str, float], x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """FHL (2005) eq. 6, term by term, for one customer at a time: no collapsing, no tricks."""
    r, alpha, a, b = params["r"], params["alpha"], params["a"], params["b"]
    values = []
    for xi, ti, Ti in zip(x, t_x, T, strict=True):
        common = special.gammaln(r + xi) - special.gammaln(r) + r * np.log(alpha)
        alive = special.betaln(a, b + xi) - special.betaln(a, b) - (r + xi) * np.log(alpha + Ti)
        total = np.exp(common + alive)
        if xi > 0:
            dropped = (
                special.betaln(a + 1, b + xi - 1)
                - special.betaln(a, b)
                - (r + xi) * np.log(alpha + ti)
            )
            total += np.exp(common + dropped)
        values.append(np.log(total))
    return np.array(values)


def test_collapsed_log_likelihood_equals_the_customer_by_customer_sum(
    cdnow: CustomerSummary, bgnbd: BetaGeo
) -> None:
    rows = collapse(cdnow.frequency, cdnow.recency, cdnow.T)
    direct = bgnbd_log_likelihood_per_customer(
        bgnbd.params_, cdnow.frequency, cdnow.recency, cdnow.T
    ).sum()

    assert len(rows) < len(cdnow) / 2  # weeks measured in days: many customers share a row
    assert rows.weights.sum() == len(cdnow)
    assert bgnbd.log_likelihood_ == pytest.approx(direct, rel=1e-12)
    np.testing.assert_array_equal(rows.frequency[rows.inverse], cdnow.frequency)
    np.testing.assert_array_equal(rows.recency[rows.inverse], cdnow.recency)
    np.testing.assert_array_equal(rows.T[rows.inverse], cdnow.T)


def test_weights_fit_exactly_like_repeated_rows() -> None:
    x = np.array([0, 0, 1, 2, 5, 0, 3, 1.0])
    t_x = np.array([0, 0, 4, 10, 30, 0, 20, 2.0])
    T = np.array([10, 40, 12, 35, 40, 25, 38, 30.0])
    counts = np.array([30, 12, 7, 5, 2, 20, 4, 9])

    for model_class in (BetaGeo, ParetoNBD):
        weighted = model_class().fit(x, t_x, T, weights=counts)
        repeated = model_class().fit(
            np.repeat(x, counts), np.repeat(t_x, counts), np.repeat(T, counts)
        )
        assert weighted.log_likelihood_ == pytest.approx(repeated.log_likelihood_, rel=1e-12)
        for name, value in weighted.params_.items():
            assert value == pytest.approx(repeated.params_[name], rel=1e-6)


def simulate_bgnbd(
    n: int, seed: int, *, r: float, alpha: float, a: float, b: float, max_age: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Customers of a BG/NBD process, times rounded down to whole periods."""
    rng = np.random.default_rng(seed)
    T = rng.integers(1, max_age + 1, n).astype(float)
    rate = rng.gamma(r, 1 / alpha, n)
    dropout = rng.beta(a, b, n)
    clock, x, last = np.zeros(n), np.zeros(n), np.zeros(n)
    buying = np.arange(n)
    while buying.size:
        clock[buying] += rng.exponential(1 / rate[buying])
        buying = buying[clock[buying] <= T[buying]]
        x[buying] += 1
        last[buying] = clock[buying]
        buying = buying[rng.random(buying.size) >= dropout[buying]]
    return x, np.floor(last), T


def test_large_fits_take_the_sample_then_newton_path_to_the_same_optimum() -> None:
    x, t_x, T = simulate_bgnbd(60_000, 3, r=0.25, alpha=30.0, a=0.8, b=2.4, max_age=500)

    big = BetaGeo().fit(x, t_x, T)
    direct = BetaGeo()
    rows = collapse(x, t_x, T)
    assert len(rows) > 20_000
    # The plain L-BFGS-B path on the same rows (what small data sets take).
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(clv_fit, "WARM_START_ROWS", 10**9)
        direct.fit(rows.frequency, rows.recency, rows.T, weights=rows.weights)

    assert big.message_ == "Newton steps from a sample's optimum"
    assert big.converged_
    assert big.log_likelihood_ >= direct.log_likelihood_ - 1e-9 * abs(direct.log_likelihood_)
    assert big.log_likelihood_ == pytest.approx(direct.log_likelihood_, rel=1e-10)
    for name, value in big.params_.items():
        assert value == pytest.approx(direct.params_[name], rel=1e-4)


# ---------------------------------------------------------------- properties


@st.composite
def customers(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 25))
    T = np.array(draw(st.lists(st.integers(0, 60), min_size=n, max_size=n)), dtype=float)
    x = np.array(draw(st.lists(st.integers(0, 12), min_size=n, max_size=n)), dtype=float)
    share = np.array(draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)))
    t_x = np.where(x > 0, np.floor(share * T), 0.0)
    weights = np.array(draw(st.lists(st.integers(1, 4), min_size=n, max_size=n)))
    return x, t_x, T, weights


@settings(max_examples=60, deadline=None)
@given(data=customers())
def test_weights_count_like_repeated_customers(
    data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> None:
    x, t_x, T, weights = data
    repeated = [np.repeat(column, weights) for column in (x, t_x, T)]
    for model in (
        BetaGeo().with_params(r=0.3, alpha=4.0, a=0.8, b=2.5),
        ParetoNBD().with_params(r=0.6, alpha=10.0, s=0.6, beta=12.0),
        ParetoNBD().with_params(r=0.6, alpha=12.0, s=0.6, beta=3.0),
    ):
        assert model.log_likelihood(x, t_x, T, weights=weights) == pytest.approx(
            model.log_likelihood(*repeated), rel=1e-10, abs=1e-10
        )
        alive = model.p_alive(x, t_x, T)
        assert ((alive >= 0) & (alive <= 1)).all()
        soon = model.expected_purchases(5.0, x, t_x, T)
        later = model.expected_purchases(50.0, x, t_x, T)
        assert (soon >= 0).all()
        assert (later >= soon - 1e-12).all()


@settings(max_examples=40, deadline=None)
@given(data=customers())
def test_predictions_broadcast_back_to_every_customer(
    data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> None:
    x, t_x, T, _ = data
    model = BetaGeo().with_params(r=0.25, alpha=4.4, a=0.79, b=2.43)
    together = model.expected_purchases(10.0, x, t_x, T)
    one_by_one = [
        model.expected_purchases(10.0, x[i : i + 1], t_x[i : i + 1], T[i : i + 1])[0]
        for i in range(len(x))
    ]

    np.testing.assert_allclose(together, one_by_one, rtol=1e-12)


# ---------------------------------------------------------------- edge cases


def test_customers_without_repeat_purchases_fit_to_no_future_purchases() -> None:
    T = np.array([5.0, 10.0, 20.0, 30.0, 40.0])
    zero = np.zeros(5)
    for model_class in (BetaGeo, ParetoNBD):
        model = model_class().fit(zero, zero, T)

        # The supremum of the likelihood is 1: nobody buys again.
        assert model.log_likelihood_ == pytest.approx(0.0, abs=1e-6)
        expected = model.expected_purchases(52.0, zero, zero, T)
        assert np.isfinite(expected).all()
        assert (expected >= 0).all()
        assert expected.max() < 1e-3


def test_bgnbd_expectation_is_continuous_through_a_equal_one() -> None:
    x, t_x, T = np.array([0.0, 1.0, 5.0]), np.array([0.0, 3.0, 20.0]), np.array([30.0] * 3)
    at_one = BetaGeo().with_params(r=0.3, alpha=5.0, a=1.0, b=2.0)
    near = BetaGeo().with_params(r=0.3, alpha=5.0, a=1.001, b=2.0)
    below = BetaGeo().with_params(r=0.3, alpha=5.0, a=0.999, b=2.0)

    value = at_one.expected_purchases(10.0, x, t_x, T)
    assert np.isfinite(value).all()
    np.testing.assert_allclose(
        value,
        (near.expected_purchases(10.0, x, t_x, T) + below.expected_purchases(10.0, x, t_x, T)) / 2,
        rtol=1e-6,
    )
    assert at_one.expected_purchases_new(np.array([0.0]))[0] == pytest.approx(0.0, abs=1e-12)


def test_new_customers_have_p_alive_one_under_bgnbd() -> None:
    model = BetaGeo().with_params(r=0.25, alpha=4.4, a=0.79, b=2.43)

    assert model.p_alive([0, 0], [0, 0], [0, 30]).tolist() == [1.0, 1.0]
    # A customer who bought often and then went quiet is probably gone.
    assert model.p_alive([10], [5], [40])[0] < 0.01


def test_penalizer_shrinks_the_parameters(cdnow: CustomerSummary, bgnbd: BetaGeo) -> None:
    shrunk = BetaGeo(penalizer=0.01).fit(cdnow.frequency, cdnow.recency, cdnow.T)

    squares = lambda p: sum(v * v for v in p.values())  # noqa: E731
    assert squares(shrunk.params_) < squares(bgnbd.params_)
    assert shrunk.log_likelihood_ < bgnbd.log_likelihood_  # the unpenalised value


def test_clv_is_discounted_monthly_increments_times_order_value(
    cdnow: CustomerSummary, bgnbd: BetaGeo, spend: GammaGamma
) -> None:
    assert cdnow.monetary_value is not None
    f, r, T, m = cdnow.frequency[:50], cdnow.recency[:50], cdnow.T[:50], cdnow.monetary_value[:50]
    month = 30 / 7
    value = clv(
        bgnbd, spend, f, r, T, m, months=3, monthly_discount_rate=0.02, periods_per_month=month
    )

    cumulative = [bgnbd.expected_purchases(k * month, f, r, T) for k in range(4)]
    order = spend.expected_order_value(f, m)
    by_hand = sum((cumulative[k] - cumulative[k - 1]) * order / 1.02**k for k in range(1, 4))
    np.testing.assert_allclose(value, by_hand, rtol=1e-12)


def test_expected_order_value_of_a_customer_without_repeats_is_the_population_mean(
    spend: GammaGamma,
) -> None:
    p, q, v = spend.params_["p"], spend.params_["q"], spend.params_["v"]

    assert spend.expected_order_value([0], [0.0])[0] == pytest.approx(p * v / (q - 1))
    assert spend.population_mean_order_value() == pytest.approx(p * v / (q - 1))
    # The more repeat purchases, the closer to the customer's own mean.
    few, many = spend.expected_order_value([1, 50], [100.0, 100.0])
    assert abs(many - 100) < abs(few - 100)


# ---------------------------------------------------------------- input checks


@pytest.mark.parametrize(
    ("frequency", "recency", "T", "message"),
    [
        ([1, -1], [1, 0], [5, 5], "frequency must not be negative"),
        ([1, 1], [-1, 0], [5, 5], "recency must not be negative"),
        ([1, 1], [1, 0], [5, -5], "T must not be negative"),
        ([1, 2], [6, 1], [5, 5], r"recency must not exceed T: 1 customers .* position 0"),
        ([0, 1], [2, 1], [5, 5], "recency must be 0 when frequency is 0"),
        ([1.5, 1], [1, 1], [5, 5], "whole number"),
        ([1, 1], [1, 1], [5], "same length"),
        ([1, np.nan], [1, 1], [5, 5], "missing or infinite"),
        ([], [], [], "no customers"),
    ],
)
def test_bad_summaries_are_refused_with_the_reason(
    frequency: list[float], recency: list[float], T: list[float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        check_summary(frequency, recency, T)
    with pytest.raises(ValueError, match=message):
        BetaGeo().fit(frequency, recency, T)


def test_other_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="not fitted"):
        BetaGeo().p_alive([1], [1], [2])
    with pytest.raises(ValueError, match="weights must not be negative"):
        BetaGeo().fit([1, 0], [1, 0], [2, 2], weights=[1, -1])
    with pytest.raises(ValueError, match="repeat customers only"):
        GammaGamma().fit([0, 2], [10.0, 12.0])
    with pytest.raises(ValueError, match="monetary_value must be positive"):
        GammaGamma().fit([1, 2], [0.0, 12.0])
    with pytest.raises(ValueError, match="horizon"):
        BetaGeo().with_params(r=1, alpha=1, a=1, b=1).expected_purchases(-1, [1], [1], [2])
    with pytest.raises(ValueError, match="months"):
        clv(
            BetaGeo().with_params(r=1, alpha=1, a=0.5, b=1),
            GammaGamma().with_params(p=1, q=2, v=1),
            [1],
            [1],
            [2],
            [1.0],
            months=0,
        )


# ---------------------------------------------------------------- summaries of transactions


def test_summary_counts_purchase_days_and_splits_calibration_and_holdout() -> None:
    #   A: day 0 twice (one occasion, 10 + 5), day 10 (20), day 20 (holdout, 40)
    #   B: first buys on day 16, after the calibration end: left out
    #   C: one purchase on day 5 (7)
    #   D: days 3 and 9 (1 and 3), and day 40 after the holdout end: ignored
    summary = summarise(
        ["A", "A", "B", "A", "C", "A", "D", "D", "D"],
        [0, 0, 16, 10, 5, 20, 3, 9, 40],
        [10.0, 5.0, 99.0, 20.0, 7.0, 40.0, 1.0, 3.0, 500.0],
        calibration_end=15,
        holdout_end=30,
        period_days=1,
    )

    assert summary.customer_ids.tolist() == ["A", "C", "D"]
    assert summary.first_day.tolist() == [0, 5, 3]
    assert summary.frequency.tolist() == [1, 0, 1]
    assert summary.recency.tolist() == [10, 0, 6]
    assert summary.T.tolist() == [15, 10, 12]
    assert summary.monetary_value is not None
    assert summary.monetary_value.tolist() == [20.0, 0.0, 3.0]
    assert summary.holdout_frequency is not None
    assert summary.holdout_frequency.tolist() == [1, 0, 0]
    assert summary.holdout_revenue is not None
    assert summary.holdout_revenue.tolist() == [40.0, 0.0, 0.0]
    assert summary.holdout_length == 15
    assert summary.n_transactions == 8


def test_summary_in_weeks_keeps_day_precision_and_works_without_amounts() -> None:
    summary = summarise([1, 1, 1, 2], [100, 103, 110, 101], calibration_end=114, period_days=7)

    assert summary.frequency.tolist() == [2, 0]
    np.testing.assert_allclose(summary.recency, [10 / 7, 0])
    np.testing.assert_allclose(summary.T, [2.0, 13 / 7])
    assert summary.monetary_value is None
    assert summary.holdout_frequency is None
    assert summary.holdout_length is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"calibration_end": -1}, "no purchase on or before the calibration end"),
        ({"calibration_end": 10, "holdout_end": 10}, "holdout_end must come after"),
        ({"calibration_end": 10, "period_days": 0}, "period_days must be positive"),
    ],
)
def test_summary_refuses_impossible_periods(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        summarise(["A", "A"], [0, 5], **kwargs)  # type: ignore[arg-type]


def test_summary_refuses_fractional_days_and_missing_ids() -> None:
    with pytest.raises(ValueError, match="whole days"):
        summarise(["A"], [0.5], calibration_end=3)
    with pytest.raises(ValueError, match="customer id missing at position 1"):
        summarise(np.array(["A", None], dtype=object), [0, 1], calibration_end=3)
