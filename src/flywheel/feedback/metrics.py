"""Feedback metrics: NPS, CSAT and CES with their 95 % confidence intervals, broken down by
account, owner, region, tier, touchpoint kind, campaign and month; account-level NPS weighted
by buying role; satisfaction along the touchpoint journey; the topics of detractors' texts.

The queries count answers per band in SQL, inside the actor's scope, and hand the counts to
the formulas of ``scores``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    extract,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.scope import visible_customers
from flywheel.customers.repository import sees_everything
from flywheel.errors import ValidationFailed
from flywheel.feedback.scores import (
    SMALL_SAMPLE,
    Figures,
    account_nps,
    ces_of,
    csat_of,
    nps_of,
    weight_of,
)
from flywheel.feedback.surveys import SCALES
from flywheel.models.customers import Contact, Customer, Touchpoint
from flywheel.models.enums import ScoreBand, Sentiment, SurveyKind, Tier, TouchpointKind
from flywheel.models.feedback import (
    FeedbackTopic,
    SurveyCampaign,
    SurveyResponse,
    TextAnalysis,
)
from flywheel.models.users import User

_NPS = SCALES[SurveyKind.NPS]
_CSAT = SCALES[SurveyKind.CSAT]

DIMENSIONS: tuple[str, ...] = (
    "account",
    "owner",
    "region",
    "tier",
    "touchpoint",
    "campaign",
    "month",
)
# Beyond this many days a period is refused: a trend of 20 years of months is no chart.
MAX_PERIOD_DAYS = 366 * 20


@dataclass(frozen=True, slots=True)
class MetricFilter:
    """Which answers count: answered between ``start`` and ``end`` (both days included, UTC),
    of accounts of this owner (username), region, tier or this one account."""

    start: date
    end: date
    owner: str | None = None
    region: str | None = None
    tier: str | None = None
    customer_id: int | None = None

    def checked(self) -> MetricFilter:
        check_day(self.start, "from")
        check_day(self.end, "to")
        if self.start > self.end:
            raise ValidationFailed(
                f"the period starts ({self.start}) after it ends ({self.end})", field="from"
            )
        if (self.end - self.start).days > MAX_PERIOD_DAYS:
            raise ValidationFailed("a period is at most 20 years long", field="from")
        if self.tier and self.tier not in {t.value for t in Tier}:
            raise ValidationFailed(
                f"tier must be one of {', '.join(t.value for t in Tier)}, not {self.tier!r}",
                field="tier",
            )
        return self


EARLIEST = date(1900, 1, 1)
LATEST = date(2999, 12, 31)


def check_day(day: date, field_name: str) -> date:
    if not EARLIEST <= day <= LATEST:
        raise ValidationFailed(
            f"{field_name}: dates run from {EARLIEST} to {LATEST}", field=field_name
        )
    return day


def default_period(as_of: date, *, months: int = 12) -> tuple[date, date]:
    """The last ``months`` whole months and the current one up to ``as_of``."""
    year, month = as_of.year, as_of.month - months
    while month < 1:
        month += 12
        year -= 1
    return date(year, month, 1), as_of


def moment_range(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, the day after end 00:00) in UTC."""
    return (
        datetime.combine(start, time(), tzinfo=UTC),
        datetime.combine(end + timedelta(days=1), time(), tzinfo=UTC),
    )


def _in_period(column: Any, flt: MetricFilter) -> ColumnElement[bool]:
    begin, finish = moment_range(flt.start, flt.end)
    return and_(column >= begin, column < finish)


def segment_clauses(actor: Actor, flt: MetricFilter) -> list[ColumnElement[bool]]:
    """The WHERE clauses on ``Customer``: the actor's scope, then the filter's segment."""
    clauses: list[ColumnElement[bool]] = [visible_customers(actor)]
    if flt.owner:
        clauses.append(Customer.owner_id.in_(select(User.id).where(User.username == flt.owner)))
    if flt.region:
        clauses.append(Customer.region == flt.region)
    if flt.tier:
        clauses.append(Customer.tier == flt.tier)
    if flt.customer_id is not None:
        clauses.append(Customer.id == flt.customer_id)
    return clauses


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _band_counts() -> list[ColumnElement[Any]]:
    """Per group: NPS answers per band, CSAT answers and satisfied ones, CES count, sum and sum
    of squares; the same thresholds as ``surveys.band``."""
    kind, score = SurveyResponse.kind, SurveyResponse.score
    is_nps = kind == SurveyKind.NPS.value
    is_csat = kind == SurveyKind.CSAT.value
    is_ces = kind == SurveyKind.CES.value
    return [
        _count_if(and_(is_nps, score >= _NPS.good)).label("promoters"),
        _count_if(and_(is_nps, score > _NPS.bad, score < _NPS.good)).label("passives"),
        _count_if(and_(is_nps, score <= _NPS.bad)).label("detractors"),
        _count_if(is_csat).label("csat_n"),
        _count_if(and_(is_csat, score >= _CSAT.good)).label("csat_satisfied"),
        _count_if(is_ces).label("ces_n"),
        func.coalesce(func.sum(case((is_ces, score), else_=0)), 0).label("ces_sum"),
        func.coalesce(func.sum(case((is_ces, score * score), else_=0)), 0).label("ces_squares"),
    ]


def _figures_of(row: Any) -> Figures:
    return Figures(
        nps=nps_of(int(row.promoters), int(row.passives), int(row.detractors)),
        csat=csat_of(int(row.csat_satisfied), int(row.csat_n)),
        ces=ces_of(int(row.ces_n), float(row.ces_sum), float(row.ces_squares)),
    )


def _answers(actor: Actor, flt: MetricFilter, *columns: Any) -> Select[Any]:
    return (
        select(*columns)
        .select_from(SurveyResponse)
        .join(Customer, Customer.id == SurveyResponse.customer_id)
        .where(_in_period(SurveyResponse.answered_at, flt), *segment_clauses(actor, flt))
    )


def summary(session: Session, *, actor: Actor, flt: MetricFilter) -> Figures:
    """NPS, CSAT and CES of every answer the filter keeps."""
    row = session.execute(_answers(actor, flt.checked(), *_band_counts())).one()
    return _figures_of(row)


@dataclass(frozen=True, slots=True)
class Group:
    """One group of a breakdown: its stable ``key`` (a code, a username, a month "2026-03",
    "" for none) and its ``label`` (a name; the pages translate tiers and kinds)."""

    key: str
    label: str
    figures: Figures


def _check_dimension(by: str) -> str:
    if by not in DIMENSIONS:
        raise ValidationFailed(
            f"cannot break feedback down by {by!r}; choose one of: {', '.join(DIMENSIONS)}",
            field="by",
        )
    return by


def breakdown(
    session: Session, *, actor: Actor, flt: MetricFilter, by: str, limit: int = 500
) -> list[Group]:
    """The figures per group, one GROUP BY: accounts and owners with the most answers first,
    months in order, the other dimensions by key. At most ``limit`` groups."""
    flt = flt.checked()
    _check_dimension(by)
    counts = _band_counts()
    answers = func.count(SurveyResponse.id)
    if by == "month":
        year = extract("year", SurveyResponse.answered_at)
        month = extract("month", SurveyResponse.answered_at)
        stmt = (
            _answers(actor, flt, year.label("year"), month.label("month"), *counts)
            .group_by(year, month)
            .order_by(year, month)
        )
        return [
            Group(
                f"{int(r.year):04d}-{int(r.month):02d}",
                f"{int(r.year):04d}-{int(r.month):02d}",
                _figures_of(r),
            )
            for r in session.execute(stmt.limit(limit))
        ]
    key: Any
    label: Any
    stmt = _answers(actor, flt)
    if by == "account":
        key, label = Customer.code, Customer.name
    elif by == "owner":
        key = func.coalesce(User.username, "")
        label = func.coalesce(User.display_name, User.username, "")
        stmt = stmt.outerjoin(User, User.id == Customer.owner_id)
    elif by == "region":
        key = label = func.coalesce(Customer.region, "")
    elif by == "tier":
        key = label = Customer.tier
    elif by == "touchpoint":
        key = label = func.coalesce(SurveyResponse.touchpoint_kind, "")
    else:  # campaign
        key = label = func.coalesce(SurveyCampaign.name, "")
        stmt = stmt.outerjoin(SurveyCampaign, SurveyCampaign.id == SurveyResponse.campaign_id)
    order = (answers.desc(), key) if by in ("account", "owner") else (key,)
    stmt = (
        stmt.add_columns(key.label("key"), label.label("label"), *counts)
        .group_by(key, label)
        .order_by(*order)
        .limit(limit)
    )
    return [Group(str(r.key), str(r.label), _figures_of(r)) for r in session.execute(stmt)]


def months_between(start: date, end: date) -> list[str]:
    months: list[str] = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        month += 1
        if month > 12:
            year, month = year + 1, 1
    return months


@dataclass(frozen=True, slots=True)
class MonthFigures:
    month: str  # "2026-03"
    figures: Figures


def trend(session: Session, *, actor: Actor, flt: MetricFilter) -> list[MonthFigures]:
    """The figures of every month of the period, months without answers included (empty)."""
    flt = flt.checked()
    found = {
        g.key: g.figures
        for g in breakdown(session, actor=actor, flt=flt, by="month", limit=100_000)
    }
    return [MonthFigures(m, found.get(m, Figures())) for m in months_between(flt.start, flt.end)]


# ---------------------------------------------------------------- the touchpoint journey

JOURNEY_ORDER: tuple[str, ...] = tuple(k.value for k in TouchpointKind)


@dataclass(frozen=True, slots=True)
class JourneyStage:
    """Satisfaction at one kind of touchpoint: the surveys asked about it (``figures``) and the
    satisfaction (1–5) reps logged on touchpoints of that kind. ``kind`` "" is the relationship
    surveys that name no touchpoint."""

    kind: str
    figures: Figures
    logged: int = 0
    logged_mean: float | None = None


def journey(session: Session, *, actor: Actor, flt: MetricFilter) -> list[JourneyStage]:
    flt = flt.checked()
    surveyed = {g.key: g.figures for g in breakdown(session, actor=actor, flt=flt, by="touchpoint")}
    logged_rows = session.execute(
        select(
            Touchpoint.kind,
            func.count(Touchpoint.satisfaction),
            func.avg(cast(Touchpoint.satisfaction, Float)),
        )
        .join(Customer, Customer.id == Touchpoint.customer_id)
        .where(
            Touchpoint.satisfaction.is_not(None),
            _in_period(Touchpoint.occurred_at, flt),
            *segment_clauses(actor, flt),
        )
        .group_by(Touchpoint.kind)
    ).all()
    logged = {
        str(kind): (int(n), None if mean is None else float(mean)) for kind, n, mean in logged_rows
    }
    kinds = [k for k in JOURNEY_ORDER if k in surveyed or k in logged]
    kinds += sorted(k for k in {*surveyed, *logged} if k and k not in JOURNEY_ORDER)
    if "" in surveyed:
        kinds.append("")
    return [
        JourneyStage(
            kind=k,
            figures=surveyed.get(k, Figures()),
            logged=logged.get(k, (0, None))[0],
            logged_mean=logged.get(k, (0, None))[1],
        )
        for k in kinds
    ]


# ---------------------------------------------------------------- account-level NPS


def _role_weight(role: Any, weights: Mapping[str, float]) -> ColumnElement[float]:
    named = {k: float(v) for k, v in weights.items() if k}
    default = float(weights.get("", 1.0))
    if not named:
        return literal(default, Float)
    return case(named, value=role, else_=literal(default, Float))


def _latest_nps_answers(actor: Actor, flt: MetricFilter) -> Any:
    """Each stakeholder's latest NPS answer in the period (row_number 1 per contact), with the
    buying role he had when he answered (else his role now)."""
    ranked = (
        func.row_number()
        .over(
            partition_by=(SurveyResponse.customer_id, SurveyResponse.contact_id),
            order_by=(SurveyResponse.answered_at.desc(), SurveyResponse.id.desc()),
        )
        .label("rank")
    )
    return (
        _answers(
            actor,
            flt,
            SurveyResponse.id.label("response_id"),
            SurveyResponse.customer_id.label("customer_id"),
            SurveyResponse.contact_id.label("contact_id"),
            SurveyResponse.score.label("score"),
            func.coalesce(SurveyResponse.buying_role, Contact.buying_role, "").label("role"),
            SurveyResponse.answered_at.label("answered_at"),
            ranked,
        )
        .outerjoin(Contact, Contact.id == SurveyResponse.contact_id)
        .where(SurveyResponse.kind == SurveyKind.NPS.value, SurveyResponse.contact_id.is_not(None))
        .subquery("latest_nps")
    )


@dataclass(frozen=True, slots=True)
class AccountNps:
    customer_id: int
    code: str
    name: str
    score: float | None  # −100 … 100
    stakeholders: int
    weight: float  # Σ wᵢ
    promoters: int
    passives: int
    detractors: int

    @property
    def small_sample(self) -> bool:
        return self.stakeholders < SMALL_SAMPLE


def account_scores(
    session: Session,
    *,
    actor: Actor,
    flt: MetricFilter,
    weights: Mapping[str, float],
    descending: bool = True,
    limit: int = 10,
    offset: int = 0,
) -> list[AccountNps]:
    """Account-level NPS of every account with an NPS answer in the period, best first (or
    worst first), one query: each stakeholder's latest answer weighted by buying role,
    100 × Σ wᵢ·(promoterᵢ − detractorᵢ) / Σ wᵢ."""
    flt = flt.checked()
    latest = _latest_nps_answers(actor, flt)
    weight = _role_weight(latest.c.role, weights)
    weight = case((weight > 0, weight), else_=literal(0.0, Float))
    value = case((latest.c.score >= _NPS.good, 1), (latest.c.score <= _NPS.bad, -1), else_=0)
    weight_sum = func.sum(weight)
    score = case((weight_sum > 0, 100.0 * func.sum(weight * value) / weight_sum), else_=None)
    stmt = (
        select(
            Customer.id,
            Customer.code,
            Customer.name,
            score.label("score"),
            func.count().label("stakeholders"),
            weight_sum.label("weight"),
            _count_if(value == 1).label("promoters"),
            _count_if(value == 0).label("passives"),
            _count_if(value == -1).label("detractors"),
        )
        .select_from(latest)
        .join(Customer, Customer.id == latest.c.customer_id)
        .where(latest.c.rank == 1)
        .group_by(Customer.id, Customer.code, Customer.name)
        .having(weight_sum > 0)
        .order_by(score.desc() if descending else score.asc(), Customer.code)
        .limit(limit)
        .offset(offset)
    )
    return [
        AccountNps(
            customer_id=int(r.id),
            code=r.code,
            name=r.name,
            score=None if r.score is None else float(r.score),
            stakeholders=int(r.stakeholders),
            weight=float(r.weight or 0.0),
            promoters=int(r.promoters),
            passives=int(r.passives),
            detractors=int(r.detractors),
        )
        for r in session.execute(stmt)
    ]


@dataclass(frozen=True, slots=True)
class StakeholderAnswer:
    response_id: int
    contact_id: int | None
    contact: str | None
    buying_role: str
    kind: str
    score: int
    scale_max: int
    band: str
    answered_at: datetime
    comment: str | None
    weight: float = 0.0


@dataclass(frozen=True, slots=True)
class AccountNpsDetail:
    score: float | None
    weight: float
    answers: list[StakeholderAnswer]  # each stakeholder's latest NPS answer, latest first

    @property
    def stakeholders(self) -> int:
        return len(self.answers)

    @property
    def small_sample(self) -> bool:
        return self.stakeholders < SMALL_SAMPLE


def account_detail(
    session: Session,
    *,
    actor: Actor,
    customer_id: int,
    flt: MetricFilter,
    weights: Mapping[str, float],
) -> AccountNpsDetail:
    """One account's NPS with the answers it is made of (the same rule as ``account_scores``)."""
    flt = MetricFilter(start=flt.start, end=flt.end, customer_id=customer_id).checked()
    latest = _latest_nps_answers(actor, flt)
    rows = session.execute(
        select(SurveyResponse, Contact.name, latest.c.role)
        .join(latest, latest.c.response_id == SurveyResponse.id)
        .outerjoin(Contact, Contact.id == SurveyResponse.contact_id)
        .where(latest.c.rank == 1)
        .order_by(SurveyResponse.answered_at.desc(), SurveyResponse.id.desc())
    ).all()
    answers = [
        StakeholderAnswer(
            response_id=r.id,
            contact_id=r.contact_id,
            contact=name,
            buying_role=str(role or ""),
            kind=r.kind,
            score=r.score,
            scale_max=r.scale_max,
            band=r.band,
            answered_at=r.answered_at,
            comment=r.comment,
            weight=max(0.0, weight_of(str(role or ""), weights)),
        )
        for r, name, role in rows
    ]
    return AccountNpsDetail(
        score=account_nps(((a.score, a.buying_role) for a in answers), weights),
        weight=sum(a.weight for a in answers),
        answers=answers,
    )


def _feedback_statement(scope: ColumnElement[bool]) -> Select[Any]:
    """``account_feedback``'s statement for the account ``:customer_id`` in ``scope``: its
    NPS answers in [``:begin``, ``:finish``) and each contact's latest answer to anything."""
    counts = and_(
        SurveyResponse.kind == SurveyKind.NPS.value,
        SurveyResponse.answered_at >= bindparam("begin"),
        SurveyResponse.answered_at < bindparam("finish"),
    )
    newest_first = (SurveyResponse.answered_at.desc(), SurveyResponse.id.desc())
    ranked = (
        select(
            SurveyResponse.id.label("response_id"),
            case((counts, 1), else_=0).label("counts"),
            func.row_number()
            .over(partition_by=SurveyResponse.contact_id, order_by=newest_first)
            .label("latest"),
            func.row_number()
            .over(
                partition_by=(SurveyResponse.contact_id, case((counts, 1), else_=0)),
                order_by=newest_first,
            )
            .label("latest_counted"),
        )
        .join(Customer, Customer.id == SurveyResponse.customer_id)
        .where(
            SurveyResponse.customer_id == bindparam("customer_id"),
            SurveyResponse.contact_id.is_not(None),
            scope,
        )
        .subquery("ranked")
    )
    return (
        select(SurveyResponse, Contact.name, Contact.buying_role, ranked.c.latest, ranked.c.counts)
        .join(ranked, ranked.c.response_id == SurveyResponse.id)
        .outerjoin(Contact, Contact.id == SurveyResponse.contact_id)
        .where(or_(ranked.c.latest == 1, and_(ranked.c.counts == 1, ranked.c.latest_counted == 1)))
        .order_by(*newest_first)
    )


# For those who see every account (the scope adds nothing), built once: every 360 runs it.
_EVERY_ACCOUNT_FEEDBACK = _feedback_statement(true())


def account_feedback(
    session: Session,
    *,
    actor: Actor,
    customer_id: int,
    flt: MetricFilter,
    weights: Mapping[str, float],
    limit: int = 10,
) -> tuple[AccountNpsDetail, list[StakeholderAnswer]]:
    """For the 360, in one query: the account's NPS (as ``account_detail``) and each contact's
    latest answer to any survey, latest first (at most ``limit``)."""
    flt = MetricFilter(start=flt.start, end=flt.end, customer_id=customer_id).checked()
    scope = visible_customers(actor)
    statement = _EVERY_ACCOUNT_FEEDBACK if sees_everything(scope) else _feedback_statement(scope)
    begin, finish = moment_range(flt.start, flt.end)
    rows = session.execute(
        statement, {"customer_id": customer_id, "begin": begin, "finish": finish}
    ).all()
    last: list[StakeholderAnswer] = []
    counted: list[StakeholderAnswer] = []
    for r, name, role_now, latest, counts_for_nps in rows:
        role = str(r.buying_role or role_now or "")
        answer = StakeholderAnswer(
            response_id=r.id,
            contact_id=r.contact_id,
            contact=name,
            buying_role=role,
            kind=r.kind,
            score=r.score,
            scale_max=r.scale_max,
            band=r.band,
            answered_at=r.answered_at,
            comment=r.comment,
            weight=max(0.0, weight_of(role, weights)),
        )
        if latest == 1 and len(last) < limit:
            last.append(answer)
        # A counted row is its contact's latest NPS answer of the period (by the WHERE).
        if counts_for_nps == 1:
            counted.append(answer)
    detail = AccountNpsDetail(
        score=account_nps(((a.score, a.buying_role) for a in counted), weights),
        weight=sum(a.weight for a in counted),
        answers=counted,
    )
    return detail, last


# ---------------------------------------------------------------- topics of detractors


@dataclass(frozen=True, slots=True)
class TopicCount:
    code: str
    name_zh: str
    name_en: str
    count: int


@dataclass(frozen=True, slots=True)
class DetractorTopics:
    texts: int  # negative texts in the period
    untagged: int  # of which no topic matched
    topics: list[TopicCount]  # most mentioned first; topics never mentioned left out


def json_list_has(column: Any, value: str) -> ColumnElement[bool]:
    """Whether a JSON list of codes holds ``value``: a match on the list's text, which both
    SQLite and PostgreSQL store as written (``["delivery", "price"]``)."""
    return cast(column, String).contains(f'"{value}"', autoescape=True)


def negative_text() -> ColumnElement[bool]:
    """A text counts as negative when its sentiment is, or when it is the comment of a
    detractor or of a dissatisfied CSAT/CES answer (needs the outer join on the response)."""
    return or_(
        TextAnalysis.sentiment == Sentiment.NEGATIVE.value,
        SurveyResponse.band.in_((ScoreBand.DETRACTOR.value, ScoreBand.NEGATIVE.value)),
    )


def detractor_topics(session: Session, *, actor: Actor, flt: MetricFilter) -> DetractorTopics:
    """How often each topic of the taxonomy is named in the period's negative texts (survey
    comments, touchpoint notes, dispute descriptions): one query, a count per topic."""
    flt = flt.checked()
    taxonomy = session.execute(
        select(FeedbackTopic.code, FeedbackTopic.name_zh, FeedbackTopic.name_en).order_by(
            FeedbackTopic.code
        )
    ).all()
    counts = [
        _count_if(json_list_has(TextAnalysis.topics, code)).label(f"t{i}")
        for i, (code, _zh, _en) in enumerate(taxonomy)
    ]
    untagged = or_(
        TextAnalysis.topics.is_(None), cast(TextAnalysis.topics, String).in_(("[]", "null"))
    )
    row = session.execute(
        select(
            func.count(TextAnalysis.id).label("texts"),
            _count_if(untagged).label("untagged"),
            *counts,
        )
        .select_from(TextAnalysis)
        .join(Customer, Customer.id == TextAnalysis.customer_id)
        .outerjoin(
            SurveyResponse,
            and_(
                TextAnalysis.source == "response",
                SurveyResponse.id == TextAnalysis.source_id,
            ),
        )
        .where(
            negative_text(),
            _in_period(TextAnalysis.occurred_at, flt),
            *segment_clauses(actor, flt),
        )
    ).one()
    topics = [
        TopicCount(code, zh, en, int(getattr(row, f"t{i}")))
        for i, (code, zh, en) in enumerate(taxonomy)
    ]
    topics = sorted((t for t in topics if t.count), key=lambda t: (-t.count, t.code))
    return DetractorTopics(texts=int(row.texts), untagged=int(row.untagged), topics=topics)


# ---------------------------------------------------------------- labels for keys


def topic_names(session: Session) -> dict[str, tuple[str, str]]:
    """Every topic's (Chinese, English) name by code."""
    return {
        code: (zh, en)
        for code, zh, en in session.execute(
            select(FeedbackTopic.code, FeedbackTopic.name_zh, FeedbackTopic.name_en)
        )
    }
