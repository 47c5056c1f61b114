"""``flywheel analyze clv``: BG/NBD or Pareto/NBD with Gamma-Gamma on the user's transactions."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table as RichTable

from flywheel.analyze_cli import (
    TextTable,
    _first_bad,
    _working,
    _write_rows,
    parse_dates,
    parse_numbers,
    read_text_table,
)
from flywheel.cli import JsonFlag, console, fail, print_json
from flywheel.errors import (
    AnalysisInputInvalid,
    FlywheelError,
    NotEnoughData,
    ValueUnparseable,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from flywheel.analytics.clv import BetaGeo, CustomerSummary, GammaGamma, ParetoNBD


class PurchaseModel(StrEnum):
    bgnbd = "bgnbd"
    pareto = "pareto"


class Period(StrEnum):
    day = "day"
    week = "week"


PERIOD_DAYS = {Period.day: 1, Period.week: 7}
MODEL_NAMES = {PurchaseModel.bgnbd: "BG/NBD", PurchaseModel.pareto: "Pareto/NBD"}
HORIZON_DAYS = (90, 365)
CLV_MONTHS = 12
MONTHLY_DISCOUNT_RATE = 0.01
DAYS_PER_MONTH = 365.25 / 12
# The calibration/holdout table groups customers by their calibration repeat purchases, the
# last group open-ended (as in Fader, Hardie & Lee 2005, figure 4).
FREQUENCY_GROUPS = 7


def clv(
    transactions: Annotated[
        Path, typer.Argument(help="Transactions (CSV or XLSX), one row per purchase.")
    ],
    customer_col: Annotated[str, typer.Option("--customer-col", help="Customer id column.")],
    date_col: Annotated[str, typer.Option("--date-col", help="Purchase date column.")],
    calibration_end: Annotated[
        str,
        typer.Option(
            "--calibration-end",
            help="Last day (inclusive) of the period the models learn from; predictions start "
            "the day after.",
        ),
    ],
    amount_col: Annotated[
        str | None,
        typer.Option(
            "--amount-col",
            help="Purchase amount column: adds the Gamma-Gamma spend model, expected order "
            "value, CLV and revenue.",
        ),
    ] = None,
    holdout_end: Annotated[
        str | None,
        typer.Option(
            "--holdout-end",
            help="Last day (inclusive) of a holdout period after the calibration end: the "
            "predicted repeat purchases are compared with the actual ones.",
        ),
    ] = None,
    model: Annotated[
        PurchaseModel,
        typer.Option("--model", help="Purchase model: BG/NBD or Pareto/NBD."),
    ] = PurchaseModel.bgnbd,
    period: Annotated[
        Period,
        typer.Option(
            "--period",
            help="Time unit of the model (recency, T, parameters): day or week. Purchases on "
            "the same day always count once.",
        ),
    ] = Period.day,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write one row per customer: frequency, recency, T, p_alive, expected "
            "purchases in 90 and 365 days, expected order value and CLV.",
        ),
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Fit the customer-lifetime-value models on your transactions (no database).

    BG/NBD (or Pareto/NBD) for the purchase process and Gamma-Gamma for the order value, fitted by maximum likelihood on the purchases up to --calibration-end. Each customer's first purchase day starts his clock; frequency = repeat purchase days, recency = time from the first to the last purchase, T = time from the first purchase to the calibration end.

    Prints the parameters and the log-likelihood; with --holdout-end the predicted against actual repeat purchases (in total, per customer as MAE, and by calibration frequency) and, with --amount-col, revenue. CLV: 12 months, 1% monthly discount.
    """
    try:
        payload = _run_clv(
            transactions,
            customer_col=customer_col,
            date_col=date_col,
            amount_col=amount_col,
            calibration_text=calibration_end,
            holdout_text=holdout_end,
            model_choice=model,
            period=period,
            out=out,
            quiet=json_output,
        )
    except FlywheelError as error:
        raise fail(error, as_json=json_output) from None
    if json_output:
        print_json(payload)
        return
    _show_clv(payload)


def _parse_day(option: str, text: str) -> date:
    from flywheel.kit.parse import parse_date

    try:
        return parse_date(text)
    except ValueError as exc:
        raise ValueUnparseable(f"{option}: {exc}", option=option, value=text) from None


def _customers(table: TextTable, column: str) -> npt.NDArray[Any]:
    import numpy as np

    values = np.array(table.columns[column], dtype=object)
    empty = np.array([value is None for value in table.columns[column]])
    if empty.any():
        position = _first_bad(empty)
        raise ValueUnparseable(
            f"{table.name}, row {table.row(position)}, column {column!r}: the customer is empty",
            file=table.name,
            row=table.row(position),
            column=column,
        )
    return values


def _run_clv(
    path: Path,
    *,
    customer_col: str,
    date_col: str,
    amount_col: str | None,
    calibration_text: str,
    holdout_text: str | None,
    model_choice: PurchaseModel,
    period: Period,
    out: Path | None,
    quiet: bool,
) -> dict[str, Any]:
    import numpy as np

    from flywheel.analytics.clv import BetaGeo, GammaGamma, ParetoNBD, summarise

    started = time.perf_counter()
    calibration = _parse_day("--calibration-end", calibration_text)
    holdout = _parse_day("--holdout-end", holdout_text) if holdout_text else None
    if holdout is not None and holdout <= calibration:
        raise AnalysisInputInvalid(
            f"--holdout-end {holdout} must come after --calibration-end {calibration}",
            option="--holdout-end",
        )
    table = read_text_table(path)
    table.require(customer_col, date_col, *([amount_col] if amount_col else []))
    customers = _customers(table, customer_col)
    days = parse_dates(table, date_col, required=True).astype(np.int64)
    amounts = None
    if amount_col:
        amounts = parse_numbers(table, amount_col, required=True)
        negative = amounts < 0
        if negative.any():
            position = _first_bad(negative)
            raise ValueUnparseable(
                f"{table.name}, row {table.row(position)}, column {amount_col!r}: "
                f"{table.columns[amount_col][position]!r} is negative; give purchases only "
                "(net returns out of the amounts first)",
                file=table.name,
                row=table.row(position),
                column=amount_col,
            )

    calibration_day = int(np.datetime64(calibration, "D").astype(np.int64))
    holdout_day = int(np.datetime64(holdout, "D").astype(np.int64)) if holdout else None
    first_day, last_day = int(days.min()), int(days.max())
    if first_day > calibration_day:
        raise NotEnoughData(
            f"{table.name}: no purchase on or before --calibration-end {calibration}; the "
            f"first purchase is on {_day_text(first_day)}",
            file=table.name,
        )
    if holdout_day is not None and last_day <= calibration_day:
        raise NotEnoughData(
            f"{table.name}: --calibration-end {calibration} is on or after the last purchase "
            f"({_day_text(last_day)}), so the holdout period has no purchases; choose an earlier "
            "calibration end or leave out --holdout-end",
            file=table.name,
        )
    notes: list[str] = []
    if holdout_day is not None and last_day < holdout_day:
        notes.append(
            f"the last purchase in the file is on {_day_text(last_day)}, before --holdout-end "
            f"{holdout}: the actual holdout purchases may be incomplete"
        )
    period_days = PERIOD_DAYS[period]
    summary = summarise(
        customers,
        days,
        amounts,
        calibration_end=calibration_day,
        holdout_end=holdout_day,
        period_days=period_days,
    )
    repeat = summary.frequency > 0
    if not repeat.any():
        raise NotEnoughData(
            f"{table.name}: none of the {len(summary):,} customers bought again on another "
            f"day by {calibration}; the models learn from repeat purchases",
            file=table.name,
        )
    read_seconds = time.perf_counter() - started

    purchases: BetaGeo | ParetoNBD = (
        BetaGeo() if model_choice is PurchaseModel.bgnbd else ParetoNBD()
    )
    spend: GammaGamma | None = None
    started = time.perf_counter()
    with _working(
        f"Fitting {MODEL_NAMES[model_choice]} on {len(summary):,} customers …", quiet=quiet
    ):
        try:
            purchases.fit(summary.frequency, summary.recency, summary.T)
            if summary.monetary_value is not None:
                spending = repeat & (summary.monetary_value > 0)
                if spending.sum() >= 2:
                    spend = GammaGamma().fit(
                        summary.frequency[spending], summary.monetary_value[spending]
                    )
                else:
                    notes.append(
                        "fewer than 2 repeat customers with a positive spend: no Gamma-Gamma "
                        "model, no CLV"
                    )
        except ValueError as exc:
            raise AnalysisInputInvalid(f"{table.name}: cannot fit the models: {exc}") from None
    fit_seconds = time.perf_counter() - started
    if not purchases.converged_:
        notes.append(f"the {MODEL_NAMES[model_choice]} fit did not fully converge")
    if spend is not None and spend.params_["q"] <= 1:
        notes.append("Gamma-Gamma q ≤ 1: the population mean order value is not finite")

    started = time.perf_counter()
    predictions = _predict(summary, purchases, spend)
    predict_seconds = time.perf_counter() - started

    payload: dict[str, Any] = {
        "file": table.name,
        "model": model_choice.value,
        "period": period.value,
        "period_days": period_days,
        "calibration_end": calibration.isoformat(),
        "holdout_end": holdout.isoformat() if holdout else None,
        "params": {name: _rounded(value) for name, value in purchases.params_.items()},
        "log_likelihood": round(purchases.log_likelihood_, 4),
        "converged": purchases.converged_,
        "n_customers": len(summary),
        "n_repeat_customers": int(repeat.sum()),
        "n_transactions": summary.n_transactions,
        "gamma_gamma": None,
        "holdout": _holdout(summary, predictions) if holdout_day is not None else None,
        "totals": {
            f"expected_purchases_{horizon}d": round(
                float(predictions[f"expected_purchases_{horizon}d"].sum()), 2
            )
            for horizon in HORIZON_DAYS
        },
        "clv": None,
        "seconds": {
            "read": round(read_seconds, 3),
            "fit": round(fit_seconds, 3),
            "predict": round(predict_seconds, 3),
        },
        "out": str(out) if out is not None else None,
        "notes": notes,
    }
    if spend is not None:
        payload["gamma_gamma"] = {
            "params": {
                **{name: _rounded(value) for name, value in spend.params_.items()},
                "gamma": _rounded(spend.gamma_),
            },
            "log_likelihood": round(spend.log_likelihood_, 4),
            "n_customers": int(spend.n_customers_),
            "mean_order_value": (
                _rounded(spend.population_mean_order_value()) if spend.params_["q"] > 1 else None
            ),
        }
        payload["totals"]["clv"] = round(float(predictions["clv"].sum()), 2)
        payload["clv"] = {
            "months": CLV_MONTHS,
            "monthly_discount_rate": MONTHLY_DISCOUNT_RATE,
            "days_per_month": DAYS_PER_MONTH,
        }
    if out is not None:
        _write_customers(out, summary, predictions)
    return payload


def _day_text(day: int) -> str:
    import numpy as np

    return str(np.datetime64(day, "D"))


def _rounded(value: float, digits: int = 6) -> float:
    return round(float(value), digits)


def _predict(
    summary: CustomerSummary, purchases: BetaGeo | ParetoNBD, spend: GammaGamma | None
) -> dict[str, npt.NDArray[np.float64]]:
    from flywheel.analytics.clv import clv as discounted_clv

    f, r, T = summary.frequency, summary.recency, summary.T
    period_days = summary.period_days
    result = {"p_alive": purchases.p_alive(f, r, T)}
    for days in HORIZON_DAYS:
        result[f"expected_purchases_{days}d"] = purchases.expected_purchases(
            days / period_days, f, r, T
        )
    if summary.holdout_length is not None:
        result["holdout_predicted"] = purchases.expected_purchases(summary.holdout_length, f, r, T)
    if spend is not None and summary.monetary_value is not None:
        result["expected_order_value"] = spend.expected_order_value(f, summary.monetary_value)
        result["clv"] = discounted_clv(
            purchases,
            spend,
            f,
            r,
            T,
            summary.monetary_value,
            months=CLV_MONTHS,
            monthly_discount_rate=MONTHLY_DISCOUNT_RATE,
            periods_per_month=DAYS_PER_MONTH / period_days,
        )
        if "holdout_predicted" in result:
            result["holdout_revenue_predicted"] = (
                result["holdout_predicted"] * result["expected_order_value"]
            )
    return result


def _holdout(
    summary: CustomerSummary, predictions: dict[str, npt.NDArray[np.float64]]
) -> dict[str, Any]:
    import numpy as np

    assert summary.holdout_frequency is not None
    assert summary.holdout_length is not None
    predicted = predictions["holdout_predicted"]
    actual = summary.holdout_frequency
    group = np.minimum(summary.frequency, FREQUENCY_GROUPS).astype(np.int64)
    by_frequency = []
    for value in range(FREQUENCY_GROUPS + 1):
        members = group == value
        if not members.any():
            continue
        by_frequency.append(
            {
                "frequency": str(value) if value < FREQUENCY_GROUPS else f"{value}+",
                "customers": int(members.sum()),
                "actual_mean": round(float(actual[members].mean()), 4),
                "predicted_mean": round(float(predicted[members].mean()), 4),
            }
        )
    result: dict[str, Any] = {
        "length_periods": round(summary.holdout_length, 4),
        "predicted_total": round(float(predicted.sum()), 2),
        "actual_total": round(float(actual.sum()), 2),
        "mae": round(float(np.abs(predicted - actual).mean()), 4),
        "by_frequency": by_frequency,
        "revenue": None,
    }
    if "holdout_revenue_predicted" in predictions and summary.holdout_revenue is not None:
        revenue = predictions["holdout_revenue_predicted"]
        result["revenue"] = {
            "predicted_total": round(float(revenue.sum()), 2),
            "actual_total": round(float(summary.holdout_revenue.sum()), 2),
            "mae": round(float(np.abs(revenue - summary.holdout_revenue).mean()), 4),
        }
    return result


def _write_customers(
    out: Path, summary: CustomerSummary, predictions: dict[str, npt.NDArray[np.float64]]
) -> int:
    import numpy as np

    columns: dict[str, Any] = {
        "frequency": summary.frequency.astype(np.int64),
        "recency": np.round(summary.recency, 4),
        "T": np.round(summary.T, 4),
    }
    if summary.monetary_value is not None:
        columns["monetary_value"] = np.round(summary.monetary_value, 2)
    columns["p_alive"] = np.round(predictions["p_alive"], 6)
    for days in HORIZON_DAYS:
        name = f"expected_purchases_{days}d"
        columns[name] = np.round(predictions[name], 6) + 0.0
    if "clv" in predictions:
        columns["expected_order_value"] = np.round(predictions["expected_order_value"], 2)
        columns["clv"] = np.round(predictions["clv"], 2) + 0.0
    if summary.holdout_frequency is not None:
        columns["holdout_purchases"] = summary.holdout_frequency.astype(np.int64)
        columns["holdout_purchases_predicted"] = np.round(predictions["holdout_predicted"], 6)
        if summary.holdout_revenue is not None and "holdout_revenue_predicted" in predictions:
            columns["holdout_revenue"] = np.round(summary.holdout_revenue, 2)
            columns["holdout_revenue_predicted"] = np.round(
                predictions["holdout_revenue_predicted"], 2
            )
    first = summary.first_day.astype("datetime64[D]").astype(str)
    values = [column.tolist() for column in columns.values()]

    def rows() -> Iterator[list[Any]]:
        for position, customer in enumerate(summary.customer_ids.tolist()):
            yield [customer, first[position], *(column[position] for column in values)]

    return _write_rows(out, ["customer", "first_purchase", *columns], rows())


def _show_clv(payload: dict[str, Any]) -> None:
    model = MODEL_NAMES[PurchaseModel(payload["model"])]
    unit = payload["period"]
    console.print(
        f"{model} on {payload['file']}: {payload['n_customers']:,} customers "
        f"({payload['n_repeat_customers']:,} bought again), calibration period up to "
        f"{payload['calibration_end']}, time in {unit}s."
    )
    params = RichTable(title=f"{model} parameters", title_justify="left")
    params.add_column("parameter")
    params.add_column("value", justify="right")
    for name, value in payload["params"].items():
        params.add_row(name, f"{value:.4f}")
    params.add_row("log-likelihood", f"{payload['log_likelihood']:.1f}")
    console.print(params)

    spend = payload["gamma_gamma"]
    if spend is not None:
        table = RichTable(title="Gamma-Gamma spend model", title_justify="left")
        table.add_column("parameter")
        table.add_column("value", justify="right")
        for name in ("p", "q"):
            table.add_row(name, f"{spend['params'][name]:.4f}")
        table.add_row("γ (v)", f"{spend['params']['v']:.4f}")
        table.add_row("log-likelihood", f"{spend['log_likelihood']:.1f}")
        mean = spend["mean_order_value"]
        table.add_row("mean order value", "—" if mean is None else f"{mean:,.2f}")
        table.add_row("repeat customers", f"{spend['n_customers']:,}")
        console.print(table)

    holdout = payload["holdout"]
    if holdout is not None:
        console.print(
            f"Holdout after {payload['calibration_end']} up to {payload['holdout_end']} "
            f"({holdout['length_periods']:g} {unit}s): predicted against actual."
        )
        table = RichTable()
        table.add_column("")
        table.add_column("predicted", justify="right")
        table.add_column("actual", justify="right")
        table.add_column("MAE per customer", justify="right")
        table.add_row(
            "repeat purchases",
            f"{holdout['predicted_total']:,.1f}",
            f"{holdout['actual_total']:,.0f}",
            f"{holdout['mae']:.3f}",
        )
        if holdout["revenue"] is not None:
            revenue = holdout["revenue"]
            table.add_row(
                "revenue",
                f"{revenue['predicted_total']:,.2f}",
                f"{revenue['actual_total']:,.2f}",
                f"{revenue['mae']:,.2f}",
            )
        console.print(table)
        groups = RichTable(title="Mean holdout purchases per customer", title_justify="left")
        for column in ("calibration repeats", "customers", "actual", "predicted"):
            groups.add_column(column, justify="right")
        for row in holdout["by_frequency"]:
            groups.add_row(
                row["frequency"],
                f"{row['customers']:,}",
                f"{row['actual_mean']:.3f}",
                f"{row['predicted_mean']:.3f}",
            )
        console.print(groups)

    totals = payload["totals"]
    line = (
        f"Expected repeat purchases of all customers: {totals['expected_purchases_90d']:,.1f} "
        f"in the next 90 days, {totals['expected_purchases_365d']:,.1f} in 365 days"
    )
    if payload["clv"] is not None:
        line += (
            f"; CLV over {payload['clv']['months']} months at "
            f"{payload['clv']['monthly_discount_rate']:.0%} a month: {totals['clv']:,.2f}"
        )
    console.print(line + ".")
    for note in payload["notes"]:
        console.print(f"Note: {note}.")
    if payload["out"]:
        console.print(f"One row per customer written to {payload['out']}.")
