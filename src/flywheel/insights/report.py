"""The management report's content: the dashboard's figures of one week or month, the biggest
movements and the top actions, computed once and frozen as JSON in ``InsightReport.content``
(one report per kind and period). The e-mail, the page and the PDF only render that JSON, in
the reader's language (``report_display``).

What a report holds (company-wide: it is for the managers):

* **figures** — ``figures.dashboard`` for one month against the month before and the targets.
  A monthly report shows its month. The cube is monthly, so a weekly report shows the month of
  the week's Sunday as the cube holds it on the report day (month to date while that month
  runs); totals of events (new customers, cash collected …) of a month to date are not
  compared with a whole month.
* **week** (weekly only) — the week's own events against the week before, counted from the
  domain tables: new customers (created that week), deals won (closed in a won stage), NPS
  answers and detractors among them, payments received and the cash collected per currency,
  and promises to pay found broken.
* **movements** — the figures that improved and declined most against the period before
  (relative change), and the accounts whose health band or RFM segment dropped between the
  day before the period and its last day (from the loyalty scores), most revenue first.
* **actions** — on the report day: the open next best actions ranked highest, the accounts
  with the most overdue in the base currency, and the follow-up loops past their SLA.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.config import get_settings
from flywheel.errors import ValidationFailed
from flywheel.feedback import loops
from flywheel.insights import figures
from flywheel.insights.cube import add_months, month_end, month_start
from flywheel.insights.periods import InsightFilter, Period
from flywheel.loyalty import action_service
from flywheel.models.collections import PromiseToPay
from flywheel.models.customers import Customer
from flywheel.models.enums import (
    HealthBand,
    PromiseStatus,
    ScoreBand,
    Segment,
    SurveyKind,
)
from flywheel.models.feedback import SurveyResponse
from flywheel.models.insights import MEASURES, InsightReport
from flywheel.models.keyaccounts import Deal, DealStage
from flywheel.models.loyalty import LoyaltyScore
from flywheel.models.receivables import Payment
from flywheel.receivables import aging

WEEKLY = "weekly"
MONTHLY = "monthly"
KINDS = (WEEKLY, MONTHLY)
# A report is made on its day (Monday, the 1st) or, when the daily cycle did not run that day,
# on one of the next ones.
CATCH_UP_DAYS = 2
TOP = 10  # rows of each list of accounts and actions
MOVERS = 3  # figures named among the biggest improvements and declines
CONTENT_VERSION = 1
REPORT_ACTOR = Actor.system("management report")

# Each week count, and which way is better.
WEEK_COUNTS: tuple[tuple[str, str], ...] = (
    ("new_customers", "up"),
    ("deals_won", "up"),
    ("nps_responses", "up"),
    ("nps_detractors", "down"),
    ("payments", "up"),
    ("promises_broken", "down"),
)
HEALTH_ORDER = (HealthBand.GREEN.value, HealthBand.YELLOW.value, HealthBand.RED.value)
# Best first; "no purchase yet" is not on the ladder (an account leaving it has not dropped).
SEGMENT_ORDER = tuple(s.value for s in Segment if s is not Segment.NO_PURCHASE)


# ---------------------------------------------------------------- periods


@dataclass(frozen=True, slots=True)
class ReportPeriod:
    """The week (Monday to Sunday) or the calendar month a report is about."""

    kind: str
    start: date
    end: date

    @classmethod
    def containing(cls, kind: str, day: date) -> ReportPeriod:
        if kind == WEEKLY:
            start = day - timedelta(days=day.weekday())
            return cls(kind=kind, start=start, end=start + timedelta(days=6))
        if kind == MONTHLY:
            return cls(kind=kind, start=month_start(day), end=month_end(day))
        raise ValidationFailed(
            f"a report is {' or '.join(KINDS)}, not {kind!r}", field="kind", value=kind
        )

    @property
    def previous(self) -> ReportPeriod:
        return ReportPeriod.containing(self.kind, self.start - timedelta(days=1))

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "start": self.start.isoformat(), "end": self.end.isoformat()}


def parse_kinds(text: str) -> list[str]:
    """The kinds ``settings.management_reports`` asks for ("weekly,monthly", one, or "")."""
    wanted = {part.strip().lower() for part in text.split(",") if part.strip()}
    return [kind for kind in KINDS if kind in wanted]


def due_periods(as_of: date, kinds: Iterable[str]) -> list[ReportPeriod]:
    """The periods whose report falls due on ``as_of``: the week before on Mondays, the month
    before on the 1st (or up to ``CATCH_UP_DAYS`` later: made once, whichever day comes
    first)."""
    chosen = set(kinds)
    due: list[ReportPeriod] = []
    if WEEKLY in chosen and as_of.weekday() <= CATCH_UP_DAYS:
        due.append(ReportPeriod.containing(WEEKLY, as_of).previous)
    if MONTHLY in chosen and as_of.day <= 1 + CATCH_UP_DAYS:
        due.append(ReportPeriod.containing(MONTHLY, as_of).previous)
    return due


def latest_complete(kind: str, today: date) -> ReportPeriod:
    """The last week or month that has ended before ``today``."""
    return ReportPeriod.containing(kind, today).previous


def check_period(period: ReportPeriod, *, today: date) -> ReportPeriod:
    """A report is about a period that has ended."""
    if period.end >= today:
        raise ValidationFailed(
            "a report is made for a week or a month that has ended",
            field="period",
            value=period.start.isoformat(),
        )
    return period


# ---------------------------------------------------------------- making a report


def find_report(session: Session, period: ReportPeriod) -> InsightReport | None:
    return session.scalar(
        select(InsightReport).where(
            InsightReport.kind == period.kind, InsightReport.period_start == period.start
        )
    )


def make_report(
    session: Session, period: ReportPeriod, *, as_of: date
) -> tuple[InsightReport, bool]:
    """The report of ``period`` (and True) computed as of ``as_of`` and frozen; the one made
    before (and False) when there is one: a report is never computed twice."""
    found = find_report(session, period)
    if found is not None:
        return found, False
    content = build_content(session, period, as_of=as_of)
    report = InsightReport(
        kind=period.kind,
        period_start=period.start,
        period_end=period.end,
        as_of=as_of,
        content=content,
        recipients=0,
        note="; ".join(content["notes"]) or None,
    )
    session.add(report)
    session.flush()
    return report, True


def build_content(session: Session, period: ReportPeriod, *, as_of: date) -> dict[str, Any]:
    """What the report shows, as JSON (numbers, ISO dates, codes; no translated text)."""
    currency = get_settings().base_currency
    figure_part = _figures(session, period, as_of=as_of)
    week = _week(session, period) if period.kind == WEEKLY else None
    notes: list[str] = []
    if figure_part["missing_months"]:
        notes.append("months not in the cube: " + ", ".join(figure_part["missing_months"]))
    return {
        "version": CONTENT_VERSION,
        "period": period.as_dict(),
        "as_of": as_of.isoformat(),
        "currency": currency,
        "figures": figure_part,
        "week": week,
        "movements": _movements(session, period, figure_part, week),
        "actions": _actions(session, as_of=as_of, currency=currency),
        "notes": notes,
    }


# ---------------------------------------------------------------- the dashboard's figures


def _adds_up_over_months(kpi: figures.Kpi) -> bool:
    """True for a total of events (new customers, cash collected …): it doubles over two
    months of the same events, so a month to date cannot be set against a whole month."""
    ones = dict.fromkeys(MEASURES, 1.0)
    one = figures.MonthTotals(month=date(2000, 1, 1), values=ones, built=True)
    two = figures.MonthTotals(month=date(2000, 2, 1), values=ones, built=True)
    single = figures.evaluate(kpi, [one])
    double = figures.evaluate(kpi, [one, two])
    if single is None or double is None or single == 0:
        return False
    return abs(double - 2 * single) < 1e-9


def _figures(session: Session, period: ReportPeriod, *, as_of: date) -> dict[str, Any]:
    month = month_start(period.end)
    board = figures.dashboard(
        session,
        actor=REPORT_ACTOR,
        flt=InsightFilter(),
        period=Period.ending(month),
        series_months=1,
    )
    through = board.built_through
    to_date = through is None or through < month_end(month)
    kpis: list[dict[str, Any]] = []
    for figure in board.figures.values():
        kpi = figure.kpi
        comparable = not (to_date and _adds_up_over_months(kpi))
        kpis.append(
            {
                "code": kpi.code,
                "stage": kpi.stage,
                "unit": kpi.unit,
                "better": kpi.better,
                "value": figure.value,
                "previous": figure.previous,
                "target": figure.target,
                "comparable": comparable,
                "change": figure.change if comparable else None,
                "improved": figure.improved if comparable else None,
                "on_target": figure.on_target if comparable else None,
            }
        )
    previous_force = sum(f.previous or 0.0 for f in board.stage("force"))
    previous_friction = sum(f.previous or 0.0 for f in board.stage("friction"))
    return {
        "month": month.isoformat(),
        "previous_month": add_months(month, -1).isoformat(),
        "built_through": through.isoformat() if through else None,
        "month_to_date": to_date,
        "missing_months": [m.isoformat()[:7] for m in board.missing_months],
        "currency": board.filter.money_currency,
        "kpis": kpis,
        "force": board.force,
        "friction": board.friction,
        "force_previous": previous_force,
        "friction_previous": previous_friction,
    }


# ---------------------------------------------------------------- the week's own events


def _moment(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def week_counts(session: Session, first: date, last: date) -> dict[str, Any]:
    """The events of the days ``first`` to ``last`` (both included), company-wide."""
    begin, finish = _moment(first), _moment(last + timedelta(days=1))
    new_customers = session.scalar(
        select(func.count(Customer.id)).where(
            Customer.created_on >= first, Customer.created_on <= last
        )
    )
    deals_won = session.scalar(
        select(func.count(Deal.id))
        .join(DealStage, DealStage.id == Deal.stage_id)
        .where(DealStage.is_won.is_(True), Deal.closed_on >= first, Deal.closed_on <= last)
    )
    answers, detractors = session.execute(
        select(
            func.count(SurveyResponse.id),
            func.coalesce(
                func.sum(case((SurveyResponse.band == ScoreBand.DETRACTOR.value, 1), else_=0)), 0
            ),
        ).where(
            SurveyResponse.kind == SurveyKind.NPS.value,
            SurveyResponse.answered_at >= begin,
            SurveyResponse.answered_at < finish,
        )
    ).one()
    payments = session.execute(
        select(Payment.currency, func.count(Payment.id), func.sum(Payment.amount))
        .where(Payment.received_on >= first, Payment.received_on <= last)
        .group_by(Payment.currency)
        .order_by(Payment.currency)
    ).all()
    broken = session.scalar(
        select(func.count(PromiseToPay.id)).where(
            PromiseToPay.status == PromiseStatus.BROKEN.value,
            PromiseToPay.resolved_on >= first,
            PromiseToPay.resolved_on <= last,
        )
    )
    return {
        "new_customers": int(new_customers or 0),
        "deals_won": int(deals_won or 0),
        "nps_responses": int(answers or 0),
        "nps_detractors": int(detractors or 0),
        "payments": sum(int(n) for _c, n, _a in payments),
        "promises_broken": int(broken or 0),
        "collected": {
            str(c): str(Decimal(a or 0).quantize(Decimal("0.01"))) for c, _n, a in payments
        },
    }


def _week(session: Session, period: ReportPeriod) -> dict[str, Any]:
    before = period.previous
    return {
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "counts": week_counts(session, period.start, period.end),
        "previous": week_counts(session, before.start, before.end),
    }


# ---------------------------------------------------------------- movements


def _relative(value: float | None, previous: float | None) -> float | None:
    if value is None or previous is None or previous == 0:
        return None
    return (value - previous) / abs(previous)


def _movements(
    session: Session,
    period: ReportPeriod,
    figure_part: Mapping[str, Any],
    week: Mapping[str, Any] | None,
) -> dict[str, Any]:
    moves: list[dict[str, Any]] = []
    for kpi in figure_part["kpis"]:
        relative = _relative(kpi["value"], kpi["previous"]) if kpi["comparable"] else None
        if relative is None or relative == 0:
            continue
        moves.append(
            {
                "source": "kpi",
                "code": kpi["code"],
                "unit": kpi["unit"],
                "value": kpi["value"],
                "previous": kpi["previous"],
                "relative": relative,
                "gain": relative if kpi["better"] == "up" else -relative,
            }
        )
    if week is not None:
        for code, better in WEEK_COUNTS:
            value, previous = week["counts"][code], week["previous"][code]
            relative = _relative(value, previous)
            if relative is None or relative == 0:
                continue
            moves.append(
                {
                    "source": "week",
                    "code": code,
                    "unit": "count",
                    "value": value,
                    "previous": previous,
                    "relative": relative,
                    "gain": relative if better == "up" else -relative,
                }
            )
    improved = sorted((m for m in moves if m["gain"] > 0), key=lambda m: (-m["gain"], m["code"]))
    declined = sorted((m for m in moves if m["gain"] < 0), key=lambda m: (m["gain"], m["code"]))
    before, after = period.start - timedelta(days=1), period.end
    return {
        "improved": improved[:MOVERS],
        "declined": declined[:MOVERS],
        "health": dropped(session, LoyaltyScore.health_band, HEALTH_ORDER, before, after),
        "segment": dropped(session, LoyaltyScore.segment, SEGMENT_ORDER, before, after),
    }


def _latest_scores(day: date) -> Any:
    """Each account's latest loyalty score on or before ``day`` (a subquery)."""
    latest = (
        select(LoyaltyScore.customer_id, func.max(LoyaltyScore.as_of).label("day"))
        .where(LoyaltyScore.as_of <= day)
        .group_by(LoyaltyScore.customer_id)
        .subquery()
    )
    return (
        select(
            LoyaltyScore.customer_id,
            LoyaltyScore.health_band,
            LoyaltyScore.segment,
            LoyaltyScore.revenue_12m,
        )
        .join(
            latest,
            and_(
                latest.c.customer_id == LoyaltyScore.customer_id,
                latest.c.day == LoyaltyScore.as_of,
            ),
        )
        .subquery()
    )


def dropped(
    session: Session, column: Any, ladder: Sequence[str], before: date, after: date
) -> dict[str, Any]:
    """The accounts whose ``column`` (health band or segment) stood lower on ``ladder`` (best
    first) at the end of ``after`` than at the end of ``before``: how many, and the ``TOP``
    with the most revenue over the last twelve months."""
    then, now = _latest_scores(before), _latest_scores(after)
    name = column.key
    rank = {code: i for i, code in enumerate(ladder)}
    then_rank = case(rank, value=then.c[name], else_=None)
    now_rank = case(rank, value=now.c[name], else_=None)
    moved = (
        select(
            Customer.id,
            Customer.code,
            Customer.name,
            Customer.owner_id,
            then.c[name],
            now.c[name],
            now.c.revenue_12m,
            Customer.currency,
        )
        .join(then, then.c.customer_id == Customer.id)
        .join(now, now.c.customer_id == Customer.id)
        .where(now_rank > then_rank)
    )
    total = session.scalar(select(func.count()).select_from(moved.subquery()))
    rows = session.execute(moved.order_by(now.c.revenue_12m.desc(), Customer.id).limit(TOP)).all()
    owners = action_service.display_names(session, {r[3] for r in rows})
    return {
        "count": int(total or 0),
        "accounts": [
            {
                "id": int(customer_id),
                "code": code,
                "name": customer_name,
                "owner": owners.get(owner_id) if owner_id else None,
                "from": str(was),
                "to": str(now_code),
                "revenue_12m": str(revenue),
                "currency": currency,
            }
            for customer_id, code, customer_name, owner_id, was, now_code, revenue, currency in rows
        ],
    }


# ---------------------------------------------------------------- top actions


def _actions(session: Session, *, as_of: date, currency: str) -> dict[str, Any]:
    return {
        "next_actions": top_next_actions(session),
        "overdue_accounts": top_overdue_accounts(session, as_of=as_of, currency=currency),
        "late_loops": late_loops(session, as_of=as_of),
    }


def top_next_actions(session: Session) -> list[dict[str, Any]]:
    """The open next best actions ranked highest (``loyalty.action_service``'s ranking)."""
    rows = session.execute(
        action_service.actions_query(REPORT_ACTOR, action_service.ActionFilter()).limit(TOP)
    ).all()
    owners = action_service.display_names(session, {a.owner_id for a, _c, _r in rows})
    return [
        {
            "id": action.id,
            "customer_id": customer.id,
            "code": customer.code,
            "name": customer.name,
            "action": action.action,
            "title_en": rule.name_en,
            "title_zh": rule.name_zh,
            "owner": owners.get(action.owner_id) if action.owner_id else None,
            "due_on": action.due_on.isoformat(),
            "score": action.score,
        }
        for action, customer, rule in rows
    ]


def top_overdue_accounts(session: Session, *, as_of: date, currency: str) -> list[dict[str, Any]]:
    """The accounts with the most overdue in ``currency`` on ``as_of`` (the aging report's)."""
    found = aging.aging_report(
        session,
        actor=REPORT_ACTOR,
        as_of=as_of,
        currency=currency,
        by="customer",
        sort="overdue",
        limit=TOP,
    )
    return [
        {
            "code": row.key,
            "name": row.label,
            "overdue": str(row.overdue),
            "total": str(row.total),
            "items": row.items,
            "currency": currency,
        }
        for row in found.rows
        if row.overdue > 0
    ]


def late_loops(session: Session, *, as_of: date) -> list[dict[str, Any]]:
    """The follow-up loops still open that were due before the report day, longest late
    first."""
    now = _moment(as_of)
    rows = session.execute(
        loops.loops_query(REPORT_ACTOR, loops.LoopFilter(overdue=True), now=now).limit(TOP)
    ).all()
    owners = action_service.display_names(session, {loop.owner_id for loop, _c in rows})
    out: list[dict[str, Any]] = []
    for loop, customer in rows:
        due = loop.due_at if loop.due_at.tzinfo else loop.due_at.replace(tzinfo=UTC)
        out.append(
            {
                "id": loop.id,
                "code": customer.code,
                "name": customer.name,
                "reason": loop.reason,
                "owner": owners.get(loop.owner_id) if loop.owner_id else None,
                "due_at": due.isoformat(),
                "hours_late": round((now - due).total_seconds() / 3600, 1),
            }
        )
    return out
