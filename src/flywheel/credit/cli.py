"""``flywheel credit …``: scores and grades in the terminal; ``flywheel run``: the daily cycle."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import func, select

from flywheel import daily
from flywheel.auth.actor import CLI
from flywheel.cli import JsonFlag, console, fail, print_json
from flywheel.config import get_settings
from flywheel.credit import limits, predictions, service, trained
from flywheel.credit.schemas import LimitReviewOut
from flywheel.db import unit_of_work
from flywheel.errors import FlywheelError, NotEnoughData
from flywheel.models.credit import CreditScore
from flywheel.models.customers import Customer

app = typer.Typer(
    help="Credit: behavioural scores and grades A–E with the reasons behind them.",
    no_args_is_help=True,
)

AsOf = Annotated[
    datetime | None,
    typer.Option("--as-of", formats=["%Y-%m-%d"], help="Business date (default: today)."),
]


def _day(value: datetime | None) -> date:
    return value.date() if value else datetime.now(UTC).date()


def run(as_of: AsOf = None, json_output: JsonFlag = False) -> None:
    """The daily flywheel cycle: score every customer's credit as of the day and keep the
    snapshot (running it again for the same day replaces that day's snapshot), predict payment
    dates, run the collection strategies, then the survey campaigns, the text analysis of new
    comments and the follow-up escalations (idempotent: a second run the same day creates no
    new action or invitation and sends nothing new)."""
    day = _day(as_of)
    try:
        payload = daily.run_daily_cycle(day)
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    if json_output:
        print_json(payload)
        return
    credit = payload["credit"]
    grades = " · ".join(f"{g} {n:,}" for g, n in credit["grades"].items())
    timing = ", ".join(f"{k} {v:.2f} s" for k, v in credit["seconds"].items())
    predicted = payload["payments"]
    if predicted is None:
        console.print(
            "[yellow]payments[/] no payment-date model yet: `flywheel credit train` makes one"
        )
    else:
        console.print(
            f"[green]payments[/] {predicted['installments_predicted']:,} open installments "
            f"predicted; {predicted['forecast_weeks']}-week cash forecast written"
        )
    reviews = credit["limit_reviews"]
    console.print(
        f"[green]credit[/] {credit['customers']:,} customers scored as of {day} ({grades}); "
        f"{credit['grade_changes']:,} grade changes; credit limit reviews: "
        f"{reviews['proposed']:,} new, {reviews['refreshed']:,} refreshed; {timing}"
    )
    collected = payload["collections"]
    console.print(
        f"[green]collections[/] {collected['actions']:,} actions "
        f"({collected['messages']:,} messages queued, {collected['tasks']:,} tasks); "
        f"{collected['skipped_items']:,} items paused by a promise, dispute or extension; "
        f"promises kept {collected['promises_kept']:,}, broken {collected['promises_broken']:,}"
    )
    heard = payload["feedback"]
    invited = ", ".join(
        f"{k.replace('_', ' ')} {v:,}" for k, v in heard["campaigns"].items() if isinstance(v, int)
    )
    analysed = ", ".join(f"{k} {v:,}" for k, v in heard["texts_analysed"].items())
    console.print(
        f"[green]feedback[/] surveys: {invited or 'nothing to do'}; texts analysed: "
        f"{analysed or 'none'}; follow-ups escalated {heard['loops_escalated']:,}"
    )
    retrained = heard["sentiment_retrained"]
    if retrained is not None:
        console.print(f"[green]feedback[/] sentiment model: {retrained['reason']}")
    kept = payload["loyalty"]
    bands = ", ".join(f"{k} {v:,}" for k, v in kept["health_bands"].items())
    actions = kept["next_actions"]
    console.print(
        f"[green]loyalty[/] {kept['customers']:,} customers; health {bands or 'none'}; "
        f"next best actions opened {actions.get('opened', 0):,}"
    )
    followed = payload["key_accounts"]
    console.print(
        f"[green]key accounts[/] renewal reminders {followed['renewal_tasks']:,}; "
        f"overdue milestones {followed['overdue_milestone_tasks']:,}; "
        f"plan reviews {followed['plan_review_tasks']:,}; "
        f"contracts expired {followed['contracts_expired']:,}"
    )


@app.command("scores")
def scores(
    as_of: AsOf = None,
    grade: Annotated[str | None, typer.Option(help="Only this grade, e.g. E.")] = None,
    code: Annotated[str | None, typer.Option(help="One customer, with the reasons.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 50,
    json_output: JsonFlag = False,
) -> None:
    """The scores of the newest snapshot on or before the day, lowest first, with each
    customer's three largest reasons (all of them with --code)."""
    day = _day(as_of)
    with unit_of_work() as session:
        snapshot_day = session.scalar(
            select(func.max(CreditScore.as_of)).where(CreditScore.as_of <= day)
        )
        stmt = (
            select(Customer.code, Customer.name, CreditScore)
            .join(Customer, Customer.id == CreditScore.customer_id)
            .where(CreditScore.as_of == snapshot_day)
            .order_by(CreditScore.score, Customer.code)
            .limit(limit)
        )
        if grade:
            stmt = stmt.where(CreditScore.grade == grade.upper())
        if code:
            stmt = stmt.where(Customer.code == code)
        rows: list[dict[str, Any]] = [
            {
                "code": c,
                "name": name,
                "score": s.score,
                "grade": s.grade,
                "model": s.model,
                "reasons": [
                    {"factor": f, "value": v, "points": p}
                    for f, v, p in (s.factors if code else s.factors[:3])
                ],
            }
            for c, name, s in session.execute(stmt)
        ]
    payload = {"as_of": snapshot_day.isoformat() if snapshot_day else None, "scores": rows}
    if json_output:
        print_json(payload)
        return
    if snapshot_day is None:
        console.print("No credit scores yet: run `flywheel run` first.")
        return
    table = Table(title=f"Credit scores as of {snapshot_day}")
    for column in ("code", "name", "score", "grade", "reasons"):
        table.add_column(column)
    for row in rows:
        reasons = "; ".join(
            f"{r['factor']} {_value(r['value'])} ({r['points']:+d})" for r in row["reasons"]
        )
        table.add_row(row["code"], row["name"], str(row["score"]), row["grade"], reasons)
    console.print(table)


def _value(value: float | None) -> str:
    return "—" if value is None else f"{value:.3g}"


@app.command("scorecard")
def scorecard(json_output: JsonFlag = False) -> None:
    """The expert scorecard in use: base points, each factor's bands and points, grade bounds
    (write it to a file, edit it, point FLYWHEEL_CREDIT_SCORECARD at it)."""
    try:
        card = service.load_scorecard(get_settings().credit_scorecard)
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    if json_output:
        print_json(card.to_dict())
        return
    console.print(
        f"base {card.base}; grades " + ", ".join(f"{g} ≥ {b}" for g, b in card.grades[:-1])
    )
    for factor in card.factors:
        bands = ", ".join(
            f"{'≤ ' + format(u, 'g') if u is not None else 'above'}: {p:+d}"
            for u, p in factor.bands
        )
        console.print(f"  {factor.factor}: {bands}; missing: {factor.missing_points:+d}")


@app.command("reviews")
def reviews(
    grade: Annotated[str | None, typer.Option(help="Only this grade, e.g. A.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 50,
    json_output: JsonFlag = False,
) -> None:
    """Credit limits the daily cycle proposed and nobody has decided yet, biggest change first."""
    with unit_of_work() as session:
        rows, total = limits.pending_reviews(session, limit=limit, grade=grade)
        items = [LimitReviewOut.of(r, c).model_dump(mode="json") for r, c in rows]
    if json_output:
        print_json({"total": total, "reviews": items})
        return
    table = Table(title=f"Credit limit reviews waiting: {total:,}")
    for column in ("id", "code", "name", "grade", "current", "recommended", "per month", "terms"):
        table.add_column(column)
    for item in items:
        table.add_row(
            str(item["id"]),
            item["customer_code"],
            item["customer_name"],
            item["grade"],
            item["current_limit"] or "—",
            item["recommended_limit"],
            item["monthly_invoiced"],
            f"{item['terms_days']} d",
        )
    console.print(table)


@app.command("approve")
def approve(
    review_ids: Annotated[list[int], typer.Argument(help="Review ids (see `credit reviews`).")],
    limit: Annotated[
        float | None, typer.Option(help="Approve this figure instead of the recommended one.")
    ] = None,
    note: Annotated[str | None, typer.Option(help="Why, for the audit trail.")] = None,
    json_output: JsonFlag = False,
) -> None:
    """Approve credit limits: each customer's limit becomes the recommended (or given) figure."""
    _decide(review_ids, approve=True, limit=limit, note=note, json_output=json_output)


@app.command("reject")
def reject(
    review_ids: Annotated[list[int], typer.Argument(help="Review ids (see `credit reviews`).")],
    note: Annotated[str | None, typer.Option(help="Why, for the audit trail.")] = None,
    json_output: JsonFlag = False,
) -> None:
    """Reject credit limit proposals: the current limits stay."""
    _decide(review_ids, approve=False, limit=None, note=note, json_output=json_output)


def _decide(
    review_ids: list[int],
    *,
    approve: bool,
    limit: float | None,
    note: str | None,
    json_output: bool,
) -> None:
    day = datetime.now(UTC).date()
    try:
        with unit_of_work() as session:
            decided = []
            for review_id in review_ids:
                review = limits.decide(
                    session,
                    actor=CLI,
                    review_id=review_id,
                    approve=approve,
                    limit=None if limit is None else Decimal(str(limit)),
                    note=note,
                    on=day,
                )
                customer = session.get(Customer, review.customer_id)
                assert customer is not None
                decided.append(LimitReviewOut.of(review, customer).model_dump(mode="json"))
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    if json_output:
        print_json({"decided": decided})
        return
    for item in decided:
        console.print(
            f"{item['customer_code']}: {item['status']}"
            + (
                f", limit {item['approved_limit']} {item['currency']}"
                if item["approved_limit"]
                else ""
            )
        )


@app.command("train")
def train(as_of: AsOf = None, json_output: JsonFlag = False) -> None:
    """Train the payment-date model (backtested on the last 180 days against the naive
    baselines) and a credit scorecard (validated out of time; used instead of the expert card
    only when it reaches the minimums), and keep both for `flywheel run`."""
    day = _day(as_of)
    settings = get_settings()
    card: dict[str, Any] | None
    try:
        with unit_of_work() as session:
            result = predictions.train(session, as_of=day, model_dir=settings.model_dir)
            try:
                learnt = service.train_scorecard(session, as_of=day, model_dir=settings.model_dir)
                card = {
                    "used": learnt.card.passed,
                    "validation": {k: round(v, 4) for k, v in learnt.card.metrics.items()},
                    "minimums": trained.MINIMUMS,
                    "n_train": learnt.n_train,
                    "n_test": learnt.n_test,
                    "bad_rate_train": round(learnt.bad_rate_train, 4),
                    "grades": [list(g) for g in learnt.card.grade_bounds[:-1]],
                }
            except NotEnoughData as exc:
                card = {"used": False, "reason": exc.message}
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    payload = {
        "as_of": day.isoformat(),
        "model_file": str(result.path),
        "n_train": result.n_train,
        "backtest": {
            "n_test": result.n_test,
            "model": {"mae_days": round(result.mae_days, 3), "auc_late": result.auc_late},
            "baselines": {
                k: {"mae_days": round(v, 3)} for k, v in result.baseline_mae_days.items()
            },
            "improvement_over_best_baseline": round(result.improvement_over_best_baseline, 4),
        },
        "seconds": {k: round(v, 2) for k, v in result.seconds.items()},
        "scorecard": card,
    }
    if json_output:
        print_json(payload)
        return
    if card and card.get("validation"):
        v = card["validation"]
        console.print(
            f"[green]credit scorecard[/] trained on {card['n_train']:,} customer-months; out of "
            f"time on {card['n_test']:,}: AUC {v['auc']:.3f}, KS {v['ks']:.3f}, PSI {v['psi']:.3f}"
            + (
                " — used from now on"
                if card["used"]
                else " — below the minimums: the expert card stays"
            )
        )
    elif card:
        console.print(f"[yellow]credit scorecard[/] not trained: {card['reason']}")
    console.print(
        f"[green]payment-date model[/] trained on {result.n_train:,} paid installments, kept in "
        f"{result.path}; backtest on {result.n_test:,}: MAE {result.mae_days:.2f} days "
        + ", ".join(f"{k} {v:.2f}" for k, v in result.baseline_mae_days.items())
        + f" ({result.improvement_over_best_baseline:+.1%} vs the best baseline)"
    )
