"""Feedback pages: the inbox (every answer and analysed text, filtered, with its topic words
highlighted, and its CSV and XLSX export), the experience dashboard (NPS trend with its
interval, CSAT, CES, breakdowns, detractors' topics, the touchpoint journey, account NPS, the
closed loop's KPIs) and the customer 360's feedback panel. Reading is for every role, inside
his scope; a parameter that cannot be read is named on the page and ignored."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.scope import OWNER_SCOPED_ROLES
from flywheel.collections import labels as collection_labels
from flywheel.config import get_settings
from flywheel.customers import figures as customer_figures
from flywheel.customers import labels as customer_labels
from flywheel.errors import ValidationFailed
from flywheel.feedback import inbox as feedback_inbox
from flywheel.feedback import labels, metrics, scores
from flywheel.kit import i18n
from flywheel.kit.i18n import N_
from flywheel.kit.i18n import gettext as _
from flywheel.models.customers import Customer
from flywheel.models.enums import LoopStatus, TextSource, Tier
from flywheel.models.feedback import FeedbackLoop, FeedbackTopic, TextAnalysis
from flywheel.models.users import User
from flywheel.web import exports, panels
from flywheel.web.auth import CurrentActor
from flywheel.web.contract import today
from flywheel.web.deps import SessionDep
from flywheel.web.pages import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
MAX_PAGE = 100_000
# An export holds at most this many rows (the page says so).
EXPORT_LIMIT = 100_000
_EXPORT_BATCH = 1_000
TOP_ACCOUNTS = 10
PANEL_ANSWERS = 8
PANEL_LOOPS = 5
# Breakdowns the dashboard's table offers.
TABLE_DIMENSIONS: dict[str, str] = {
    "owner": N_("Owner"),
    "region": N_("Region"),
    "tier": N_("Tier"),
    "campaign": N_("Campaign"),
    "account": N_("Account"),
}
INBOX_BAND_CHOICES: dict[str, str] = {
    feedback_inbox.BAD_BANDS: N_("Detractors and dissatisfied"),
    **labels.BAND_LABELS,
}

Text = Annotated[str, Query(max_length=200)]
Short = Annotated[str, Query(max_length=40)]


# ---------------------------------------------------------------- reading parameters


def _day(text: str, label: str, problems: list[str]) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        problems.append(_("%(field)s is not a date; it was ignored.") % {"field": _(label)})
        return None
    if not date(1900, 1, 1) <= day <= date(2999, 12, 31):
        problems.append(_("%(field)s is not a date; it was ignored.") % {"field": _(label)})
        return None
    return day


def _choice(value: str, allowed: Mapping[str, str] | list[str], problems: list[str]) -> str:
    value = value.strip()
    if value and value not in allowed:
        problems.append(_("%(value)s is not a choice here; it was ignored.") % {"value": value})
        return ""
    return value


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date
    start_text: str  # what links carry ("" for the default)
    end_text: str


def _period(start: str, end: str, problems: list[str]) -> Period:
    first = _day(start, N_("From"), problems)
    last = _day(end, N_("To"), problems)
    default_start, default_end = metrics.default_period(today())
    if first and last and first > last:
        problems.append(_("The period starts after it ends; the default period is shown."))
        first = last = None
    if first and last and (last - first).days > metrics.MAX_PERIOD_DAYS:
        problems.append(_("A period is at most 20 years long; the default period is shown."))
        first = last = None
    chosen_end = last or default_end
    chosen_start = first or (
        default_start if chosen_end >= default_start else chosen_end.replace(day=1)
    )
    return Period(
        chosen_start,
        chosen_end,
        first.isoformat() if first else "",
        last.isoformat() if last else "",
    )


def _topic_choices(session: Session) -> list[tuple[str, str]]:
    zh = i18n.current_language() == "zh"
    return [
        (code, name_zh if zh else name_en)
        for code, name_zh, name_en in session.execute(
            select(FeedbackTopic.code, FeedbackTopic.name_zh, FeedbackTopic.name_en).order_by(
                FeedbackTopic.code
            )
        )
    ]


def _topic_names(session: Session) -> dict[str, str]:
    zh = i18n.current_language() == "zh"
    return {
        code: (zh_name if zh else en_name)
        for code, (zh_name, en_name) in metrics.topic_names(session).items()
    }


def _owner_filter_shown(actor: Actor) -> bool:
    return actor.role not in OWNER_SCOPED_ROLES


# ---------------------------------------------------------------- the inbox


@dataclass(frozen=True, slots=True)
class InboxParams:
    flt: feedback_inbox.InboxFilter
    period_from: str
    period_to: str
    problems: list[str]

    def query(self, **extra: Any) -> dict[str, Any]:
        f = self.flt
        values = {
            "from": self.period_from,
            "to": self.period_to,
            "band": f.band,
            "sentiment": f.sentiment,
            "topic": f.topic,
            "urgency": f.urgency,
            "account": f.account,
            "customer": f.customer,
            "owner": f.owner,
            "source": f.source,
            "kind": f.kind,
            **extra,
        }
        return {k: v for k, v in values.items() if v not in (None, "")}


def read_inbox_params(
    start: Annotated[str, Query(alias="from", max_length=20)] = "",
    end: Annotated[str, Query(alias="to", max_length=20)] = "",
    band: Short = "",
    sentiment: Short = "",
    topic: Short = "",
    urgency: Short = "",
    account: Text = "",
    customer: Annotated[str, Query(max_length=64)] = "",
    owner: Annotated[str, Query(max_length=64)] = "",
    source: Short = "",
    kind: Short = "",
) -> InboxParams:
    """The inbox's filters from the query string (the page and its exports); a value that
    cannot be read is named in ``problems`` and ignored."""
    problems: list[str] = []
    first = _day(start, N_("From"), problems)
    last = _day(end, N_("To"), problems)
    if first and last and first > last:
        problems.append(_("The period starts after it ends; it was ignored."))
        first = last = None
    flt = feedback_inbox.InboxFilter(
        start=first,
        end=last,
        band=_choice(band, INBOX_BAND_CHOICES, problems) or None,
        sentiment=_choice(sentiment, labels.SENTIMENT_LABELS, problems) or None,
        topic=topic.strip() or None,
        urgency=_choice(urgency, [feedback_inbox.ANY_URGENCY, *labels.URGENCY_LABELS], problems)
        or None,
        account=account.strip() or None,
        customer=customer.strip() or None,
        owner=owner.strip() or None,
        source=_choice(source, labels.SOURCE_LABELS, problems) or None,
        kind=_choice(kind, labels.KIND_LABELS, problems) or None,
    ).checked()
    return InboxParams(
        flt, first.isoformat() if first else "", last.isoformat() if last else "", problems
    )


InboxQuery = Annotated[InboxParams, Depends(read_inbox_params)]


@dataclass(frozen=True, slots=True)
class ShownItem:
    item: feedback_inbox.InboxItem
    verbatim: Markup
    topics: list[tuple[str, str]]  # (code, name)
    detail: str  # the touchpoint kind or dispute reason, translated
    loop_overdue: bool


def _shown(items: list[feedback_inbox.InboxItem], names: Mapping[str, str]) -> list[ShownItem]:
    now = datetime.now(UTC)
    shown: list[ShownItem] = []
    for item in items:
        if item.source == TextSource.DISPUTE.value:
            reason = item.detail or ""
            detail = (
                _(collection_labels.REASON_LABELS[reason])
                if reason in collection_labels.REASON_LABELS
                else reason
            )
        else:
            kind = item.touchpoint_kind or ""
            detail = (
                _(customer_labels.TOUCHPOINT_KIND_LABELS[kind])
                if kind in customer_labels.TOUCHPOINT_KIND_LABELS
                else kind
            )
        shown.append(
            ShownItem(
                item=item,
                verbatim=feedback_inbox.highlight(item.text, item.topic_spans, names),
                topics=[(code, names.get(code, code)) for code in item.topics],
                detail=detail,
                loop_overdue=bool(
                    item.loop
                    and item.loop.status == LoopStatus.OPEN.value
                    and item.loop.due_at < now
                ),
            )
        )
    return shown


@router.get("/feedback", response_class=HTMLResponse)
def inbox_page(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    params: InboxQuery,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    """Every answer and analysed text the actor may see, newest first."""
    found = feedback_inbox.inbox(
        session, actor=actor, flt=params.flt, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    names = _topic_names(session)
    return render(
        request,
        "feedback/inbox.html",
        {
            "owner_names": _owner_names(session, {i.owner for i in found.items if i.owner}),
            "params": params,
            "filters": params.flt,
            "rows": _shown(found.items, names),
            "total": found.total,
            "page": page,
            "pages": max(1, math.ceil(found.total / PAGE_SIZE)),
            "first": (page - 1) * PAGE_SIZE + 1 if found.items else 0,
            "last": (page - 1) * PAGE_SIZE + len(found.items),
            "problems": params.problems,
            "topics": _topic_choices(session),
            "owners": customer_figures.owner_choices(session, actor=actor)
            if _owner_filter_shown(actor)
            else [],
            "band_choices": INBOX_BAND_CHOICES,
            "export_limit": EXPORT_LIMIT,
            **_labels(),
        },
        actor=actor,
    )


def _owner_names(session: Session, usernames: set[str]) -> dict[str, str]:
    """The display names of the owners on one page, by username."""
    if not usernames:
        return {}
    rows = session.execute(
        select(User.username, User.display_name).where(User.username.in_(sorted(usernames)))
    ).all()
    return {username: display_name or username for username, display_name in rows}


def _labels() -> dict[str, Any]:
    return {
        "band_labels": labels.BAND_LABELS,
        "sentiment_labels": labels.SENTIMENT_LABELS,
        "source_labels": labels.SOURCE_LABELS,
        "urgency_labels": labels.URGENCY_LABELS,
        "kind_labels": labels.KIND_LABELS,
        "loop_status_labels": labels.LOOP_STATUS_LABELS,
        "tier_labels": customer_labels.TIER_LABELS,
        "role_labels_buying": customer_labels.BUYING_ROLE_LABELS,
        "touchpoint_labels": customer_labels.TOUCHPOINT_KIND_LABELS,
    }


# ---------------------------------------------------------------- the export


_EXPORT_HEADERS = (
    N_("Time (UTC)"),
    N_("Source"),
    N_("Account code"),
    N_("Account"),
    N_("Owner"),
    N_("Contact"),
    N_("Survey"),
    N_("Score"),
    N_("Band"),
    N_("Sentiment"),
    N_("Sentiment score"),
    N_("Topics"),
    N_("Urgency"),
    N_("Text"),
    N_("Follow-up"),
)


def _translated(table: Mapping[str, str]) -> dict[str, str]:
    return {key: _(label) for key, label in table.items()}


def _export_rows(
    session: Session, actor: Actor, flt: feedback_inbox.InboxFilter
) -> Iterator[list[object]]:
    """Every row of the filtered inbox, newest first, up to ``EXPORT_LIMIT``, a page at a time."""
    names = _topic_names(session)
    sources = _translated(labels.SOURCE_LABELS)
    kinds = {k: k.upper() for k in labels.KIND_LABELS}
    bands = _translated(labels.BAND_LABELS)
    feelings = _translated(labels.SENTIMENT_LABELS)
    flags = _translated(labels.URGENCY_LABELS)
    statuses = _translated(labels.LOOP_STATUS_LABELS)
    written = 0
    while written < EXPORT_LIMIT:
        batch = min(_EXPORT_BATCH, EXPORT_LIMIT - written)
        found = feedback_inbox.inbox(session, actor=actor, flt=flt, limit=batch, offset=written)
        for item in found.items:
            yield [
                item.occurred_at.astimezone(UTC).replace(tzinfo=None),
                sources.get(item.source, item.source),
                item.customer_code,
                item.customer_name,
                item.owner,
                item.contact,
                kinds.get(item.kind or "", item.kind),
                item.score,
                bands.get(item.band or "", item.band),
                feelings.get(item.sentiment or "", item.sentiment),
                None if item.sentiment_score is None else round(item.sentiment_score, 3),
                "; ".join(names.get(code, code) for code in item.topics) or None,
                "; ".join(flags.get(f, f) for f in item.urgency) or None,
                item.text,
                f"#{item.loop.id} {statuses.get(item.loop.status, item.loop.status)}"
                if item.loop
                else None,
            ]
        written += len(found.items)
        if len(found.items) < batch:
            return


def _export(
    session: Session, actor: Actor, params: InboxParams, format: exports.ExportFormat
) -> Response:
    if params.problems:
        raise ValidationFailed("; ".join(params.problems))
    rows = _export_rows(session, actor, params.flt)
    return exports.download(
        _EXPORT_HEADERS, rows, stem="feedback", format=format, title=N_("Feedback")
    )


@router.get("/feedback/export.csv")
def export_csv(
    session: SessionDep,
    actor: CurrentActor,
    params: InboxQuery,
) -> Response:
    """The filtered inbox (every page) as CSV in UTF-8 with a byte order mark."""
    return _export(session, actor, params, "csv")


@router.get("/feedback/export.xlsx")
def export_xlsx(
    session: SessionDep,
    actor: CurrentActor,
    params: InboxQuery,
) -> Response:
    """The filtered inbox (every page) as an Excel workbook; times are UTC."""
    return _export(session, actor, params, "xlsx")


# ---------------------------------------------------------------- the experience dashboard


def loop_kpis(session: Session, actor: Actor, start: date, end: date) -> dict[str, Any] | None:
    """The closed loop's KPIs from the loops module; None while it has none to give."""
    try:
        from flywheel.feedback import loops
    except ImportError:
        return None
    kpis = getattr(loops, "kpis", None)
    if kpis is None:
        return None
    result: dict[str, Any] = kpis(session, actor, start, end)
    return result


def _group_label(by: str, key: str, label: str) -> str:
    if not key:
        return {
            "owner": _("No owner"),
            "region": _("No region"),
            "campaign": _("No campaign"),
            "touchpoint": _("Relationship (no touchpoint)"),
        }.get(by, _("None"))
    if by == "tier":
        return _(customer_labels.TIER_LABELS.get(key, key))
    if by == "touchpoint":
        return _(customer_labels.TOUCHPOINT_KIND_LABELS.get(key, key))
    return label


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


@router.get("/feedback/experience", response_class=HTMLResponse)
def experience_page(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    start: Annotated[str, Query(alias="from", max_length=20)] = "",
    end: Annotated[str, Query(alias="to", max_length=20)] = "",
    owner: Annotated[str, Query(max_length=64)] = "",
    region: Annotated[str, Query(max_length=80)] = "",
    tier: Short = "",
    by: Short = "owner",
) -> Response:
    """NPS, CSAT and CES of the period with their trend, breakdowns, detractors' topics, the
    touchpoint journey, the accounts' NPS and the closed loop, in the actor's scope."""
    problems: list[str] = []
    period = _period(start, end, problems)
    tier = _choice(tier, [t.value for t in Tier], problems)
    by = _choice(by, TABLE_DIMENSIONS, problems) or "owner"
    flt = metrics.MetricFilter(
        start=period.start,
        end=period.end,
        owner=owner.strip() or None,
        region=region.strip() or None,
        tier=tier or None,
    )
    weights = get_settings().account_nps_weights
    figures = metrics.summary(session, actor=actor, flt=flt)
    months = metrics.trend(session, actor=actor, flt=flt)
    groups = metrics.breakdown(session, actor=actor, flt=flt, by=by, limit=100)
    stages = metrics.journey(session, actor=actor, flt=flt)
    topics = metrics.detractor_topics(session, actor=actor, flt=flt)
    best = metrics.account_scores(
        session, actor=actor, flt=flt, weights=weights, limit=TOP_ACCOUNTS
    )
    worst = metrics.account_scores(
        session, actor=actor, flt=flt, weights=weights, descending=False, limit=TOP_ACCOUNTS
    )
    zh = i18n.current_language() == "zh"
    stage_names = [_group_label("touchpoint", s.kind, s.kind) for s in stages]
    chart = {
        "months": [m.month for m in months],
        "nps": [_round(m.figures.nps.score) for m in months],
        "low": [_round(m.figures.nps.low) for m in months],
        "high": [_round(m.figures.nps.high) for m in months],
        "n": [m.figures.nps.n for m in months],
        "csat": [_round(m.figures.csat.percent) for m in months],
        "ces": [_round(m.figures.ces.mean, 2) for m in months],
        "topics": [t.name_zh if zh else t.name_en for t in topics.topics[:12]],
        "topic_counts": [t.count for t in topics.topics[:12]],
        "stages": stage_names,
        "stage_csat": [_round(s.figures.csat.percent) for s in stages],
        "stage_nps": [_round(s.figures.nps.score) for s in stages],
        "stage_ces": [_round(s.figures.ces.mean, 2) for s in stages],
        "stage_logged": [_round(s.logged_mean, 2) for s in stages],
        "labels": {
            "nps": _("NPS"),
            "band": _("%(level)s interval", level="95%"),
            "csat": _("CSAT"),
            "ces": _("CES"),
            "logged": _("Logged satisfaction (1–5)"),
            "mentions": _("Mentions"),
        },
    }
    filters = {
        "from": period.start_text,
        "to": period.end_text,
        "owner": flt.owner or "",
        "region": flt.region or "",
        "tier": flt.tier or "",
    }
    return render(
        request,
        "feedback/experience.html",
        {
            "period": period,
            "filters": filters,
            "by": by,
            "by_link": lambda key: (
                "?" + urlencode({k: v for k, v in {**filters, "by": key}.items() if v})
            ),
            "dimensions": TABLE_DIMENSIONS,
            "figures": figures,
            "months": months,
            "groups": [(g, _group_label(by, g.key, g.label)) for g in groups],
            "stages": list(zip(stages, stage_names, strict=True)),
            "topics": topics,
            "topic_label": (lambda t: t.name_zh if zh else t.name_en),
            "best": best,
            "worst": worst,
            "weights": sorted(
                ((role, w) for role, w in weights.items()), key=lambda item: (-item[1], item[0])
            ),
            "loops": loop_kpis(session, actor, period.start, period.end),
            "chart": chart,
            "problems": problems,
            "owners": customer_figures.owner_choices(session, actor=actor)
            if _owner_filter_shown(actor)
            else [],
            "regions": customer_figures.region_choices(session, actor=actor),
            "tiers": [(t.value, customer_labels.TIER_LABELS[t]) for t in Tier],
            "small_sample": scores.SMALL_SAMPLE,
            **_labels(),
        },
        actor=actor,
    )


# ---------------------------------------------------------------- the 360 panel

PANEL_PERIOD_DAYS = 365


# Built once with bound parameters: every account's 360 runs them.
_LAST_TEXT = (
    select(TextAnalysis)
    .where(TextAnalysis.customer_id == bindparam("customer_id"))
    .order_by(TextAnalysis.occurred_at.desc(), TextAnalysis.id.desc())
    .limit(1)
)
_OPEN_LOOPS = (
    select(FeedbackLoop)
    .where(
        FeedbackLoop.customer_id == bindparam("customer_id"),
        FeedbackLoop.status == LoopStatus.OPEN.value,
    )
    .order_by(FeedbackLoop.due_at, FeedbackLoop.id)
    .limit(PANEL_LOOPS)
)


def _load_panel(
    session: Session, actor: Actor, customer: Customer, as_of: date
) -> Mapping[str, Any] | None:
    """Account NPS of the last 12 months, each stakeholder's last answer, the open follow-ups
    and the last sentiment read in the account's texts; None when there is no feedback."""
    weights = get_settings().account_nps_weights
    start = as_of - timedelta(days=PANEL_PERIOD_DAYS - 1)
    detail, answers = metrics.account_feedback(
        session,
        actor=actor,
        customer_id=customer.id,
        flt=metrics.MetricFilter(start=start, end=as_of),
        weights=weights,
        limit=PANEL_ANSWERS,
    )
    last_text = session.scalar(_LAST_TEXT, {"customer_id": customer.id})
    if not (answers or last_text):
        # Without an answer or an analysed text there is no follow-up either.
        return None
    open_loops = list(session.scalars(_OPEN_LOOPS, {"customer_id": customer.id}))
    return {
        "customer": customer,
        "detail": detail,
        "answers": answers,
        "loops": open_loops,
        "last_text": last_text,
        "start": start,
        "as_of": as_of,
        "now": datetime.now(UTC),
        "weights": weights,
        **_labels(),
        "loop_reason_labels": labels.LOOP_REASON_LABELS,
    }


panels.register(
    "feedback",
    panels.Panel(
        name="feedback.experience",
        label=N_("Feedback"),
        template="feedback/_panel.html",
        loader=_load_panel,
    ),
)
