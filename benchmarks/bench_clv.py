"""CLV models against the ``lifetimes`` package, side by side: fit and predict time, peak memory,
log-likelihood.

    python benchmarks/bench_clv.py [--sizes 100000 1000000] [--period day|week] [--seed 7]
                                   [--lifetimes-pareto-max 100000] [--no-memory]

Synthetic customers are drawn from a BG/NBD process with CDNOW-like parameters (r = 0.243,
α = 4.414 weeks, a = 0.793, b = 2.426), first purchases spread uniformly over two years (T from 1
to 730 days) and purchase times rounded down to whole days; with ``--period week`` recency and T
are the same day counts divided by 7 (the CDNOW convention). Order values follow a Gamma-Gamma
process (p = 6.25, q = 3.74, γ = 15.44).

For each model both libraries fit the same arrays; "predict" is p_alive, the expected purchases
in the next 90 and 365 days and the 12-month CLV (1% monthly discount, 30 days a month, the
Gamma-Gamma expected order value) for every customer; for Gamma-Gamma it is the expected order
value of every customer. lifetimes' fit time includes the Hessian it always computes after the
optimisation. Each log-likelihood is the full sum, computed by the library's own formula on
unscaled times (lifetimes fits on rescaled times). Peak memory is the Python heap's peak
(tracemalloc, numpy arrays included) in a second, separate run of fit + predict, so that tracing
does not slow the timed run. lifetimes' Pareto/NBD (Nelder-Mead, 2F1 on every row at every step)
is only run up to --lifetimes-pareto-max customers.
"""

from __future__ import annotations

import os

# One BLAS thread for both libraries: on a shared 2-core machine idle BLAS threads spinning on
# small vectors cost more than they help, and one thread keeps CPU time comparable to wall time.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import gc
import time
import tracemalloc
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from flywheel.analytics.clv import BetaGeo, GammaGamma, ParetoNBD, clv

console = Console(width=max(Console().width, 150))

TRUE_BGNBD = {"r": 0.243, "alpha_days": 4.414 * 7, "a": 0.793, "b": 2.426}
TRUE_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}
MAX_AGE_DAYS = 730
CLV_MONTHS = 12
MONTHLY_DISCOUNT = 0.01
DAYS_PER_MONTH = 30.0  # lifetimes' month for daily data


@dataclass
class Customers:
    frequency: np.ndarray
    recency: np.ndarray
    T: np.ndarray
    monetary_value: np.ndarray
    period_days: float

    @property
    def repeat(self) -> np.ndarray:
        return self.frequency > 0


def simulate(n: int, seed: int, period_days: float) -> Customers:
    """Customers of a BG/NBD purchase process and a Gamma-Gamma spend process."""
    rng = np.random.default_rng(seed)
    age_days = rng.integers(1, MAX_AGE_DAYS + 1, n).astype(np.float64)
    rate = rng.gamma(TRUE_BGNBD["r"], 1.0 / TRUE_BGNBD["alpha_days"], n)
    dropout = rng.beta(TRUE_BGNBD["a"], TRUE_BGNBD["b"], n)
    clock = np.zeros(n)
    frequency = np.zeros(n)
    last = np.zeros(n)
    buying = np.arange(n)
    while buying.size:
        clock[buying] += rng.exponential(1.0 / rate[buying])
        buying = buying[clock[buying] <= age_days[buying]]
        frequency[buying] += 1
        last[buying] = clock[buying]
        buying = buying[rng.random(buying.size) >= dropout[buying]]
    recency_days = np.floor(last)
    spend_scale = rng.gamma(TRUE_GAMMA_GAMMA["q"], 1.0 / TRUE_GAMMA_GAMMA["v"], n)
    monetary = np.zeros(n)
    repeat = frequency > 0
    total = rng.gamma(TRUE_GAMMA_GAMMA["p"] * frequency[repeat], 1.0 / spend_scale[repeat])
    monetary[repeat] = total / frequency[repeat]
    return Customers(
        frequency=frequency,
        recency=recency_days / period_days,
        T=age_days / period_days,
        monetary_value=monetary,
        period_days=period_days,
    )


@dataclass
class Run:
    fit_seconds: float
    predict_seconds: float
    log_likelihood: float
    params: dict[str, float]
    peak_mib: float | None = None
    cpu_seconds: float = 0.0

    @property
    def seconds(self) -> float:
        return self.fit_seconds + self.predict_seconds


# ---------------------------------------------------------------------------------- flywheel


def ours_purchases(model_class: type[BetaGeo] | type[ParetoNBD]) -> Callable[..., Run]:
    def run(data: Customers, spend: Any, predict: bool = True) -> Run:
        started = time.perf_counter()
        model = model_class().fit(data.frequency, data.recency, data.T)
        fitted = time.perf_counter()
        horizons = [days / data.period_days for days in (90, 365)]
        model.p_alive(data.frequency, data.recency, data.T)
        for horizon in horizons:
            model.expected_purchases(horizon, data.frequency, data.recency, data.T)
        clv(
            model,
            spend,
            data.frequency,
            data.recency,
            data.T,
            data.monetary_value,
            months=CLV_MONTHS,
            monthly_discount_rate=MONTHLY_DISCOUNT,
            periods_per_month=DAYS_PER_MONTH / data.period_days,
        )
        done = time.perf_counter()
        return Run(fitted - started, done - fitted, model.log_likelihood_, model.params_)

    return run


def ours_spend(data: Customers, spend: Any = None, predict: bool = True) -> Run:
    repeat = data.repeat
    started = time.perf_counter()
    model = GammaGamma().fit(data.frequency[repeat], data.monetary_value[repeat])
    fitted = time.perf_counter()
    model.expected_order_value(data.frequency, data.monetary_value)
    done = time.perf_counter()
    return Run(fitted - started, done - fitted, model.log_likelihood_, model.params_)


# ---------------------------------------------------------------------------------- lifetimes


def lifetimes_purchases(kind: str) -> Callable[..., Run]:
    def run(data: Customers, spend: Any, predict: bool = True) -> Run:
        from lifetimes import BetaGeoFitter, ParetoNBDFitter

        fitter_class = BetaGeoFitter if kind == "bgnbd" else ParetoNBDFitter
        frequency = pd.Series(data.frequency)
        recency = pd.Series(data.recency)
        age = pd.Series(data.T)
        started = time.perf_counter()
        fitter = fitter_class().fit(frequency, recency, age)
        fitted = time.perf_counter()
        fitter.conditional_probability_alive(frequency, recency, age)
        for days in (90, 365):
            fitter.conditional_expected_number_of_purchases_up_to_time(
                days / data.period_days, frequency, recency, age
            )
        # lifetimes' month is 30 days for daily data and 4.345 weeks for weekly data.
        spend.customer_lifetime_value(
            fitter,
            frequency,
            recency,
            age,
            pd.Series(data.monetary_value),
            time=CLV_MONTHS,
            discount_rate=MONTHLY_DISCOUNT,
            freq="D" if data.period_days == 1 else "W",
        )
        done = time.perf_counter()
        params = {k: float(v) for k, v in fitter.params_.items()}
        values = np.array(list(params.values()))
        ones = np.ones(len(data.frequency))
        if kind == "bgnbd":
            ll = -fitter_class._negative_log_likelihood(
                np.log(values), data.frequency, data.recency, data.T, ones, 0.0
            ) * len(ones)
        else:
            ll = -fitter_class._negative_log_likelihood(
                values, data.frequency, data.recency, data.T, ones, 0.0
            )
        return Run(fitted - started, done - fitted, float(ll), params)

    return run


def lifetimes_spend(data: Customers, spend: Any = None, predict: bool = True) -> Run:
    from lifetimes import GammaGammaFitter

    repeat = data.repeat
    frequency = pd.Series(data.frequency[repeat])
    monetary = pd.Series(data.monetary_value[repeat])
    started = time.perf_counter()
    fitter = GammaGammaFitter().fit(frequency, monetary)
    fitted = time.perf_counter()
    fitter.conditional_expected_average_profit(
        pd.Series(data.frequency), pd.Series(data.monetary_value)
    )
    done = time.perf_counter()
    params = {k: float(v) for k, v in fitter.params_.items()}
    ll = -GammaGammaFitter._negative_log_likelihood(
        np.log(np.array(list(params.values()))),
        data.frequency[repeat],
        data.monetary_value[repeat],
        np.ones(int(repeat.sum())),
        0.0,
    ) * int(repeat.sum())
    # Kept for the purchase models' CLV, which lifetimes computes through this fitter.
    lifetimes_spend.fitter = fitter  # type: ignore[attr-defined]
    return Run(fitted - started, done - fitted, float(ll), params)


def measured(run: Callable[..., Run], data: Customers, spend: Any, memory: bool) -> Run:
    gc.collect()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cpu = time.process_time()
        result = run(data, spend)
        result.cpu_seconds = time.process_time() - cpu
        if memory:
            gc.collect()
            tracemalloc.start()
            run(data, spend)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            result.peak_mib = peak / 2**20
    return result


def seconds(value: float) -> str:
    return f"{value:.2f} s" if value >= 0.1 else f"{value * 1000:.0f} ms"


def show_params(params: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.4g}" for k, v in params.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--period", choices=["day", "week"], default="day")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--lifetimes-pareto-max", type=int, default=100_000)
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc runs")
    args = parser.parse_args()
    period_days = 1.0 if args.period == "day" else 7.0
    memory = not args.no_memory

    import lifetimes

    # Warm-up: imports and first calls are not part of the timings.
    small = simulate(2000, args.seed, period_days)
    ours_purchases(BetaGeo)(small, GammaGamma().fit([1, 2], [10.0, 12.0]))
    lifetimes_spend(small)

    for n in args.sizes:
        data = simulate(n, args.seed, period_days)
        distinct = len(np.unique(np.stack([data.frequency, data.recency, data.T]), axis=1).T)
        table = Table(
            title=(
                f"{n:,} customers ({args.period}s; {data.repeat.mean():.0%} repeat buyers, "
                f"{distinct:,} distinct (frequency, recency, T) rows) — flywheel.analytics.clv "
                f"vs lifetimes {lifetimes.__version__}"
            ),
            title_justify="left",
        )
        for column in (
            "model",
            "library",
            "fit",
            "predict",
            "fit + predict",
            "CPU",
            "speed-up",
            "peak MiB",
            "log-likelihood",
            "rel. diff LL",
        ):
            table.add_column(column, justify="left" if column in ("model", "library") else "right")

        ours_gg = measured(ours_spend, data, None, memory)
        theirs_gg = measured(lifetimes_spend, data, None, memory)
        spend_ours = GammaGamma().with_params(**ours_gg.params)
        spend_theirs = lifetimes_spend.fitter  # type: ignore[attr-defined]

        rows: list[tuple[str, Run, Run | None, str]] = [("Gamma-Gamma", ours_gg, theirs_gg, "")]
        for label, model_class, kind in (
            ("BG/NBD", BetaGeo, "bgnbd"),
            ("Pareto/NBD", ParetoNBD, "pareto"),
        ):
            ours_run = measured(ours_purchases(model_class), data, spend_ours, memory)
            theirs_run: Run | None = None
            note = ""
            if kind == "bgnbd" or n <= args.lifetimes_pareto_max:
                theirs_run = measured(lifetimes_purchases(kind), data, spend_theirs, memory)
            else:
                note = f"skipped above {args.lifetimes_pareto_max:,} customers"
            rows.append((label, ours_run, theirs_run, note))

        totals = {"ours": 0.0, "theirs": 0.0, "ours_cpu": 0.0, "theirs_cpu": 0.0}
        parameters: list[str] = []
        for label, ours_run, theirs_run, note in rows:
            speed = relative = ""
            if theirs_run is not None:
                speed = f"{theirs_run.seconds / ours_run.seconds:.1f}×"
                relative = f"{(ours_run.log_likelihood - theirs_run.log_likelihood) / abs(theirs_run.log_likelihood):+.1e}"
                if label != "Pareto/NBD":
                    totals["ours"] += ours_run.seconds
                    totals["theirs"] += theirs_run.seconds
                    totals["ours_cpu"] += ours_run.cpu_seconds
                    totals["theirs_cpu"] += theirs_run.cpu_seconds
            for library, run, shown_speed, shown_relative in (
                ("flywheel", ours_run, speed, relative),
                ("lifetimes", theirs_run, "", ""),
            ):
                if run is None:
                    table.add_row("", library, "—", "—", "—", "—", "", "—", "—", note)
                    continue
                table.add_row(
                    label if library == "flywheel" else "",
                    library,
                    seconds(run.fit_seconds),
                    seconds(run.predict_seconds),
                    seconds(run.seconds),
                    seconds(run.cpu_seconds),
                    shown_speed,
                    f"{run.peak_mib:,.0f}" if run.peak_mib is not None else "—",
                    f"{run.log_likelihood:,.2f}",
                    shown_relative,
                )
                parameters.append(f"{label} {library}: {show_params(run.params)}")
            table.add_section()
        table.add_row(
            "BG/NBD + Gamma-Gamma",
            "flywheel",
            "",
            "",
            seconds(totals["ours"]),
            seconds(totals["ours_cpu"]),
            f"{totals['theirs'] / totals['ours']:.1f}×",
        )
        table.add_row(
            "", "lifetimes", "", "", seconds(totals["theirs"]), seconds(totals["theirs_cpu"])
        )
        console.print(table)
        for line in parameters:
            console.print(f"  {line}")
        console.print(
            f"  load average after the run: {os.getloadavg()[0]:.1f} (2 = both cores busy)"
        )
    console.print(
        "Times are wall clock (CPU: process time of the same run). speed-up = lifetimes' fit + "
        "predict time / ours; rel. diff LL = (LL ours − LL lifetimes) / |LL lifetimes|, positive "
        "when our fit found the higher likelihood. Predict: p_alive, expected purchases in 90 "
        "and 365 days, 12-month CLV."
    )


if __name__ == "__main__":
    main()
