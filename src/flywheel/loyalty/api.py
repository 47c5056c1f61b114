"""JSON routes of the loyalty dashboard: segments, cohorts, NRR/GRR, CLV distribution and the
accounts at risk. Reads only, for every role, inside the caller's scope (a sales rep: his own
accounts); money in one currency (default: the base currency)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query

from flywheel.loyalty import dashboard, retention
from flywheel.loyalty.schemas import (
    COHORT_DEFINITIONS,
    RETENTION_DEFINITIONS,
    SEGMENT_DEFINITIONS,
    AtRiskOut,
    AtRiskPageOut,
    ClvDistributionOut,
    CohortOut,
    CohortsOut,
    FilterOut,
    PeriodKind,
    PeriodOut,
    RepeatOut,
    RetentionOut,
    SegmentBy,
    SegmentGroupOut,
    SegmentOut,
    SegmentsOut,
)
from flywheel.models.enums import Tier
from flywheel.web.auth import CurrentActor
from flywheel.web.contract import ERROR_RESPONSES, Paging, today
from flywheel.web.deps import SessionDep

router = APIRouter(prefix="/loyalty", tags=["loyalty"], responses=ERROR_RESPONSES)

AsOf = Annotated[date | None, Query(description="The day the figures are of (default: today).")]
Owner = Annotated[str | None, Query(max_length=64, description="The account owner's username.")]
Region = Annotated[str | None, Query(max_length=80, description="The account's region.")]
TierParam = Annotated[Tier | None, Query(description="The account's tier.")]
Currency = Annotated[
    str | None,
    Query(
        min_length=3,
        max_length=3,
        pattern="^[A-Za-z]{3}$",
        description="Accounts billed in this currency (default: the base currency).",
    ),
]


def _filter(
    owner: str | None, region: str | None, tier: Tier | None, currency: str | None
) -> retention.LoyaltyFilter:
    return retention.LoyaltyFilter(
        owner=owner, region=region, tier=tier.value if tier else None, currency=currency
    ).checked()


def _day(as_of: date | None) -> date:
    return retention.check_as_of(as_of or today())


@router.get(
    "/segments", response_model=SegmentsOut, summary="Accounts, revenue and CLV per segment"
)
def get_segments(
    session: SessionDep,
    actor: CurrentActor,
    as_of: AsOf = None,
    owner: Owner = None,
    region: Region = None,
    tier: TierParam = None,
    currency: Currency = None,
    by: Annotated[SegmentBy | None, Query(description="Also per owner, region or tier.")] = None,
) -> SegmentsOut:
    """The RFM segments of the last loyalty cycle run on or before ``as_of`` (``scores_day``;
    null with empty segments when the cycle has not run yet)."""
    day = _day(as_of)
    flt = _filter(owner, region, tier, currency)
    scores_day = dashboard.latest_day(session, as_of=day)
    figures = (
        dashboard.segment_summary(session, actor=actor, flt=flt, day=scores_day)
        if scores_day
        else []
    )
    groups = (
        dashboard.segment_breakdown(session, actor=actor, flt=flt, day=scores_day, by=by.value)
        if scores_day and by
        else []
    )
    return SegmentsOut(
        as_of=day,
        scores_day=scores_day,
        filters=FilterOut.of(flt),
        accounts=sum(f.accounts for f in figures),
        segments=[SegmentOut.of(f) for f in figures],
        by=by,
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


@router.get(
    "/cohorts",
    response_model=CohortsOut,
    summary="Repeat-purchase rate and cohort retention by first-purchase month",
)
def get_cohorts(
    session: SessionDep,
    actor: CurrentActor,
    as_of: AsOf = None,
    owner: Owner = None,
    region: Region = None,
    tier: TierParam = None,
    currency: Currency = None,
    months: Annotated[
        int,
        Query(ge=1, le=retention.MAX_COHORT_MONTHS, description="Cohorts of this many months."),
    ] = retention.DEFAULT_COHORT_MONTHS,
) -> CohortsOut:
    """Computed from the orders up to ``as_of`` (cancelled ones left out)."""
    day = _day(as_of)
    flt = _filter(owner, region, tier, currency)
    frame = retention.scoped_frame(session, actor=actor, flt=flt, as_of=day)
    return CohortsOut(
        as_of=day,
        filters=FilterOut.of(flt),
        repeat_purchase=RepeatOut.of(retention.repeat_figures(frame)),
        cohorts=[CohortOut.of(row) for row in retention.cohort_rows(frame, months=months)],
        definitions=COHORT_DEFINITIONS,
    )


@router.get("/retention", response_model=RetentionOut, summary="NRR and GRR per period")
def get_retention(
    session: SessionDep,
    actor: CurrentActor,
    as_of: AsOf = None,
    period: Annotated[PeriodKind, Query(description="month, quarter or year.")] = PeriodKind.MONTH,
    periods: Annotated[
        int | None,
        Query(
            ge=1,
            le=retention.MAX_PERIODS,
            description="How many (default: 12 months, 8 quarters, 5 years).",
        ),
    ] = None,
    owner: Owner = None,
    region: Region = None,
    tier: TierParam = None,
    currency: Currency = None,
) -> RetentionOut:
    """Whole calendar periods that ended on or before ``as_of``, oldest first."""
    day = _day(as_of)
    flt = _filter(owner, region, tier, currency)
    frame = retention.scoped_frame(session, actor=actor, flt=flt, as_of=day)
    series = retention.net_retention(frame, period=period.value, periods=periods)
    return RetentionOut(
        as_of=day,
        period=period,
        filters=FilterOut.of(flt),
        periods=[PeriodOut.of(p) for p in series],
        definitions=RETENTION_DEFINITIONS,
    )


@router.get("/clv-distribution", response_model=ClvDistributionOut, summary="Accounts per CLV band")
def get_clv_distribution(
    session: SessionDep,
    actor: CurrentActor,
    as_of: AsOf = None,
    owner: Owner = None,
    region: Region = None,
    tier: TierParam = None,
    currency: Currency = None,
    bins: Annotated[int, Query(ge=2, le=100)] = dashboard.CLV_BINS,
) -> ClvDistributionOut:
    """The CLV of the last loyalty cycle run on or before ``as_of``, in bins of a round width
    up to its 99th percentile; the last bin is open-ended."""
    day = _day(as_of)
    flt = _filter(owner, region, tier, currency)
    scores_day = dashboard.latest_day(session, as_of=day)
    distribution = (
        dashboard.clv_distribution(session, actor=actor, flt=flt, day=scores_day, bins=bins)
        if scores_day
        else None
    )
    return ClvDistributionOut.of(day, scores_day, flt, distribution)


@router.get(
    "/at-risk", response_model=AtRiskPageOut, summary="Accounts by value at risk (CLV × churn risk)"
)
def get_at_risk(
    session: SessionDep,
    actor: CurrentActor,
    paging: Paging,
    as_of: AsOf = None,
    owner: Owner = None,
    region: Region = None,
    tier: TierParam = None,
    currency: Currency = None,
    min_churn_risk: Annotated[
        float, Query(ge=0.0, le=1.0, description="Only accounts at least this likely to churn.")
    ] = dashboard.DEFAULT_MIN_CHURN_RISK,
) -> AtRiskPageOut:
    """Accounts with a CLV and a churn risk of at least ``min_churn_risk`` on the last cycle
    day on or before ``as_of``, by value at risk, highest first."""
    day = _day(as_of)
    flt = _filter(owner, region, tier, currency)
    scores_day = dashboard.latest_day(session, as_of=day)
    page = (
        dashboard.at_risk(
            session,
            actor=actor,
            flt=flt,
            day=scores_day,
            min_churn_risk=min_churn_risk,
            limit=paging.limit,
            offset=paging.offset,
        )
        if scores_day
        else dashboard.AtRiskPage(0, Decimal("0.00"), [])
    )
    return AtRiskPageOut(
        as_of=day,
        scores_day=scores_day,
        filters=FilterOut.of(flt),
        min_churn_risk=min_churn_risk,
        total=page.total,
        value_at_risk=page.value_at_risk,
        page=paging.page,
        page_size=paging.page_size,
        items=[AtRiskOut.of(a) for a in page.items],
    )
