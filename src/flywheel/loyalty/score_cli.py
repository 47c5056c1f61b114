"""``flywheel loyalty segments`` and ``flywheel loyalty retention``: RFM segments of the last
cycle run, and repeat purchase with NRR/GRR per period, as tables or as one JSON object."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from flywheel.auth.actor import CLI, Actor
from flywheel.cli import JsonFlag, console, fail, print_json
from flywheel.db import unit_of_work
from flywheel.errors import FlywheelError, ValidationFailed
from flywheel.loyalty import dashboard, retention
from flywheel.loyalty.cli import app
from flywheel.loyalty.schemas import (
    RETENTION_DEFINITIONS,
    SEGMENT_DEFINITIONS,
    FilterOut,
    PeriodKind,
    PeriodOut,
    RepeatOut,
    SegmentBy,
    SegmentGroupOut,
    SegmentOut,
    SegmentsOut,
)
from flywheel.users import service as users

__all__ = ["app"]

AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="The day the figures are of, YYYY-MM-DD (default: today)."),
]
UserOption = Annotated[
    str | None, typer.Option("--user", help="As this user: only the accounts he may see.")
]
CurrencyOption = Annotated[
    str | None,
    typer.Option("--currency", help="Accounts billed in this currency (default: the base one)."),
]


def _as_of(text: str | None) -> date:
    if not text:
        return datetime.now(UTC).date()
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed(
            f"--as-of must be a date like 2026-03-31, not {text!r}", field="as_of", value=text
        ) from None
    return retention.check_as_of(day)


def _choice(value: str | None, allowed: tuple[str, ...], option: str) -> str | None:
    if value is None:
        return None
    if value not in allowed:
        raise ValidationFailed(
            f"{option} must be one of {', '.join(allowed)}, not {value!r}",
            field=option.lstrip("-"),
            value=value,
        )
    return value


def _actor(session: Any, user: str | None) -> Actor:
    return Actor.for_user(users.get_by_username(session, user)) if user else CLI


def _money(value: Any) -> str:
    return f"{value:,.2f}"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


@app.command("segments")
def segments_command(
    as_of: AsOfOption = None,
    by: Annotated[str | None, typer.Option("--by", help="Also per owner, region or tier.")] = None,
    currency: CurrencyOption = None,
    user: UserOption = None,
    json_output: JsonFlag = False,
) -> None:
    """Accounts, revenue of the last 12 months and CLV per RFM segment, from the last
    `flywheel run` on or before the day."""
    try:
        day = _as_of(as_of)
        group_by = _choice(by, tuple(b.value for b in SegmentBy), "--by")
        flt = retention.LoyaltyFilter(currency=currency).checked()
        with unit_of_work() as session:
            actor = _actor(session, user)
            scores_day = dashboard.latest_day(session, as_of=day)
            figures = (
                dashboard.segment_summary(session, actor=actor, flt=flt, day=scores_day)
                if scores_day
                else []
            )
            groups = (
                dashboard.segment_breakdown(
                    session, actor=actor, flt=flt, day=scores_day, by=group_by
                )
                if scores_day and group_by
                else []
            )
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    out = SegmentsOut(
        as_of=day,
        scores_day=scores_day,
        filters=FilterOut.of(flt),
        accounts=sum(f.accounts for f in figures),
        segments=[SegmentOut.of(f) for f in figures],
        by=SegmentBy(group_by) if group_by else None,
        groups=[
            SegmentGroupOut(
                key=g.key,
                label=g.label,
                accounts=g.accounts,
                segments=[SegmentOut.of(f) for f in g.segments],
            )
            for g in groups
        ],
        definitions=SEGMENT_DEFINITIONS,
    )
    if json_output:
        print_json(out.model_dump(mode="json"))
        return
    if scores_day is None:
        console.print(f"No loyalty scores on or before {day}: run `flywheel run` first.")
        return
    title = f"RFM segments on {scores_day} ({out.filters.currency})"
    table = Table(title=title)
    for column in ("segment", "accounts", "share", "revenue 12m", "CLV", "churn risk"):
        if column == "segment":
            table.add_column(column, no_wrap=True)
        else:
            table.add_column(column, justify="right")
    for s in out.segments:
        table.add_row(
            s.segment,
            str(s.accounts),
            _percent(s.share),
            _money(s.revenue_12m),
            _money(s.clv),
            _percent(s.mean_churn_risk),
        )
    console.print(table)
    if out.groups:
        grouped = Table(title=f"By {group_by}")
        grouped.add_column(group_by or "", no_wrap=True)
        grouped.add_column("accounts", justify="right")
        for s in out.segments:
            grouped.add_column(s.segment, justify="right")
        for g in out.groups:
            name = g.label if g.label == g.key else f"{g.label} ({g.key})"
            grouped.add_row(name or "—", str(g.accounts), *(str(s.accounts) for s in g.segments))
        console.print(grouped)


@app.command("retention")
def retention_command(
    as_of: AsOfOption = None,
    period: Annotated[
        str, typer.Option("--period", help="month, quarter or year.")
    ] = PeriodKind.MONTH.value,
    periods: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=retention.MAX_PERIODS,
            help="How many periods (default: 12 months, 8 quarters, 5 years).",
        ),
    ] = None,
    currency: CurrencyOption = None,
    user: UserOption = None,
    json_output: JsonFlag = False,
) -> None:
    """Repeat-purchase rate, and NRR and GRR of each whole period up to the day: the accounts
    that bought in the period before, their revenue then (start) and now."""
    try:
        day = _as_of(as_of)
        kind = retention.check_period(period)
        flt = retention.LoyaltyFilter(currency=currency).checked()
        with unit_of_work() as session:
            actor = _actor(session, user)
            frame = retention.scoped_frame(session, actor=actor, flt=flt, as_of=day)
            repeat = retention.repeat_figures(frame)
            series = retention.net_retention(frame, period=kind, periods=periods)
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    payload = {
        "as_of": day.isoformat(),
        "period": kind,
        "filters": FilterOut.of(flt).model_dump(mode="json"),
        "repeat_purchase": RepeatOut.of(repeat).model_dump(mode="json"),
        "periods": [PeriodOut.of(p).model_dump(mode="json") for p in series],
        "definitions": RETENTION_DEFINITIONS,
    }
    if json_output:
        print_json(payload)
        return
    console.print(
        f"Repeat-purchase rate: {_percent(repeat.rate)} "
        f"({repeat.repeat_buyers} of {repeat.buyers} buyers bought on a second day)"
    )
    table = Table(title=f"NRR and GRR per {kind} up to {day} ({flt.money_currency})")
    for column in (
        "period",
        "customers",
        "retained",
        "start",
        "expansion",
        "contraction",
        "churn",
        "NRR",
        "GRR",
        "new",
    ):
        if column == "period":
            table.add_column(column, no_wrap=True, min_width=7)
        else:
            table.add_column(column, justify="right")
    for p in series:
        table.add_row(
            p.period,
            str(p.start_customers),
            str(p.retained_customers),
            _money(p.start_revenue),
            _money(p.expansion),
            _money(p.contraction),
            _money(p.churn),
            _percent(p.nrr),
            _percent(p.grr),
            _money(p.new_revenue),
        )
    console.print(table)
    console.print(f"{retention.NRR_FORMULA}; {retention.GRR_FORMULA}.")
