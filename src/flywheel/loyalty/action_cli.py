"""``flywheel loyalty actions`` (the ranked next best actions) and ``flywheel loyalty rules
list|show|set`` (the rules that open them)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from flywheel.auth.actor import CLI
from flywheel.cli import JsonFlag, console, fail, print_json
from flywheel.db import unit_of_work
from flywheel.errors import FlywheelError, ValidationFailed
from flywheel.loyalty import action_service as service
from flywheel.loyalty import next_actions
from flywheel.loyalty.action_schemas import RuleOut, action_outs, field_outs
from flywheel.loyalty.cli import app
from flywheel.models.enums import NextActionKind, NextActionStatus
from flywheel.users import service as users

rules_app = typer.Typer(help="The next-best-action rules: list, show, change or add one.")
app.add_typer(rules_app, name="rules")

STATUSES = ("open", "done", "dismissed", "expired", "all")


def today() -> date:
    """The day the terminal means: today in UTC (what "overdue" is measured against)."""
    return datetime.now(UTC).date()


@app.command("actions")
def actions_command(
    owner: Annotated[
        str | None,
        typer.Option("--owner", help="Only this user's (a username; \"none\": nobody's)."),
    ] = None,
    status: Annotated[str, typer.Option(help="open, done, dismissed, expired or all.")] = "open",
    action: Annotated[str | None, typer.Option(help="Only this kind, e.g. referral_ask.")] = None,
    customer: Annotated[str | None, typer.Option(help="Only this account (its code).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="At most this many.")] = 100,
    json_output: JsonFlag = False,
) -> None:
    """Next best actions, best ranked first (the rule's priority × the account's value at
    stake), with the reason."""
    try:
        if status not in STATUSES:
            raise ValidationFailed(f"status: one of {', '.join(STATUSES)}", field="status")
        kinds = [k.value for k in NextActionKind]
        if action is not None and action not in kinds:
            raise ValidationFailed(f"action: one of {', '.join(kinds)}", field="action")
        with unit_of_work() as session:
            owner_id = None
            if owner not in (None, "none"):
                owner_id = users.get_by_username(session, owner).id
            filters = service.ActionFilter(
                status=None if status == "all" else NextActionStatus(status),
                action=NextActionKind(action) if action else None,
                owner_id=owner_id,
                unassigned=owner == "none",
            )
            stmt = service.actions_query(CLI, filters)
            if customer is not None:
                from flywheel.models.customers import Customer

                stmt = stmt.where(Customer.code == customer)
            rows = [(r[0], r[1], r[2]) for r in session.execute(stmt.limit(limit))]
            items = [
                o.model_dump(mode="json")
                for o in action_outs(session, rows, today=today(), language="en")
            ]
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    if json_output:
        print_json({"total": len(items), "actions": items})
        return
    table = Table(title=f"Next best actions: {len(items):,}")
    for column in ("#", "id", "code", "action", "reason", "owner", "due", "status"):
        table.add_column(column)
    for rank, item in enumerate(items, start=1):
        table.add_row(
            str(rank),
            str(item["id"]),
            item["customer"],
            item["rule_name"],
            "; ".join(item["reason_text"]),
            item["owner"] or "—",
            item["due_on"] + (" overdue" if item["overdue"] else ""),
            item["status"],
        )
    console.print(table)


def _rule_dict(rule: Any, session: Any) -> dict[str, Any]:
    out = RuleOut.of(rule, service.usernames(session, {rule.updated_by_id}))
    return out.model_dump(mode="json")


@rules_app.command("list")
def rules_list(json_output: JsonFlag = False) -> None:
    """Every rule (active ones first, by priority) and the facts conditions may test."""
    try:
        with unit_of_work() as session:
            items = [_rule_dict(r, session) for r in service.list_rules(session)]
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    if json_output:
        print_json({"rules": items, "fields": [f.model_dump(mode="json") for f in field_outs()]})
        return
    if not items:
        console.print("No rule yet: the daily cycle (flywheel run) adds the shipped ones.")
        return
    table = Table(title=f"Next-best-action rules: {len(items)}")
    for column in ("code", "action", "priority", "cooldown", "due", "active", "conditions"):
        table.add_column(column)
    for item in items:
        table.add_row(
            item["code"],
            item["action"],
            str(item["priority"]),
            f"{item['cooldown_days']} d",
            f"{item['due_days']} d",
            "yes" if item["active"] else "no",
            "; ".join(next_actions.describe_condition(c, "en") for c in item["conditions"]),
        )
    console.print(table)


@rules_app.command("show")
def rules_show(code: str, json_output: JsonFlag = False) -> None:
    """One rule with its conditions."""
    try:
        with unit_of_work() as session:
            item = _rule_dict(service.get_rule(session, code), session)
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    if json_output:
        print_json({"rule": item})
        return
    console.print(f"[bold]{item['code']}[/bold] {item['name_en']} / {item['name_zh']}")
    console.print(
        f"action {item['action']} · priority {item['priority']} · cooldown "
        f"{item['cooldown_days']} d · due in {item['due_days']} d · "
        f"{'active' if item['active'] else 'inactive'}"
    )
    for condition in item["conditions"]:
        console.print(f"  • {next_actions.describe_condition(condition, 'en')}")


@rules_app.command("set")
def rules_set(
    code: str,
    conditions: Annotated[
        str | None,
        typer.Option(help='JSON list, e.g. \'[{"field": "health", "op": "ge", "value": 60}]\'.'),
    ] = None,
    priority: Annotated[int | None, typer.Option(help="1–100.")] = None,
    cooldown_days: Annotated[int | None, typer.Option(help="1–3650.")] = None,
    due_days: Annotated[int | None, typer.Option(help="0–365.")] = None,
    active: Annotated[bool | None, typer.Option("--active/--inactive")] = None,
    name_en: Annotated[str | None, typer.Option()] = None,
    name_zh: Annotated[str | None, typer.Option()] = None,
    action: Annotated[
        str | None, typer.Option(help="The action kind (a new rule needs it).")
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Change a rule (only the options given), or add one (names, action and conditions
    needed). A bad condition is named with its place, field and reason; nothing changes."""
    data: dict[str, Any] = {
        k: v
        for k, v in {
            "priority": priority,
            "cooldown_days": cooldown_days,
            "due_days": due_days,
            "active": active,
            "name_en": name_en,
            "name_zh": name_zh,
            "action": action,
        }.items()
        if v is not None
    }
    try:
        if conditions is not None:
            try:
                data["conditions"] = json.loads(conditions)
            except ValueError as exc:
                raise ValidationFailed(
                    f"conditions: not valid JSON ({exc})", field="conditions"
                ) from exc
        with unit_of_work() as session:
            next_actions.ensure_default_rules(session)
            rule, created = service.save_rule(session, CLI, code, data)
            item = _rule_dict(rule, session)
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    if json_output:
        print_json({"created": created, "rule": item})
        return
    console.print(f"Rule {code} {'added' if created else 'saved'}.")
