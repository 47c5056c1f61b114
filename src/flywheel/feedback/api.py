"""JSON routes for the feedback metrics and the inbox: NPS, CSAT and CES of a period with a
breakdown, their monthly trend, an account's weighted NPS, and the inbox's rows. Reads only,
for every role, inside the caller's scope (a sales rep: his own accounts)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query

from flywheel.config import get_settings
from flywheel.customers import service as customers
from flywheel.feedback import inbox, metrics, scores
from flywheel.feedback.metric_schemas import (
    AccountNpsOut,
    GroupOut,
    InboxItemOut,
    InboxPageOut,
    MetricDimension,
    MetricsOut,
    StakeholderAnswerOut,
    TrendOut,
)
from flywheel.models.enums import Sentiment, SurveyKind, TextSource, Tier, UrgencyFlag
from flywheel.web.auth import CurrentActor
from flywheel.web.contract import ERROR_RESPONSES, Paging, today
from flywheel.web.deps import SessionDep

router = APIRouter(responses=ERROR_RESPONSES, tags=["feedback"])

From = Annotated[
    date | None,
    Query(alias="from", description="First day of the period (default: 12 months ago, day 1)."),
]
To = Annotated[
    date | None, Query(alias="to", description="Last day of the period (default: today).")
]
Owner = Annotated[str | None, Query(max_length=64, description="The account owner's username.")]
Region = Annotated[str | None, Query(max_length=80, description="The account's region.")]
TierParam = Annotated[Tier | None, Query(description="The account's tier.")]


def _filter(
    start: date | None,
    end: date | None,
    owner: str | None = None,
    region: str | None = None,
    tier: Tier | None = None,
) -> metrics.MetricFilter:
    default_start, default_end = metrics.default_period(today())
    last = end or default_end
    first = start or (default_start if last >= default_start else last.replace(day=1))
    return metrics.MetricFilter(
        start=first,
        end=last,
        owner=owner or None,
        region=region or None,
        tier=tier.value if tier else None,
    ).checked()


@router.get(
    "/feedback/metrics",
    response_model=MetricsOut,
    summary="NPS, CSAT and CES of a period, with a breakdown",
)
def get_metrics(
    session: SessionDep,
    actor: CurrentActor,
    start: From = None,
    end: To = None,
    owner: Owner = None,
    region: Region = None,
    tier: TierParam = None,
    by: Annotated[
        MetricDimension | None, Query(description="Break the figures down by this.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=5000, description="At most this many groups.")] = 500,
) -> MetricsOut:
    """Answers in [from, to] of the accounts the caller may see. NPS = % promoters (9–10) −
    % detractors (0–6) with a 95 % adjusted Wald interval; CSAT = % of answers 4–5 with a 95 %
    Wilson interval; CES = mean (1–7) with a 95 % t interval; ``small_sample`` below 30
    answers. ``formulas`` states each."""
    flt = _filter(start, end, owner, region, tier)
    figures = metrics.summary(session, actor=actor, flt=flt)
    groups = (
        metrics.breakdown(session, actor=actor, flt=flt, by=by.value, limit=limit) if by else []
    )
    return MetricsOut.of(flt, figures, by, groups)


@router.get(
    "/feedback/metrics/trend", response_model=TrendOut, summary="NPS, CSAT and CES per month"
)
def get_trend(
    session: SessionDep,
    actor: CurrentActor,
    start: From = None,
    end: To = None,
    owner: Owner = None,
    region: Region = None,
    tier: TierParam = None,
) -> TrendOut:
    """Every month of the period, months without answers included (``n`` 0, figures null)."""
    flt = _filter(start, end, owner, region, tier)
    months = metrics.trend(session, actor=actor, flt=flt)
    return TrendOut(
        start=flt.start,
        end=flt.end,
        months=[GroupOut.of(m.month, m.month, m.figures) for m in months],
    )


@router.get(
    "/feedback/accounts/{code}/nps",
    response_model=AccountNpsOut,
    summary="An account's NPS, its stakeholders weighted by buying role",
)
def get_account_nps(
    code: Annotated[str, Path(max_length=64)],
    session: SessionDep,
    actor: CurrentActor,
    start: From = None,
    end: To = None,
) -> AccountNpsOut:
    """100 × Σ wᵢ·(promoterᵢ − detractorᵢ) / Σ wᵢ over each stakeholder's latest NPS answer in
    the period, wᵢ the weight of his buying role (settings ``account_nps_weights``)."""
    customer = customers.get_customer_by_code(session, code, actor=actor)
    flt = _filter(start, end)
    weights = get_settings().account_nps_weights
    detail = metrics.account_detail(
        session, actor=actor, customer_id=customer.id, flt=flt, weights=weights
    )
    return AccountNpsOut(
        customer=customer.code,
        name=customer.name,
        start=flt.start,
        end=flt.end,
        score=None if detail.score is None else round(detail.score, 2),
        stakeholders=detail.stakeholders,
        weight=detail.weight,
        small_sample=detail.small_sample,
        formula=scores.ACCOUNT_NPS_FORMULA,
        weights={role: float(w) for role, w in weights.items()},
        answers=[
            StakeholderAnswerOut(
                response_id=a.response_id,
                contact_id=a.contact_id,
                contact=a.contact,
                buying_role=a.buying_role,
                weight=a.weight,
                score=a.score,
                band=a.band,
                answered_at=a.answered_at,
                comment=a.comment,
            )
            for a in detail.answers
        ],
    )


INBOX_BANDS = "^(bad|promoter|passive|detractor|positive|neutral|negative)$"


@router.get(
    "/feedback/responses",
    response_model=InboxPageOut,
    summary="The feedback inbox: answers and analysed texts, newest first",
)
def get_responses(
    session: SessionDep,
    actor: CurrentActor,
    paging: Paging,
    start: Annotated[date | None, Query(alias="from", description="From this day.")] = None,
    end: Annotated[date | None, Query(alias="to", description="Up to this day.")] = None,
    band: Annotated[
        str | None,
        Query(pattern=INBOX_BANDS, description="A score band; bad: detractors and dissatisfied."),
    ] = None,
    sentiment: Annotated[Sentiment | None, Query()] = None,
    topic: Annotated[str | None, Query(max_length=40, description="A topic code.")] = None,
    urgency: Annotated[
        UrgencyFlag | None, Query(description="Texts with this urgent flag.")
    ] = None,
    urgent: Annotated[bool, Query(description="Only texts with any urgent flag.")] = False,
    account: Annotated[
        str | None, Query(max_length=200, description="Part of the account's code or name.")
    ] = None,
    customer: Annotated[
        str | None, Query(max_length=64, description="One account, by its exact code.")
    ] = None,
    owner: Owner = None,
    source: Annotated[TextSource | None, Query()] = None,
    kind: Annotated[
        SurveyKind | None, Query(description="Only answers to this kind of survey.")
    ] = None,
) -> InboxPageOut:
    """The same rows and filters as the inbox page; ``topic_spans`` locate each topic's words
    in ``text``."""
    flt = inbox.InboxFilter(
        start=start,
        end=end,
        band=band,
        sentiment=sentiment.value if sentiment else None,
        topic=topic,
        urgency=urgency.value if urgency else (inbox.ANY_URGENCY if urgent else None),
        account=account,
        customer=customer,
        owner=owner,
        source=source.value if source else None,
        kind=kind.value if kind else None,
    )
    page = inbox.inbox(session, actor=actor, flt=flt, limit=paging.limit, offset=paging.offset)
    return InboxPageOut(
        items=[InboxItemOut.of(item) for item in page.items],
        total=page.total,
        page=paging.page,
        page_size=paging.page_size,
    )
