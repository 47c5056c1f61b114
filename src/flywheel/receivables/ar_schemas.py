"""Output shapes of the receivables analytics: the aging report, its drill-down and the KPIs,
shared by /api/v1/ar and ``flywheel ar … --json``."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from flywheel.kit.shapes import MoneyText, OutputModel
from flywheel.receivables.aging import AgedInstallment, AgingReport, AgingRow, InstallmentPage
from flywheel.receivables.kpis import KpiPoint, KpiReport

# How each figure is computed, in words; the page says the same in the reader's language.
DEFINITIONS: dict[str, str] = {
    "aging": "Open amount of each installment on as_of by days past its due date "
    "(as_of − due date); due on or after as_of is current. Payments, credit notes and "
    "write-offs dated after as_of do not count; invoices issued after as_of do not exist yet.",
    "dso": "Simple DSO = AR on as_of ÷ invoiced in the period × days in the period.",
    "dso_countback": "Countback DSO: AR taken back month by month against each month's "
    "invoiced amount (the as_of month first); whole months count their days, the last one "
    "its share.",
    "best_possible_dso": "Best possible DSO = current (not yet due) AR ÷ invoiced in the "
    "period × days in the period.",
    "add": "ADD (average days delinquent) = DSO − best possible DSO.",
    "cei": "CEI = (beginning AR + invoiced in the period − ending total AR) ÷ (beginning AR "
    "+ invoiced in the period − ending current AR) × 100.",
    "at_risk_rate": "At-risk rate of an invoice month = the share of its invoiced amount "
    "still unpaid 90 days after the due date; shown for the latest month whose every "
    "installment is 90 days past due on as_of.",
    "days_beyond_terms": "Average days beyond terms = payments received in the period, "
    "days after the due date (early = 0), weighted by amount.",
    "promise_keeping_rate": "Promise-keeping rate = promises to pay kept ÷ (kept + broken), "
    "of the promises resolved in the period; a promise is kept when payments since it was made "
    "reach its amount by the promised day plus the grace days.",
}


class AgingRowOut(OutputModel):
    key: str = Field(description="The group: a customer code, owner username, region or tier.")
    label: str
    buckets: dict[str, MoneyText] = Field(description="Open amount per bucket key.")
    total: MoneyText
    overdue: MoneyText
    installments: int
    customers: int

    @classmethod
    def of(cls, row: AgingRow, keys: list[str]) -> AgingRowOut:
        return cls(
            key=row.key,
            label=row.label,
            buckets=dict(zip(keys, row.buckets, strict=True)),
            total=row.total,
            overdue=row.overdue,
            installments=row.items,
            customers=row.customers,
        )


class AgingOut(OutputModel):
    as_of: date
    currency: str
    by: str
    buckets: list[str] = Field(description="Bucket keys in order: current, 1-30, …, 181+.")
    sort: str
    items: list[AgingRowOut]
    total: int = Field(description="Groups with an open amount, on all pages.")
    page: int
    page_size: int
    totals: AgingRowOut

    @classmethod
    def of(cls, report: AgingReport, *, page: int, page_size: int) -> AgingOut:
        keys = report.bucket_keys
        return cls(
            as_of=report.as_of,
            currency=report.currency,
            by=report.by,
            buckets=keys,
            sort=report.sort,
            items=[AgingRowOut.of(r, keys) for r in report.rows],
            total=report.groups,
            page=page,
            page_size=page_size,
            totals=AgingRowOut.of(report.totals, keys),
        )


class AgedInstallmentOut(OutputModel):
    invoice: str
    installment: int
    customer: str
    customer_name: str
    issue_date: date
    due_date: date
    amount: MoneyText
    open_amount: MoneyText = Field(description="Open on as_of.")
    days_past_due: int
    bucket: str

    @classmethod
    def of(cls, item: AgedInstallment) -> AgedInstallmentOut:
        return cls(
            invoice=item.invoice_number,
            installment=item.sequence,
            customer=item.customer_code,
            customer_name=item.customer_name,
            issue_date=item.issue_date,
            due_date=item.due_date,
            amount=item.amount,
            open_amount=item.open_amount,
            days_past_due=item.days_past_due,
            bucket=item.bucket,
        )


class AgedInstallmentPage(OutputModel):
    as_of: date
    currency: str
    by: str
    group: str
    bucket: str | None
    open_amount: MoneyText = Field(description="Open on as_of, all pages.")
    items: list[AgedInstallmentOut]
    total: int
    page: int
    page_size: int

    @classmethod
    def of(cls, result: InstallmentPage, *, page: int, page_size: int) -> AgedInstallmentPage:
        return cls(
            as_of=result.as_of,
            currency=result.currency,
            by=result.by,
            group=result.group,
            bucket=result.bucket,
            open_amount=result.open_amount,
            items=[AgedInstallmentOut.of(i) for i in result.items],
            total=result.total,
            page=page,
            page_size=page_size,
        )


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


class KpiPointOut(OutputModel):
    as_of: date
    receivables: MoneyText
    current: MoneyText
    overdue: MoneyText
    sales: MoneyText = Field(description="Invoiced in the period ending on as_of.")
    dso: float | None = Field(description="Days; null without sales in the period.")
    dso_countback: float | None
    best_possible_dso: float | None
    add: float | None
    cei: float | None = Field(description="Percent.")
    at_risk_rate: float | None = Field(description="Share, 0 to 1.")
    at_risk_month: str | None = Field(description='The invoice month judged, e.g. "2026-05".')
    days_beyond_terms: float | None
    promise_keeping_rate: float | None = Field(
        description="Promises to pay resolved in the period: kept ÷ (kept + broken), 0 to 1."
    )
    promises_resolved: int

    @classmethod
    def of(cls, point: KpiPoint) -> KpiPointOut:
        return cls(
            as_of=point.as_of,
            receivables=point.receivables,
            current=point.current,
            overdue=point.overdue,
            sales=point.sales,
            dso=_round(point.dso, 2),
            dso_countback=_round(point.dso_countback, 2),
            best_possible_dso=_round(point.best_possible_dso, 2),
            add=_round(point.add, 2),
            cei=_round(point.cei, 2),
            at_risk_rate=_round(point.at_risk_rate, 4),
            at_risk_month=point.at_risk_month,
            days_beyond_terms=_round(point.days_beyond_terms, 2),
            promise_keeping_rate=_round(point.promise_keeping_rate, 4),
            promises_resolved=point.promises_resolved,
        )


class KpisOut(OutputModel):
    as_of: date
    currency: str
    period_days: int
    current: KpiPointOut
    trend: list[KpiPointOut] = Field(description="Month ends before as_of, then as_of.")
    definitions: dict[str, str]

    @classmethod
    def of(cls, report: KpiReport) -> KpisOut:
        return cls(
            as_of=report.as_of,
            currency=report.currency,
            period_days=report.period_days,
            current=KpiPointOut.of(report.current),
            trend=[KpiPointOut.of(p) for p in report.trend],
            definitions=DEFINITIONS,
        )
