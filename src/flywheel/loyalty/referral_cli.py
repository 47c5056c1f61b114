"""``flywheel loyalty referrals list|add|status|kpis``: referrals from the terminal."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.table import Table

from flywheel.auth.actor import CLI
from flywheel.cli import JsonFlag, console, fail, print_json
from flywheel.db import unit_of_work
from flywheel.errors import FlywheelError, ValidationFailed
from flywheel.loyalty import referral_kpis, referrals
from flywheel.loyalty.cli import app
from flywheel.loyalty.referral_api import STATUS_CHOICES, filters_for
from flywheel.loyalty.referral_schemas import referral_outs
from flywheel.models.enums import ReferralStatus

referrals_app = typer.Typer(
    help="Referrals: list them, record one, move one on, the KPIs.", no_args_is_help=True
)
app.add_typer(referrals_app, name="referrals")


def today() -> date:
    """The day the terminal means: today in UTC."""
    return datetime.now(UTC).date()


def _or_dash(value: object) -> str:
    return "—" if value is None or value == "" else str(value)


def _day(text: str | None, field: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(f"{field}: not a date (YYYY-MM-DD): {text!r}", field=field) from None


def _one(session: Any, referral: Any) -> dict[str, Any]:
    [out] = referral_outs(session, [referrals.referral_row(session, CLI, referral)])
    return out.model_dump(mode="json")


def _show(item: dict[str, Any]) -> None:
    lead = item["referred_customer_name"] or item["lead_company"] or item["lead_contact"]
    console.print(
        f"Referral {item['id']}: {item['customer']} → {_or_dash(lead)} · {item['status']}"
        f" · reward {item['reward_status']}"
        + (f" {item['reward_amount']} {item['reward_currency']}" if item["reward_amount"] else "")
    )


@referrals_app.command("list")
def list_command(
    status: Annotated[
        str, typer.Option(help="open, all, lead, contacted, qualified, won or lost.")
    ] = "all",
    search: Annotated[
        str | None, typer.Option("--search", "-q", help="In names and codes.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="At most this many.")] = 100,
    json_output: JsonFlag = False,
) -> None:
    """Referrals, newest first."""
    try:
        if status not in STATUS_CHOICES:
            raise ValidationFailed(f"status: one of {', '.join(STATUS_CHOICES)}", field="status")
        with unit_of_work() as session:
            rows, total = referrals.list_referrals(
                session, CLI, filters_for(status, search=search), limit=limit, offset=0
            )
            items = [o.model_dump(mode="json") for o in referral_outs(session, rows)]
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    if json_output:
        print_json({"total": total, "referrals": items})
        return
    table = Table(title=f"Referrals: {total:,}")
    for column in ("id", "referred on", "referrer", "lead", "status", "won on", "reward"):
        table.add_column(column)
    for item in items:
        reward = item["reward_status"]
        if item["reward_amount"]:
            reward += f" {item['reward_amount']} {item['reward_currency']}"
        table.add_row(
            str(item["id"]),
            item["referred_on"],
            item["customer"],
            _or_dash(item["referred_customer"] or item["lead_company"] or item["lead_contact"]),
            item["status"],
            _or_dash(item["won_on"]),
            reward,
        )
    console.print(table)


@referrals_app.command("add")
def add_command(
    customer: Annotated[str, typer.Argument(help="The referrer's account code.")],
    company: Annotated[str | None, typer.Option(help="The company referred.")] = None,
    contact: Annotated[str | None, typer.Option(help="The person referred.")] = None,
    email: Annotated[str | None, typer.Option(help="The lead's e-mail.")] = None,
    phone: Annotated[str | None, typer.Option(help="The lead's phone.")] = None,
    referred: Annotated[
        str | None, typer.Option(help="An existing account referred (its code).")
    ] = None,
    referrer_contact: Annotated[
        int | None, typer.Option(help="The referrer's contact (its number).")
    ] = None,
    on: Annotated[str | None, typer.Option(help="Referred on (default: today).")] = None,
    source: Annotated[str, typer.Option(help="manual, survey, import or demo.")] = "manual",
    notes: Annotated[str | None, typer.Option(help="Anything worth knowing.")] = None,
    json_output: JsonFlag = False,
) -> None:
    """Record a referral (status lead)."""
    try:
        with unit_of_work() as session:
            referral = referrals.record_referral(
                session,
                actor=CLI,
                customer=customer,
                referrer_contact_id=referrer_contact,
                referred_customer=referred,
                lead_company=company,
                lead_contact=contact,
                lead_email=email,
                lead_phone=phone,
                referred_on=_day(on, "on") or today(),
                source=source,
                notes=notes,
            )
            item = _one(session, referral)
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    if json_output:
        print_json(item)
        return
    _show(item)


@referrals_app.command("status")
def status_command(
    referral_id: Annotated[int, typer.Argument(help="The referral's number.", min=1)],
    status: Annotated[str, typer.Argument(help="contacted, qualified, won, lost or lead.")],
    referred: Annotated[
        str | None, typer.Option(help="Won: the account the lead became (its code).")
    ] = None,
    on: Annotated[str | None, typer.Option(help="Won on (default: today).")] = None,
    reason: Annotated[str | None, typer.Option(help="Lost: why.")] = None,
    json_output: JsonFlag = False,
) -> None:
    """Move a referral on: lead → contacted → qualified → won / lost."""
    try:
        if status not in {s.value for s in ReferralStatus}:
            choices = ", ".join(s.value for s in ReferralStatus)
            raise ValidationFailed(f"status: one of {choices}", field="status")
        with unit_of_work() as session:
            referral = referrals.change_status(
                session,
                actor=CLI,
                referral_id=referral_id,
                status=status,
                on=_day(on, "on") or today(),
                referred_customer=referred,
                lost_reason=reason,
            )
            item = _one(session, referral)
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    if json_output:
        print_json(item)
        return
    _show(item)


@referrals_app.command("kpis")
def kpis_command(
    start: Annotated[str | None, typer.Option(help="First day (default: 90 days ago).")] = None,
    end: Annotated[str | None, typer.Option(help="Last day (default: today).")] = None,
    as_of: Annotated[str | None, typer.Option(help="Known on this day (default: end).")] = None,
    json_output: JsonFlag = False,
) -> None:
    """Referrals made and won, conversion, revenue attributed, rewards granted, the referral
    rate of active customers and the referred share of new customers."""
    try:
        given = {
            "start": _day(start, "start"),
            "end": _day(end, "end"),
            "as_of": _day(as_of, "as_of"),
        }
        referral_kpis.check_days(**given)
        last = given["end"] or today()
        first = given["start"] or last - timedelta(days=89)
        with unit_of_work() as session:
            figures = referral_kpis.kpis(session, CLI, start=first, end=last, as_of=given["as_of"])
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    if json_output:
        print_json(figures)
        return
    table = Table(
        title=f"Referrals {figures['start']} – {figures['end']} (as of {figures['as_of']})"
    )
    table.add_column("figure")
    table.add_column("value", justify="right")

    def rate(value: float | None) -> str:
        return "—" if value is None else f"{value:.1%}"

    def amounts(values: dict[str, str]) -> str:
        return ", ".join(f"{a} {c}" for c, a in values.items()) or "—"

    for name, value in (
        ("referrals made", str(figures["made"])),
        ("won in the period", str(figures["won"])),
        ("conversion (made → won)", rate(figures["conversion_rate"])),
        ("revenue attributed", amounts(figures["revenue_attributed"])),
        (
            "rewards granted",
            f"{figures['rewards_granted']} ({amounts(figures['rewards_granted_amount'])})",
        ),
        ("referral rate (active customers)", rate(figures["referral_rate"])),
        ("new customers by referral", rate(figures["referred_new_share"])),
    ):
        table.add_row(name, value)
    console.print(table)
