"""The receivables analytics pages: AR dashboard (aging table and chart, KPI cards with their
trend), and the drill-down from an aging cell to its installments. The same services and
parameters as /api/v1/ar; a parameter that cannot be read is named on the page and ignored."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from flywheel.analytics.ar_kpis import AgingBuckets
from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.errors import ValidationFailed
from flywheel.kit.i18n import N_
from flywheel.kit.i18n import gettext as _
from flywheel.models.enums import Tier
from flywheel.receivables import aging, kpis
from flywheel.receivables.ledger_columns import currencies_in_use
from flywheel.receivables.page_kit import day_or_none
from flywheel.web.auth import require
from flywheel.web.contract import today
from flywheel.web.deps import SessionDep
from flywheel.web.exports import EXPORT_LIMIT, ExportFormat, download, paged
from flywheel.web.pages import render

router = APIRouter(include_in_schema=False)

ViewAr = Annotated[Actor, Depends(require(Permission.VIEW_AR_ANALYTICS))]

PAGE_SIZE = 50
MAX_PAGE = 100_000
CHART_GROUPS = 12

DIMENSION_LABELS: dict[str, str] = {
    "customer": N_("Customer"),
    "owner": N_("Owner"),
    "region": N_("Region"),
    "tier": N_("Tier"),
    "grade": N_("Credit grade"),
}
TIER_LABELS: dict[str, str] = {
    Tier.KEY: N_("Key"),
    Tier.GROWTH: N_("Growth"),
    Tier.STANDARD: N_("Standard"),
}
SORT_LABELS: dict[str, str] = {"total": N_("Total"), "overdue": N_("Overdue"), "key": N_("Name")}


@dataclass(frozen=True, slots=True)
class ArFilters:
    """The dashboard's parameters, read from the query string; ``problems`` says what was
    ignored and why."""

    as_of: date
    as_of_text: str  # what to carry in links ("" for today)
    currency: str
    by: str
    buckets: AgingBuckets
    buckets_text: str
    problems: list[str]

    def query(self, **extra: Any) -> dict[str, Any]:
        params = {
            "as_of": self.as_of_text,
            "currency": self.currency,
            "by": self.by,
            "buckets": self.buckets_text,
            **extra,
        }
        return {k: v for k, v in params.items() if v not in ("", None)}


def read_filters(as_of: str, currency: str, by: str, buckets: str) -> ArFilters:
    problems: list[str] = []
    try:
        day = day_or_none(as_of)
    except ValueError:
        problems.append(_("%(field)s is not a date; it was ignored.") % {"field": _("As of")})
        day = None
    if day is not None:
        try:
            aging.check_as_of(day)
        except ValidationFailed:
            problems.append(_("%(field)s is not a date; it was ignored.") % {"field": _("As of")})
            day = None
    if by not in aging.DIMENSIONS:
        if by:
            problems.append(_("Unknown grouping %(by)s; it was ignored.") % {"by": by})
        by = "customer"
    try:
        edges = aging.buckets_from(buckets)
    except ValidationFailed:
        problems.append(
            _(
                "Buckets are days separated by commas, rising, like 30,60,90,180; %(text)s was ignored."
            )
            % {"text": buckets}
        )
        edges, buckets = AgingBuckets(), ""
    code = currency.strip().upper()
    if code and (len(code) != 3 or not code.isalpha()):
        problems.append(_("A currency is three letters, like CNY or USD."))
        code = ""
    return ArFilters(
        as_of=day or today(),
        as_of_text=day.isoformat() if day and day != today() else "",
        currency=code or aging.default_currency(),
        by=by,
        buckets=edges,
        buckets_text=",".join(str(e) for e in edges.edges) if buckets.strip() else "",
        problems=problems,
    )


def bucket_labels(buckets: AgingBuckets) -> list[str]:
    """Column headings: "Current", "1–30 days" … "Over 180 days"."""
    labels = [_("Current")]
    low = 1
    for edge in buckets.edges:
        labels.append(_("%(low)s–%(high)s days") % {"low": low, "high": edge})
        low = edge + 1
    labels.append(_("Over %(days)s days") % {"days": low - 1})
    return labels


def group_label(by: str, key: str, label: str) -> str:
    if not key:
        return _("No owner") if by == "owner" else _("No region") if by == "region" else _("None")
    if by == "tier":
        return _(TIER_LABELS.get(key, key))
    return label


AsOfParam = Annotated[str, Query(max_length=20)]
CurrencyParam = Annotated[str, Query(max_length=3)]
ByParam = Annotated[str, Query(max_length=20)]
BucketsParam = Annotated[str, Query(max_length=60)]


def _sorting(filters: ArFilters, sort: str, order: str) -> tuple[str, str]:
    """The aging table's sort column and direction; anything else sorts by the total."""
    if sort not in (*aging.SORTS, *filters.buckets.keys):
        sort = "total"
    return sort, order if order in ("asc", "desc") else "desc"


@router.get("/ar", response_class=HTMLResponse)
def dashboard(
    request: Request,
    session: SessionDep,
    actor: ViewAr,
    as_of: AsOfParam = "",
    currency: CurrencyParam = "",
    by: ByParam = "",
    buckets: BucketsParam = "",
    sort: Annotated[str, Query(max_length=20)] = "total",
    order: Annotated[str, Query(max_length=4)] = "desc",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    """The AR dashboard: the aging of the accounts the actor may see (a sales rep: his own),
    with the KPI cards loaded next to it (/ar/kpis)."""
    filters = read_filters(as_of, currency, by, buckets)
    keys = filters.buckets.keys
    sort, order = _sorting(filters, sort, order)
    report = aging.aging_report(
        session,
        actor=actor,
        as_of=filters.as_of,
        currency=filters.currency,
        by=filters.by,
        buckets=filters.buckets,
        sort=sort,
        descending=order == "desc",
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    labels = bucket_labels(filters.buckets)
    rows = [(row, group_label(filters.by, row.key, row.label)) for row in report.rows]
    chart = {
        "groups": [name for _row, name in rows[:CHART_GROUPS]],
        "buckets": labels,
        "series": [
            [float(row.buckets[i]) for row, _name in rows[:CHART_GROUPS]] for i in range(len(keys))
        ],
        "totals": [float(v) for v in report.totals.buckets],
        "labels": {"total": _("All groups")},
    }
    currencies = currencies_in_use(session)
    if filters.currency not in currencies:
        currencies.append(filters.currency)
    return render(
        request,
        "receivables/ar_dashboard.html",
        {
            "filters": filters,
            "report": report,
            "rows": rows,
            "bucket_keys": keys,
            "bucket_labels": labels,
            "chart": chart,
            "dimensions": DIMENSION_LABELS,
            "sort": sort,
            "order": order,
            "sort_labels": SORT_LABELS,
            "page": page,
            "pages": max(1, math.ceil(report.groups / PAGE_SIZE)),
            "currencies": currencies,
            "base_query": filters.query(),
            "drill_query": filters.query,
            "problems": filters.problems,
        },
        actor=actor,
    )


@router.get("/ar/export.{format}")
def aging_export(
    session: SessionDep,
    actor: ViewAr,
    format: ExportFormat,
    as_of: AsOfParam = "",
    currency: CurrencyParam = "",
    by: ByParam = "",
    buckets: BucketsParam = "",
    sort: Annotated[str, Query(max_length=20)] = "total",
    order: Annotated[str, Query(max_length=4)] = "desc",
) -> Response:
    """The aging table, every group in the table's order, one column per bucket."""
    filters = read_filters(as_of, currency, by, buckets)
    sort, order = _sorting(filters, sort, order)
    report = aging.aging_report(
        session,
        actor=actor,
        as_of=filters.as_of,
        currency=filters.currency,
        by=filters.by,
        buckets=filters.buckets,
        sort=sort,
        descending=order == "desc",
        limit=EXPORT_LIMIT,
    )
    headers = [
        DIMENSION_LABELS[filters.by],
        N_("Name"),
        N_("Currency"),
        *bucket_labels(filters.buckets),
        N_("Total"),
        N_("Overdue"),
        N_("Open installments"),
        N_("Customers"),
    ]
    return download(
        headers,
        (
            [
                row.key or None,
                group_label(filters.by, row.key, row.label),
                report.currency,
                *row.buckets,
                row.total,
                row.overdue,
                row.items,
                row.customers,
            ]
            for row in report.rows
        ),
        stem="aging",
        format=format,
        title=N_("Aging"),
        day=filters.as_of,
    )


@router.get("/ar/kpis", response_class=HTMLResponse)
def kpi_cards(
    request: Request,
    session: SessionDep,
    actor: ViewAr,
    as_of: AsOfParam = "",
    currency: CurrencyParam = "",
    period: Annotated[int, Query(ge=1, le=366)] = kpis.DEFAULT_PERIOD_DAYS,
) -> Response:
    """The KPI cards with their 12-month trend (a fragment for the dashboard; a page of its
    own when opened directly)."""
    filters = read_filters(as_of, currency, "", "")
    report = kpis.receivables_kpis(
        session, actor=actor, as_of=filters.as_of, currency=filters.currency, period_days=period
    )
    trend = report.trend

    def series(values: list[float | None]) -> list[float | None]:
        return [None if v is None else round(v, 2) for v in values]

    chart = {
        "months": [p.as_of.isoformat()[:7] for p in trend],
        "dso": series([p.dso for p in trend]),
        "dso_countback": series([p.dso_countback for p in trend]),
        "best_possible_dso": series([p.best_possible_dso for p in trend]),
        "add": series([p.add for p in trend]),
        "cei": series([p.cei for p in trend]),
        "at_risk_rate": series(
            [None if p.at_risk_rate is None else p.at_risk_rate * 100 for p in trend]
        ),
        "days_beyond_terms": series([p.days_beyond_terms for p in trend]),
        "receivables": [float(p.receivables) for p in trend],
        "overdue": [float(p.overdue) for p in trend],
        "labels": {
            "dso": _("DSO"),
            "dso_countback": _("DSO (countback)"),
            "best_possible_dso": _("Best possible DSO"),
            "add": _("ADD"),
            "cei": _("CEI %"),
            "at_risk_rate": _("At-risk rate %"),
            "days_beyond_terms": _("Days beyond terms"),
            "receivables": _("Receivables"),
            "overdue": _("Overdue"),
        },
    }
    return render(
        request,
        "receivables/ar_kpis.html",
        {"filters": filters, "report": report, "now": report.current, "chart": chart},
        actor=actor,
    )


@router.get("/ar/aging/installments", response_class=HTMLResponse)
def drill_down(
    request: Request,
    session: SessionDep,
    actor: ViewAr,
    group: Annotated[str, Query(max_length=200)] = "",
    bucket: Annotated[str, Query(max_length=20)] = "",
    as_of: AsOfParam = "",
    currency: CurrencyParam = "",
    by: ByParam = "",
    buckets: BucketsParam = "",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    """The open installments behind one aging cell (or a whole row)."""
    filters = read_filters(as_of, currency, by, buckets)
    keys = filters.buckets.keys
    problems = list(filters.problems)
    if bucket and bucket not in keys:
        problems.append(_("Unknown bucket %(bucket)s; it was ignored.") % {"bucket": bucket})
        bucket = ""
    result = aging.aging_installments(
        session,
        actor=actor,
        as_of=filters.as_of,
        currency=filters.currency,
        by=filters.by,
        group=group,
        bucket=bucket or None,
        buckets=filters.buckets,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    labels = dict(zip(keys, bucket_labels(filters.buckets), strict=True))
    return render(
        request,
        "receivables/ar_installments.html",
        {
            "filters": filters,
            "result": result,
            "group_name": group_label(filters.by, group, group),
            "dimension": DIMENSION_LABELS[filters.by],
            "bucket_label": labels.get(bucket) if bucket else None,
            "bucket_labels": labels,
            "page": page,
            "pages": max(1, math.ceil(result.total / PAGE_SIZE)),
            "first": (page - 1) * PAGE_SIZE + 1 if result.items else 0,
            "last": (page - 1) * PAGE_SIZE + len(result.items),
            "back_query": filters.query(),
            "problems": problems,
        },
        actor=actor,
    )


@router.get("/ar/aging/installments/export.{format}")
def drill_down_export(
    session: SessionDep,
    actor: ViewAr,
    format: ExportFormat,
    group: Annotated[str, Query(max_length=200)] = "",
    bucket: Annotated[str, Query(max_length=20)] = "",
    as_of: AsOfParam = "",
    currency: CurrencyParam = "",
    by: ByParam = "",
    buckets: BucketsParam = "",
) -> Response:
    """The open installments behind the cell, every page, most days past due first."""
    filters = read_filters(as_of, currency, by, buckets)
    labels = dict(zip(filters.buckets.keys, bucket_labels(filters.buckets), strict=True))
    chosen = bucket if bucket in labels else None

    def fetch(size: int, offset: int) -> list[aging.AgedInstallment]:
        return aging.aging_installments(
            session,
            actor=actor,
            as_of=filters.as_of,
            currency=filters.currency,
            by=filters.by,
            group=group,
            bucket=chosen,
            buckets=filters.buckets,
            limit=size,
            offset=offset,
        ).items

    return download(
        (
            N_("Invoice"),
            N_("Installment"),
            N_("Customer code"),
            N_("Customer"),
            N_("Issued"),
            N_("Due"),
            N_("Currency"),
            N_("Amount"),
            N_("Open"),
            N_("Days past due"),
            N_("Bucket"),
        ),
        (
            [
                item.invoice_number,
                item.sequence,
                item.customer_code,
                item.customer_name,
                item.issue_date,
                item.due_date,
                filters.currency,
                item.amount,
                item.open_amount,
                item.days_past_due,
                labels.get(item.bucket, item.bucket),
            ]
            for item in paged(fetch)
        ),
        stem="aging-installments",
        format=format,
        title=N_("Aged installments"),
        day=filters.as_of,
    )
