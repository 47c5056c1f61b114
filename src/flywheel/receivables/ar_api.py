"""``/api/v1/ar``: aging and receivables KPIs as JSON.

The same parameters as the AR dashboard (/ar): ``as_of`` (default today, UTC), ``currency``
(default the base currency), ``by``, ``buckets``; a sales rep gets the figures of his own book.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.receivables import aging, kpis
from flywheel.receivables.ar_schemas import AgedInstallmentPage, AgingOut, KpisOut
from flywheel.web.auth import require
from flywheel.web.contract import ERROR_RESPONSES, Paging, today
from flywheel.web.deps import SessionDep

router = APIRouter(prefix="/ar", tags=["receivables analytics"], responses=ERROR_RESPONSES)

ViewAr = Annotated[Actor, Depends(require(Permission.VIEW_AR_ANALYTICS))]


class AgingBy(StrEnum):
    CUSTOMER = "customer"
    OWNER = "owner"
    REGION = "region"
    TIER = "tier"
    GRADE = "grade"


class SortOrder(StrEnum):
    ASC = "asc"
    DESC = "desc"


AsOf = Annotated[
    date | None, Query(description="The business date of the figures (default: today, UTC).")
]
Currency = Annotated[
    str | None,
    Query(pattern=r"^[A-Z]{3}$", description="Only documents in this currency (default: base)."),
]
Buckets = Annotated[
    str | None,
    Query(
        max_length=60,
        pattern=r"^[0-9, ]*$",
        description="Days ending each overdue bucket, e.g. 30,60,90,180 (the default).",
    ),
]


def _currency(value: str | None) -> str:
    return value or aging.default_currency()


@router.get("/aging", response_model=AgingOut, summary="The aging report")
def aging_report(
    session: SessionDep,
    actor: ViewAr,
    paging: Paging,
    as_of: AsOf = None,
    currency: Currency = None,
    by: AgingBy = AgingBy.CUSTOMER,
    buckets: Buckets = None,
    sort: Annotated[
        str, Query(max_length=20, description="total, overdue, key or a bucket key.")
    ] = "total",
    order: SortOrder = SortOrder.DESC,
) -> AgingOut:
    """Open installments by days past due on ``as_of``, in buckets, one row per group (only
    groups with an open amount), with the totals of every group."""
    report = aging.aging_report(
        session,
        actor=actor,
        as_of=as_of or today(),
        currency=_currency(currency),
        by=by.value,
        buckets=aging.buckets_from(buckets),
        sort=sort,
        descending=order is SortOrder.DESC,
        limit=paging.limit,
        offset=paging.offset,
    )
    return AgingOut.of(report, page=paging.page, page_size=paging.page_size)


@router.get(
    "/aging/installments",
    response_model=AgedInstallmentPage,
    summary="The installments of one aging cell",
)
def aging_installments(
    session: SessionDep,
    actor: ViewAr,
    paging: Paging,
    group: Annotated[
        str, Query(max_length=200, description="The row's key (empty: no owner / region).")
    ],
    as_of: AsOf = None,
    currency: Currency = None,
    by: AgingBy = AgingBy.CUSTOMER,
    bucket: Annotated[
        str | None, Query(max_length=20, description="A bucket key; none: the whole row.")
    ] = None,
    buckets: Buckets = None,
) -> AgedInstallmentPage:
    """The open installments behind one cell (or row) of the aging report, most days past due
    first."""
    result = aging.aging_installments(
        session,
        actor=actor,
        as_of=as_of or today(),
        currency=_currency(currency),
        by=by.value,
        group=group,
        bucket=bucket or None,
        buckets=aging.buckets_from(buckets),
        limit=paging.limit,
        offset=paging.offset,
    )
    return AgedInstallmentPage.of(result, page=paging.page, page_size=paging.page_size)


@router.get("/kpis", response_model=KpisOut, summary="DSO, CEI, at-risk and their trend")
def receivables_kpis(
    session: SessionDep,
    actor: ViewAr,
    as_of: AsOf = None,
    currency: Currency = None,
    period: Annotated[
        int, Query(ge=1, le=366, description="Days of the DSO and CEI period.")
    ] = kpis.DEFAULT_PERIOD_DAYS,
    months: Annotated[int, Query(ge=1, le=36, description="Points of the trend.")] = 12,
) -> KpisOut:
    """The KPIs on ``as_of`` and at the end of each month before it; ``definitions`` says how
    each is computed."""
    report = kpis.receivables_kpis(
        session,
        actor=actor,
        as_of=as_of or today(),
        currency=_currency(currency),
        period_days=period,
        months=months,
    )
    return KpisOut.of(report)
