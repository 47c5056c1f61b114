"""The feedback inbox: every survey answer and every analysed text (touchpoint notes, dispute
descriptions) in one list, newest first, filtered and paged in SQL inside the actor's scope;
and the verbatims with their topic words marked for highlighting."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    cast,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.scope import visible_customers
from flywheel.errors import ValidationFailed
from flywheel.feedback.metrics import check_day, json_list_has, moment_range
from flywheel.models.collections import Dispute
from flywheel.models.customers import Contact, Customer, Touchpoint
from flywheel.models.enums import (
    LoopStatus,
    ScoreBand,
    Sentiment,
    SurveyKind,
    TextSource,
    UrgencyFlag,
)
from flywheel.models.feedback import FeedbackLoop, SurveyResponse, TextAnalysis
from flywheel.models.users import User

ANY_URGENCY = "any"
# The inbox's "bad" band: detractors and dissatisfied CSAT/CES answers together.
BAD_BANDS = "bad"


def _one_of(value: str | None, allowed: Sequence[str], field: str) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    if value not in allowed:
        raise ValidationFailed(
            f"{field} must be one of {', '.join(allowed)}, not {value!r}", field=field
        )
    return value


@dataclass(frozen=True, slots=True)
class InboxFilter:
    """What the inbox shows; empty values mean "any". ``account`` is part of a code or a name,
    ``customer`` one account's exact code, ``owner`` a username, ``topic`` a topic code,
    ``urgency`` a flag or "any"."""

    start: date | None = None
    end: date | None = None
    band: str | None = None
    sentiment: str | None = None
    topic: str | None = None
    urgency: str | None = None
    account: str | None = None
    customer: str | None = None
    owner: str | None = None
    source: str | None = None
    kind: str | None = None

    def checked(self) -> InboxFilter:
        if self.start:
            check_day(self.start, "from")
        if self.end:
            check_day(self.end, "to")
        if self.start and self.end and self.start > self.end:
            raise ValidationFailed(
                f"the period starts ({self.start}) after it ends ({self.end})", field="from"
            )
        return InboxFilter(
            start=self.start,
            end=self.end,
            band=_one_of(self.band, [BAD_BANDS, *(b.value for b in ScoreBand)], "band"),
            sentiment=_one_of(self.sentiment, [s.value for s in Sentiment], "sentiment"),
            topic=(self.topic or "").strip()[:40] or None,
            urgency=_one_of(
                self.urgency, [ANY_URGENCY, *(u.value for u in UrgencyFlag)], "urgency"
            ),
            account=(self.account or "").strip()[:200] or None,
            customer=(self.customer or "").strip()[:64] or None,
            owner=(self.owner or "").strip()[:64] or None,
            source=_one_of(self.source, [s.value for s in TextSource], "source"),
            kind=_one_of(self.kind, [k.value for k in SurveyKind], "kind"),
        )


def _customer_clauses(actor: Actor, flt: InboxFilter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [visible_customers(actor)]
    if flt.account:
        pattern = flt.account.lower()
        clauses.append(
            or_(
                func.lower(Customer.code).contains(pattern, autoescape=True),
                func.lower(Customer.name).contains(pattern, autoescape=True),
            )
        )
    if flt.customer:
        clauses.append(Customer.code == flt.customer)
    if flt.owner:
        clauses.append(Customer.owner_id.in_(select(User.id).where(User.username == flt.owner)))
    return clauses


def _analysis_clauses(flt: InboxFilter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if flt.sentiment:
        clauses.append(TextAnalysis.sentiment == flt.sentiment)
    if flt.topic:
        clauses.append(json_list_has(TextAnalysis.topics, flt.topic))
    if flt.urgency == ANY_URGENCY:
        clauses.append(
            and_(
                TextAnalysis.urgency.is_not(None),
                cast(TextAnalysis.urgency, String).not_in(("[]", "null")),
            )
        )
    elif flt.urgency:
        clauses.append(json_list_has(TextAnalysis.urgency, flt.urgency))
    return clauses


def _period(column: Any, flt: InboxFilter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if flt.start:
        clauses.append(column >= moment_range(flt.start, flt.start)[0])
    if flt.end:
        clauses.append(column < moment_range(flt.end, flt.end)[1])
    return clauses


def _keys(actor: Actor, flt: InboxFilter) -> Select[Any] | None:
    """The inbox's rows as (source, item_id, occurred_at): answers (with their comment's
    analysis, if any) and the analysed touchpoint notes and dispute descriptions, filtered."""
    parts: list[Select[str, int, datetime]] = []
    if flt.source in (None, TextSource.RESPONSE.value):
        answers = (
            select(
                literal(TextSource.RESPONSE.value, String).label("source"),
                SurveyResponse.id.label("item_id"),
                SurveyResponse.answered_at.label("occurred_at"),
            )
            .select_from(SurveyResponse)
            .join(Customer, Customer.id == SurveyResponse.customer_id)
            .where(*_customer_clauses(actor, flt), *_period(SurveyResponse.answered_at, flt))
        )
        analysed = _analysis_clauses(flt)
        if analysed:
            answers = answers.join(
                TextAnalysis,
                and_(
                    TextAnalysis.source == TextSource.RESPONSE.value,
                    TextAnalysis.source_id == SurveyResponse.id,
                ),
            ).where(*analysed)
        if flt.band == BAD_BANDS:
            answers = answers.where(
                SurveyResponse.band.in_((ScoreBand.DETRACTOR.value, ScoreBand.NEGATIVE.value))
            )
        elif flt.band:
            answers = answers.where(SurveyResponse.band == flt.band)
        if flt.kind:
            answers = answers.where(SurveyResponse.kind == flt.kind)
        parts.append(answers)
    # Texts other than answers have no score: a score band or survey kind leaves them out.
    others = [
        s.value
        for s in (TextSource.TOUCHPOINT, TextSource.DISPUTE)
        if flt.source in (None, s.value)
    ]
    if others and not flt.band and not flt.kind:
        parts.append(
            select(
                TextAnalysis.source.label("source"),
                TextAnalysis.source_id.label("item_id"),
                TextAnalysis.occurred_at.label("occurred_at"),
            )
            .select_from(TextAnalysis)
            .join(Customer, Customer.id == TextAnalysis.customer_id)
            .where(
                TextAnalysis.source.in_(others),
                *_customer_clauses(actor, flt),
                *_period(TextAnalysis.occurred_at, flt),
                *_analysis_clauses(flt),
            )
        )
    if not parts:
        return None
    keys = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery("inbox")
    return select(keys.c.source, keys.c.item_id, keys.c.occurred_at).order_by(
        keys.c.occurred_at.desc(), keys.c.source, keys.c.item_id.desc()
    )


@dataclass(frozen=True, slots=True)
class LoopLink:
    id: int
    status: str
    due_at: datetime


@dataclass(frozen=True, slots=True)
class InboxItem:
    source: str  # enums.TextSource
    item_id: int  # the answer's, the touchpoint's or the dispute's id
    occurred_at: datetime
    customer_code: str
    customer_name: str
    owner: str | None  # username
    text: str | None
    contact: str | None = None
    kind: str | None = None  # survey kind, for answers
    score: int | None = None
    scale_max: int | None = None
    band: str | None = None
    touchpoint_kind: str | None = None
    detail: str | None = None  # a touchpoint's kind, a dispute's reason
    analysis_id: int | None = None
    sentiment: str | None = None
    sentiment_score: float | None = None
    topics: list[str] = field(default_factory=list)
    topic_spans: Mapping[str, Any] = field(default_factory=dict)
    urgency: list[str] = field(default_factory=list)
    loop: LoopLink | None = None


@dataclass(frozen=True, slots=True)
class InboxPage:
    items: list[InboxItem]
    total: int


def inbox(
    session: Session, *, actor: Actor, flt: InboxFilter, limit: int = 50, offset: int = 0
) -> InboxPage:
    """One page of the inbox, newest first, and how many rows the filter keeps in all."""
    flt = flt.checked()
    keys = _keys(actor, flt)
    if keys is None:
        return InboxPage([], 0)
    total = session.scalar(select(func.count()).select_from(keys.order_by(None).subquery())) or 0
    rows = session.execute(keys.limit(limit).offset(offset)).all()
    return InboxPage(_hydrate(session, [(str(s), int(i)) for s, i, _at in rows]), int(total))


def _hydrate(session: Session, keys: list[tuple[str, int]]) -> list[InboxItem]:
    """The page's rows in full: a few IN queries, whatever the page size."""
    by_source: dict[str, list[int]] = {}
    for source, item_id in keys:
        by_source.setdefault(source, []).append(item_id)
    analyses: dict[tuple[str, int], TextAnalysis] = {}
    for source, ids in by_source.items():
        for found in session.scalars(
            select(TextAnalysis).where(
                TextAnalysis.source == source, TextAnalysis.source_id.in_(ids)
            )
        ):
            analyses[(source, found.source_id)] = found
    answers = {
        r.id: (r, contact)
        for r, contact in session.execute(
            select(SurveyResponse, Contact.name)
            .outerjoin(Contact, Contact.id == SurveyResponse.contact_id)
            .where(SurveyResponse.id.in_(by_source.get(TextSource.RESPONSE.value, [])))
        )
    }
    touchpoints = {
        t.id: (t, contact)
        for t, contact in session.execute(
            select(Touchpoint, Contact.name)
            .outerjoin(Contact, Contact.id == Touchpoint.contact_id)
            .where(Touchpoint.id.in_(by_source.get(TextSource.TOUCHPOINT.value, [])))
        )
    }
    disputes = {
        d.id: d
        for d in session.scalars(
            select(Dispute).where(Dispute.id.in_(by_source.get(TextSource.DISPUTE.value, [])))
        )
    }
    customer_ids = {a.customer_id for a, _c in answers.values()}
    customer_ids |= {t.customer_id for t, _c in touchpoints.values()}
    customer_ids |= {d.customer_id for d in disputes.values()}
    customers = {
        c.id: (c, owner)
        for c, owner in session.execute(
            select(Customer, User.username)
            .outerjoin(User, User.id == Customer.owner_id)
            .where(Customer.id.in_(customer_ids))
        )
    }
    loops = _loops(
        session,
        response_ids=list(answers),
        analysis_ids=[a.id for a in analyses.values()],
    )
    items: list[InboxItem] = []
    for source, item_id in keys:
        analysis = analyses.get((source, item_id))
        common: dict[str, Any] = {}
        if analysis is not None:
            common.update(
                analysis_id=analysis.id,
                sentiment=analysis.sentiment,
                sentiment_score=analysis.sentiment_score,
                topics=list(analysis.topics or []),
                topic_spans=dict(analysis.topic_spans or {}),
                urgency=list(analysis.urgency or []),
            )
        if source == TextSource.RESPONSE.value and item_id in answers:
            answer, contact = answers[item_id]
            customer, owner = customers[answer.customer_id]
            loop = loops.get(("response", answer.id)) or (
                loops.get(("analysis", analysis.id)) if analysis else None
            )
            items.append(
                InboxItem(
                    source=source,
                    item_id=item_id,
                    occurred_at=answer.answered_at,
                    customer_code=customer.code,
                    customer_name=customer.name,
                    owner=owner,
                    text=_stripped(answer.comment),
                    contact=contact,
                    kind=answer.kind,
                    score=answer.score,
                    scale_max=answer.scale_max,
                    band=answer.band,
                    touchpoint_kind=answer.touchpoint_kind,
                    loop=loop,
                    **common,
                )
            )
        elif source == TextSource.TOUCHPOINT.value and item_id in touchpoints and analysis:
            touchpoint, contact = touchpoints[item_id]
            customer, owner = customers[touchpoint.customer_id]
            items.append(
                InboxItem(
                    source=source,
                    item_id=item_id,
                    occurred_at=analysis.occurred_at,
                    customer_code=customer.code,
                    customer_name=customer.name,
                    owner=owner,
                    text=_stripped(touchpoint.summary),
                    contact=contact,
                    touchpoint_kind=touchpoint.kind,
                    detail=touchpoint.kind,
                    loop=loops.get(("analysis", analysis.id)),
                    **common,
                )
            )
        elif source == TextSource.DISPUTE.value and item_id in disputes and analysis:
            dispute = disputes[item_id]
            customer, owner = customers[dispute.customer_id]
            items.append(
                InboxItem(
                    source=source,
                    item_id=item_id,
                    occurred_at=analysis.occurred_at,
                    customer_code=customer.code,
                    customer_name=customer.name,
                    owner=owner,
                    text=_stripped(dispute.description),
                    detail=dispute.reason,
                    loop=loops.get(("analysis", analysis.id)),
                    **common,
                )
            )
    return items


def _stripped(text: str | None) -> str | None:
    # The analysis reads the text stripped: its topic spans count from the first character.
    return (text or "").strip() or None


def _loops(
    session: Session, *, response_ids: list[int], analysis_ids: list[int]
) -> dict[tuple[str, int], LoopLink]:
    if not response_ids and not analysis_ids:
        return {}
    found: dict[tuple[str, int], LoopLink] = {}
    rows = session.scalars(
        select(FeedbackLoop)
        .where(
            or_(
                FeedbackLoop.response_id.in_(response_ids),
                FeedbackLoop.analysis_id.in_(analysis_ids),
            )
        )
        .order_by(FeedbackLoop.opened_at, FeedbackLoop.id)
    )
    for loop in rows:
        link = LoopLink(loop.id, loop.status, loop.due_at)
        # An open loop wins over a closed one on the same feedback.
        for key in (("response", loop.response_id), ("analysis", loop.analysis_id)):
            if key[1] is None:
                continue
            typed = (key[0], int(key[1]))
            if typed not in found or link.status == LoopStatus.OPEN.value:
                found[typed] = link
    return found


# ---------------------------------------------------------------- highlighting


def merged_spans(text: str, spans: Mapping[str, Any]) -> list[tuple[int, int, list[str]]]:
    """The topic spans (``{code: [[start, end], ...]}``) that fall inside ``text``, sorted and
    merged where they overlap, each with the codes it belongs to. Malformed entries are
    skipped: a highlight is a help, never a reason for a page to fail."""
    found: list[tuple[int, int, str]] = []
    for code, ranges in (spans or {}).items():
        if not isinstance(ranges, list):
            continue
        for item in ranges:
            if (
                isinstance(item, list | tuple)
                and len(item) == 2
                and all(isinstance(v, int) and not isinstance(v, bool) for v in item)
            ):
                start, end = max(0, item[0]), min(len(text), item[1])
                if start < end:
                    found.append((start, end, str(code)))
    found.sort()
    merged: list[tuple[int, int, list[str]]] = []
    for start, end, code in found:
        if merged and start < merged[-1][1]:
            last_start, last_end, codes = merged[-1]
            merged[-1] = (
                last_start,
                max(last_end, end),
                codes + ([code] if code not in codes else []),
            )
        else:
            merged.append((start, end, [code]))
    return merged


def highlight(
    text: str | None, spans: Mapping[str, Any], names: Mapping[str, str] | None = None
) -> Markup:
    """``text`` HTML-escaped, its topic words wrapped in ``<mark>`` (with the topic's name as a
    title): safe to put on a page as it is."""
    if not text:
        return Markup("")
    names = names or {}
    out: list[str] = []
    at = 0
    for start, end, codes in merged_spans(text, spans):
        out.append(str(escape(text[at:start])))
        title = ", ".join(names.get(c, c) for c in codes)
        out.append(
            f'<mark data-topic="{escape(" ".join(codes))}" title="{escape(title)}">'
            f"{escape(text[start:end])}</mark>"
        )
        at = end
    out.append(str(escape(text[at:])))
    return Markup("".join(out))
