"""``flywheel loyalty health``, ``clv`` and ``train-churn``: stored health with its factors, the
largest CLVs with totals per currency, and the churn classifier's out-of-time check."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from flywheel.auth.actor import CLI
from flywheel.cli import JsonFlag, console, fail, print_json
from flywheel.config import get_settings
from flywheel.db import unit_of_work
from flywheel.errors import FlywheelError, NotFound, ValidationFailed
from flywheel.loyalty import churn, health_labels, health_queries
from flywheel.loyalty.cli import app
from flywheel.loyalty.health_queries import HealthFilter, HealthSort
from flywheel.loyalty.health_schemas import FactorOut, HealthItemOut, HistoryOut, ScoresOut
from flywheel.models.customers import Customer

__all__ = ["app"]

AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="The newest scores on or before this day (default: today)."),
]


def _as_of(text: str | None) -> date:
    if not text:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed(
            f"--as-of must be a date like 2026-03-31, not {text!r}", field="as_of", value=text
        ) from None


def _one_account(session: Any, code: str, day: date) -> dict[str, Any]:
    customer = session.query(Customer).filter(Customer.code == code).one_or_none()
    if customer is None:
        raise NotFound(f"customer {code} not found", code=code)
    score = health_queries.latest_score(session, customer.id, as_of=day)
    if score is None:
        raise NotFound(
            f"{code} has no loyalty scores yet (the daily cycle, flywheel run, scores it)",
            code=code,
        )
    return {
        "customer_id": customer.id,
        "code": customer.code,
        "name": customer.name,
        "scores": ScoresOut.of(score).model_dump(mode="json"),
        "factors": [FactorOut.of(e).model_dump(mode="json") for e in score.health_factors],
        "history": [
            HistoryOut.of(p).model_dump(mode="json")
            for p in health_queries.history(session, customer.id, until=score.as_of)
        ],
    }


@app.command("health")
def health_command(
    customer: Annotated[
        str | None, typer.Option("--customer", help="One account (its code), with its factors.")
    ] = None,
    band: Annotated[str | None, typer.Option("--band", help="red, yellow or green.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100_000)] = 20,
    sort: Annotated[
        HealthSort, typer.Option("--sort", help="value_at_risk (highest first) or health.")
    ] = HealthSort.VALUE_AT_RISK,
    as_of: AsOfOption = None,
    json_output: JsonFlag = False,
) -> None:
    """Health of the last loyalty cycle run: accounts by value at risk (CLV × churn risk), or
    one account with each factor's value and points and its 90-day history."""
    try:
        day = _as_of(as_of)
        with unit_of_work() as session:
            if customer:
                payload = _one_account(session, customer.strip(), day)
            else:
                page = health_queries.health_page(
                    session,
                    actor=CLI,
                    as_of=day,
                    flt=HealthFilter(band=band),
                    sort=sort,
                    limit=limit,
                )
                payload = {
                    "as_of": page.day.isoformat() if page.day else None,
                    "total": page.total,
                    "items": [HealthItemOut.of(r).model_dump(mode="json") for r in page.items],
                }
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    if json_output:
        print_json(payload)
        return
    if customer:
        _print_account(payload)
        return
    if payload["as_of"] is None:
        console.print("No loyalty scores yet: run `flywheel run` first.")
        return
    table = Table(title=f"Health as of {payload['as_of']} ({payload['total']:,} accounts)")
    for column in ("Code", "Name", "Health", "Band", "Trend", "Churn risk", "Basis", "CLV"):
        table.add_column(column, justify="right" if column in ("Health", "Churn risk") else "left")
    table.add_column("Value at risk", justify="right")
    for item in payload["items"]:
        table.add_row(
            item["code"],
            item["name"],
            str(item["health"]),
            item["health_band"],
            health_labels.TREND_ARROWS.get(item["health_trend"], ""),
            f"{item['churn_risk']:.0%}",
            item["churn_basis"],
            f"{item['clv']} {item['currency']}" if item["clv"] else "–",
            f"{item['value_at_risk']} {item['currency']}" if item["value_at_risk"] else "–",
        )
    console.print(table)


def _print_account(payload: dict[str, Any]) -> None:
    s = payload["scores"]
    console.print(
        f"[bold]{payload['code']}[/] {payload['name']} — health {s['health']} "
        f"({s['health_band']}, {s['health_trend']}) as of {s['as_of']}; churn risk "
        f"{s['churn_risk']:.0%} ({s['churn_basis']}); CLV "
        f"{s['clv'] + ' ' + s['currency'] if s['clv'] else '–'}; P(alive) "
        f"{'–' if s['p_alive'] is None else format(s['p_alive'], '.0%')}; segment {s['segment']}"
    )
    table = Table(title="Why this health")
    table.add_column("Factor")
    table.add_column("Value", justify="right")
    table.add_column("Points", justify="right")
    for f in payload["factors"]:
        table.add_row(
            f["label"],
            "no data" if f["value"] is None else f"{f['value']:g}",
            f"{f['points']:.1f}",
        )
    console.print(table)


@app.command("clv")
def clv_command(
    top: Annotated[int, typer.Option("--top", min=1, max=100_000)] = 20,
    as_of: AsOfOption = None,
    json_output: JsonFlag = False,
) -> None:
    """The accounts with the largest customer lifetime value on the last loyalty cycle run,
    and the CLV totals per currency."""
    try:
        day = _as_of(as_of)
        with unit_of_work() as session:
            scored_day, rows, totals = health_queries.top_clv(
                session, actor=CLI, as_of=day, limit=top
            )
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    payload: dict[str, Any] = {
        "as_of": scored_day.isoformat() if scored_day else None,
        "totals": [
            {"currency": t.currency, "accounts": t.accounts, "clv": f"{t.clv:.2f}"} for t in totals
        ],
        "top": [
            {
                "code": r.code,
                "name": r.name,
                "currency": r.currency,
                "clv": f"{r.clv:.2f}",
                "p_alive": None if r.p_alive is None else round(r.p_alive, 4),
                "expected_purchases_365": None
                if r.expected_purchases_365 is None
                else round(r.expected_purchases_365, 4),
                "segment": r.segment,
                "health": r.health,
                "churn_risk": round(r.churn_risk, 4),
            }
            for r in rows
        ],
    }
    if json_output:
        print_json(payload)
        return
    if scored_day is None:
        console.print("No loyalty scores yet: run `flywheel run` first.")
        return
    table = Table(title=f"Largest customer lifetime values as of {scored_day}")
    for column in ("Code", "Name", "CLV", "P(alive)", "Purchases (365 d)", "Segment", "Health"):
        table.add_column(
            column, justify="left" if column in ("Code", "Name", "Segment") else "right"
        )
    for r in payload["top"]:
        table.add_row(
            r["code"],
            r["name"],
            f"{r['clv']} {r['currency']}",
            "–" if r["p_alive"] is None else f"{r['p_alive']:.0%}",
            "–" if r["expected_purchases_365"] is None else f"{r['expected_purchases_365']:.1f}",
            r["segment"],
            str(r["health"]),
        )
    console.print(table)
    for t in payload["totals"]:
        console.print(f"Total CLV {t['currency']}: {t['clv']} over {t['accounts']:,} accounts")


@app.command("train-churn")
def train_churn_command(as_of: AsOfOption = None, json_output: JsonFlag = False) -> None:
    """Train the churn classifier on the customers marked as lost (status churned), check it
    out of time (train on the earlier half-year window, test on the later one) and keep it; the
    daily cycle uses it only if its AUC beats the rule's (1 − probability alive)."""
    try:
        day = _as_of(as_of)
        with unit_of_work() as session:
            fit = churn.train_churn(
                session,
                as_of=day,
                settings=get_settings(),
                min_lost_train=churn.MIN_LOST_TRAIN,
                min_lost_test=churn.MIN_LOST_TEST,
            )
            payload = {
                "as_of": fit.as_of.isoformat(),
                "model": fit.model,
                "model_fit_id": fit.id,
                "auc_model": fit.diagnostics["auc_model"],
                "auc_rule": fit.diagnostics["auc_rule"],
                "adopted": fit.adopted,
                "train": fit.diagnostics["train"],
                "test": fit.diagnostics["test"],
                "spacing_days": fit.diagnostics["spacing_days"],
                "n_customers": fit.n_customers,
            }
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    if json_output:
        print_json(payload)
        return
    verdict = (
        "[green]adopted[/]: the daily cycle uses it for transactional accounts"
        if payload["adopted"]
        else "[yellow]not adopted[/]: churn risk stays 1 − probability alive"
    )
    console.print(
        f"Churn model as of {payload['as_of']}: AUC {payload['auc_model']:.3f} against the "
        f"rule's {payload['auc_rule']:.3f} on {payload['test']['accounts']:,} accounts "
        f"({payload['test']['lost']:,} lost) of the later window — {verdict}"
    )
