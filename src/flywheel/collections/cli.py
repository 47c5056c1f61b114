"""``flywheel collections …``: the worklist, promises to pay, disputes, payment plans and the
strategies in the terminal; record a promise or open a dispute from a script."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy.orm import selectinload

from flywheel.auth.actor import CLI, Actor
from flywheel.cli import JsonFlag, console, fail, print_json
from flywheel.collections import arrangements, disputes, promises, strategies, worklist
from flywheel.collections.schemas import StrategyOut, WorkChannel, WorkItemOut
from flywheel.collections.shapes import (
    arrangement_outs,
    dispute_out,
    dispute_outs,
    promise_out,
    promise_outs,
    usernames,
)
from flywheel.customers import service as customers
from flywheel.db import unit_of_work
from flywheel.errors import FlywheelError, ValidationFailed
from flywheel.models.collections import PaymentArrangement, PromiseToPay
from flywheel.models.customers import Customer
from flywheel.models.enums import (
    ArrangementKind,
    ArrangementStatus,
    DisputeReason,
    DisputeStatus,
    PromiseStatus,
)
from flywheel.users import service as users

app = typer.Typer(
    help="Collections: the worklist, promises to pay, disputes, payment plans and extensions.",
    no_args_is_help=True,
)

AsOf = Annotated[
    datetime | None,
    typer.Option("--as-of", formats=["%Y-%m-%d"], help="Business date (default: today)."),
]
Code = Annotated[str | None, typer.Option("--code", help="Only this account (its code).")]
Limit = Annotated[int, typer.Option(min=1, max=100_000, help="At most this many rows.")]


def _day(value: datetime | None) -> date:
    return value.date() if value else datetime.now(UTC).date()


def _amount(text: str, field: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", "").strip())
    except InvalidOperation as exc:
        raise ValidationFailed(f"{field}: {text!r} is not an amount", field=field) from exc
    if not value.is_finite():
        raise ValidationFailed(f"{field}: {text!r} is not an amount", field=field)
    return value


def _or_dash(value: Any) -> str:
    return "—" if value is None or value == "" else str(value)


# ---------------------------------------------------------------- lists


@app.command("worklist")
def worklist_command(
    everyone: Annotated[
        bool, typer.Option("--all", help="Everyone's work, not only the unassigned (or mine).")
    ] = False,
    user: Annotated[
        str | None,
        typer.Option("--user", help="As this user: his accounts, his and unassigned work."),
    ] = None,
    channel: Annotated[WorkChannel | None, typer.Option(help="Only this kind of work.")] = None,
    grade: Annotated[str | None, typer.Option(help="Only this credit grade, e.g. D.")] = None,
    q: Annotated[str | None, typer.Option("--q", help="Part of a code or name.")] = None,
    limit: Limit = 50,
    as_of: AsOf = None,
    json_output: JsonFlag = False,
) -> None:
    """Today's collection work, most valuable first.

    Promises due or broken, then disputes near their SLA, then tasks and messages waiting for
    review by expected value of acting. Without --user: the unassigned work (--all: everyone's).
    """
    day = _day(as_of)
    try:
        with unit_of_work() as session:
            actor: Actor = CLI
            if user is not None:
                actor = Actor.for_user(users.get_by_username(session, user))
            work = worklist.worklist(
                session,
                actor=actor,
                as_of=day,
                mine=worklist.Mine.ALL if everyone else worklist.Mine.MINE,
                channel=channel.value if channel else None,
                grade=grade.upper() if grade else None,
                q=q,
                limit=limit,
            )
            names = usernames(session, (i.assigned_to_id for i in work.items))
            items = [WorkItemOut.of(i, names).model_dump(mode="json") for i in work.items]
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    if json_output:
        print_json({"as_of": day.isoformat(), "total": work.total, "items": items})
        return
    table = Table(title=f"Worklist {day}: {work.total:,} items")
    for column in ("source", "id", "code", "name", "grade", "kind", "channel", "amount", "days"):
        table.add_column(column)
    for item in items:
        table.add_row(
            item["source"],
            str(item["id"]),
            item["customer"],
            item["customer_name"],
            _or_dash(item["grade"]),
            item["kind"],
            _or_dash(item["channel"]),
            f"{item['amount']} {item['currency']}" if item["amount"] else "—",
            _or_dash(item["days_overdue"]),
        )
    console.print(table)


@app.command("promises")
def promises_command(
    status: Annotated[PromiseStatus | None, typer.Option(help="Only this status.")] = None,
    code: Code = None,
    limit: Limit = 50,
    json_output: JsonFlag = False,
) -> None:
    """Promises to pay, soonest promised day first."""
    with unit_of_work() as session:
        stmt = promises.promises_query(CLI, status=status).options(selectinload(PromiseToPay.items))
        if code:
            stmt = stmt.where(Customer.code == code)
        rows = [(p, c) for p, c in session.execute(stmt.limit(limit)).all()]
        items = [p.model_dump(mode="json") for p in promise_outs(session, rows)]
    if json_output:
        print_json({"total": len(items), "promises": items})
        return
    table = Table(title=f"Promises to pay: {len(items):,}")
    for column in ("id", "code", "name", "amount", "paid", "promised on", "status", "note"):
        table.add_column(column)
    for item in items:
        table.add_row(
            str(item["id"]),
            item["customer"],
            item["customer_name"],
            f"{item['amount']} {item['currency']}",
            item["paid_amount"],
            item["promised_on"],
            item["status"],
            _or_dash(item["note"]),
        )
    console.print(table)


@app.command("disputes")
def disputes_command(
    status: Annotated[DisputeStatus | None, typer.Option(help="Only this status.")] = None,
    reason: Annotated[DisputeReason | None, typer.Option(help="Only this reason.")] = None,
    code: Code = None,
    limit: Limit = 50,
    json_output: JsonFlag = False,
) -> None:
    """Disputes, oldest SLA first."""
    with unit_of_work() as session:
        stmt = disputes.disputes_query(CLI, status=status, reason=reason)
        if code:
            stmt = stmt.where(Customer.code == code)
        rows = [(d, c) for d, c in session.execute(stmt.limit(limit)).all()]
        items = [d.model_dump(mode="json") for d in dispute_outs(session, rows)]
    if json_output:
        print_json({"total": len(items), "disputes": items})
        return
    table = Table(title=f"Disputes: {len(items):,}")
    for column in ("id", "code", "invoice", "reason", "amount", "owner", "SLA", "status"):
        table.add_column(column)
    for item in items:
        table.add_row(
            str(item["id"]),
            item["customer"],
            item["invoice"],
            item["reason"],
            f"{item['amount']} {item['currency']}",
            _or_dash(item["owner"]),
            item["sla_due_on"],
            item["status"] + (f" ({item['resolution']})" if item["resolution"] else ""),
        )
    console.print(table)


@app.command("plans")
def plans_command(
    status: Annotated[ArrangementStatus | None, typer.Option(help="Only this status.")] = None,
    kind: Annotated[
        ArrangementKind | None, typer.Option(help="plan (installments) or extension.")
    ] = None,
    code: Code = None,
    limit: Limit = 50,
    json_output: JsonFlag = False,
) -> None:
    """Installment plans and extensions, newest first."""
    with unit_of_work() as session:
        stmt = arrangements.arrangements_query(CLI, status=status, kind=kind).options(
            selectinload(PaymentArrangement.items)
        )
        if code:
            stmt = stmt.where(Customer.code == code)
        rows = [(a, c) for a, c in session.execute(stmt.limit(limit)).all()]
        items = [a.model_dump(mode="json") for a in arrangement_outs(session, rows)]
    if json_output:
        print_json({"total": len(items), "arrangements": items})
        return
    table = Table(title=f"Payment plans and extensions: {len(items):,}")
    for column in ("id", "code", "kind", "amount", "parts", "first due", "status", "reason"):
        table.add_column(column)
    for item in items:
        table.add_row(
            str(item["id"]),
            item["customer"],
            item["kind"],
            f"{item['amount']} {item['currency']}",
            str(item["installments"]),
            item["first_due_on"],
            item["status"],
            item["reason"],
        )
    console.print(table)


@app.command("strategies")
def strategies_command(json_output: JsonFlag = False) -> None:
    """Every grade's dunning steps (and the tier-specific strategies)."""
    with unit_of_work() as session:
        items = [
            StrategyOut.of(s).model_dump(mode="json") for s in strategies.list_strategies(session)
        ]
    if json_output:
        print_json({"strategies": items})
        return
    for item in items:
        title = f"{item['grade']}" + (f" / {item['tier']}" if item["tier"] else "")
        state = "" if item["active"] else " [yellow](inactive)[/]"
        console.print(f"[bold]{title}[/] {item['name']}{state}")
        for step in item["steps"]:
            extra = ", ".join(
                filter(
                    None,
                    [
                        step["template"],
                        step["target"],
                        None if step["automatic"] else "manual",
                    ],
                )
            )
            console.print(
                f"  {step['day_offset']:+4d} d  {step['channel']}"
                + (f"  ({extra})" if extra else "")
            )


# ---------------------------------------------------------------- records


@app.command("promise")
def promise_command(
    code: Annotated[str, typer.Argument(help="The account's code.")],
    amount: Annotated[str, typer.Option("--amount", help="How much, e.g. 1200.00.")],
    promised_on: Annotated[
        datetime, typer.Option("--date", formats=["%Y-%m-%d"], help="The day it will be paid by.")
    ],
    note: Annotated[str | None, typer.Option(help="What was said.")] = None,
    channel: Annotated[str | None, typer.Option(help="call, email, visit, chat …")] = None,
    as_of: AsOf = None,
    json_output: JsonFlag = False,
) -> None:
    """Record a promise to pay: the items it covers leave dunning until the day plus grace."""
    day = _day(as_of)
    try:
        value = _amount(amount, "amount")
        with unit_of_work() as session:
            customer = customers.get_customer_by_code(session, code, actor=CLI)
            promise = promises.record_promise(
                session,
                actor=CLI,
                customer=customer,
                amount=value,
                promised_on=promised_on.date(),
                as_of=day,
                channel=channel,
                note=note,
            )
            out = promise_out(session, promise).model_dump(mode="json")
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    if json_output:
        print_json({"promise": out})
        return
    console.print(
        f"promise {out['id']}: {out['customer']} pays {out['amount']} {out['currency']} by "
        f"{out['promised_on']} (installments {', '.join(map(str, out['installment_ids']))})"
    )


@app.command("dispute")
def dispute_command(
    code: Annotated[str, typer.Argument(help="The account's code.")],
    installment: Annotated[int, typer.Option("--installment", help="The installment's id.")],
    reason: Annotated[DisputeReason, typer.Option("--reason", help="Why the customer disputes.")],
    amount: Annotated[
        str | None, typer.Option(help="The disputed part (default: all that is open).")
    ] = None,
    description: Annotated[str | None, typer.Option(help="What the customer says.")] = None,
    as_of: AsOf = None,
    json_output: JsonFlag = False,
) -> None:
    """Open a dispute on an installment: the disputed amount leaves dunning while it is open."""
    day = _day(as_of)
    try:
        value = None if amount is None else _amount(amount, "amount")
        with unit_of_work() as session:
            customer = customers.get_customer_by_code(session, code, actor=CLI)
            dispute = disputes.open_dispute(
                session,
                actor=CLI,
                customer=customer,
                installment_id=installment,
                reason=reason,
                as_of=day,
                amount=value,
                description=description,
                source="cli",
            )
            out = dispute_out(session, dispute).model_dump(mode="json")
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    if json_output:
        print_json({"dispute": out})
        return
    console.print(
        f"dispute {out['id']}: {out['customer']} {out['invoice']} {out['reason']} "
        f"{out['amount']} {out['currency']}, SLA {out['sla_due_on']}"
    )
