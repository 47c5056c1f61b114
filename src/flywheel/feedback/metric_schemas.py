"""What the feedback metrics and inbox answers look like under /api/v1 and in ``flywheel
feedback nps --json``: the figures with their intervals, breakdowns, the trend, an account's
NPS with the answers it is made of, and a page of the inbox."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from flywheel.feedback import metrics, scores
from flywheel.feedback.inbox import InboxItem
from flywheel.kit.shapes import Moment, OutputModel


class MetricDimension(StrEnum):
    ACCOUNT = "account"
    OWNER = "owner"
    REGION = "region"
    TIER = "tier"
    TOUCHPOINT = "touchpoint"
    CAMPAIGN = "campaign"
    MONTH = "month"


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


class NpsOut(OutputModel):
    """NPS −100 … 100 (None without answers) and its 95 % adjusted Wald interval."""

    n: int
    promoters: int
    passives: int
    detractors: int
    score: float | None
    low: float | None
    high: float | None
    small_sample: bool

    @classmethod
    def of(cls, f: scores.NpsFigure) -> NpsOut:
        return cls(
            n=f.n,
            promoters=f.promoters,
            passives=f.passives,
            detractors=f.detractors,
            score=_r(f.score),
            low=_r(f.low),
            high=_r(f.high),
            small_sample=f.small_sample,
        )


class CsatOut(OutputModel):
    """Percentage of answers 4–5 (None without answers) and its 95 % Wilson interval."""

    n: int
    satisfied: int
    percent: float | None
    low: float | None
    high: float | None
    small_sample: bool

    @classmethod
    def of(cls, f: scores.CsatFigure) -> CsatOut:
        return cls(
            n=f.n,
            satisfied=f.satisfied,
            percent=_r(f.percent),
            low=_r(f.low),
            high=_r(f.high),
            small_sample=f.small_sample,
        )


class CesOut(OutputModel):
    """Mean answer 1–7 (None without answers) and its 95 % Student t interval."""

    n: int
    mean: float | None
    sd: float | None
    low: float | None
    high: float | None
    small_sample: bool

    @classmethod
    def of(cls, f: scores.CesFigure) -> CesOut:
        return cls(
            n=f.n,
            mean=_r(f.mean, 3),
            sd=_r(f.sd, 3),
            low=_r(f.low, 3),
            high=_r(f.high, 3),
            small_sample=f.small_sample,
        )


class GroupOut(OutputModel):
    key: str
    label: str
    nps: NpsOut
    csat: CsatOut
    ces: CesOut

    @classmethod
    def of(cls, key: str, label: str, f: scores.Figures) -> GroupOut:
        return cls(
            key=key,
            label=label,
            nps=NpsOut.of(f.nps),
            csat=CsatOut.of(f.csat),
            ces=CesOut.of(f.ces),
        )


FORMULAS: dict[str, str] = {
    "nps": scores.NPS_FORMULA,
    "nps_interval": scores.NPS_INTERVAL_FORMULA,
    "csat": scores.CSAT_FORMULA,
    "ces": scores.CES_FORMULA,
    "account_nps": scores.ACCOUNT_NPS_FORMULA,
}


class MetricsOut(OutputModel):
    start: date
    end: date
    owner: str | None
    region: str | None
    tier: str | None
    by: MetricDimension | None
    nps: NpsOut
    csat: CsatOut
    ces: CesOut
    groups: list[GroupOut]
    formulas: dict[str, str]

    @classmethod
    def of(
        cls,
        flt: metrics.MetricFilter,
        figures: scores.Figures,
        by: MetricDimension | None,
        groups: list[metrics.Group],
    ) -> MetricsOut:
        return cls(
            start=flt.start,
            end=flt.end,
            owner=flt.owner,
            region=flt.region,
            tier=flt.tier,
            by=by,
            nps=NpsOut.of(figures.nps),
            csat=CsatOut.of(figures.csat),
            ces=CesOut.of(figures.ces),
            groups=[GroupOut.of(g.key, g.label, g.figures) for g in groups],
            formulas=FORMULAS,
        )


class TrendOut(OutputModel):
    start: date
    end: date
    months: list[GroupOut]  # key and label: "2026-03"


class StakeholderAnswerOut(OutputModel):
    response_id: int
    contact_id: int | None
    contact: str | None
    buying_role: str
    weight: float
    score: int
    band: str
    answered_at: Moment
    comment: str | None


class AccountNpsOut(OutputModel):
    """Account-level NPS: each stakeholder's latest NPS answer in the period, weighted by buying
    role (``weights``); ``formula`` says how."""

    customer: str
    name: str
    start: date
    end: date
    score: float | None
    stakeholders: int
    weight: float
    small_sample: bool
    formula: str
    weights: dict[str, float]
    answers: list[StakeholderAnswerOut]


class LoopRefOut(OutputModel):
    id: int
    status: str
    due_at: Moment


class InboxItemOut(OutputModel):
    """One row of the inbox: an answer (with ``score``, ``band``) or an analysed text;
    ``topic_spans`` are ``[start, end)`` character offsets into ``text``."""

    source: str
    id: int
    occurred_at: Moment
    customer: str
    customer_name: str
    owner: str | None
    contact: str | None
    kind: str | None
    score: int | None
    scale_max: int | None
    band: str | None
    touchpoint_kind: str | None
    text: str | None
    sentiment: str | None
    sentiment_score: float | None
    topics: list[str]
    topic_spans: dict[str, list[list[int]]]
    urgency: list[str]
    loop: LoopRefOut | None

    @classmethod
    def of(cls, item: InboxItem) -> InboxItemOut:
        spans: dict[str, list[list[int]]] = {}
        for code, ranges in (item.topic_spans or {}).items():
            spans[str(code)] = [
                [int(r[0]), int(r[1])]
                for r in (ranges if isinstance(ranges, list) else [])
                if isinstance(r, list | tuple) and len(r) == 2
            ]
        loop: Any = (
            LoopRefOut(id=item.loop.id, status=item.loop.status, due_at=item.loop.due_at)
            if item.loop
            else None
        )
        return cls(
            source=item.source,
            id=item.item_id,
            occurred_at=item.occurred_at,
            customer=item.customer_code,
            customer_name=item.customer_name,
            owner=item.owner,
            contact=item.contact,
            kind=item.kind,
            score=item.score,
            scale_max=item.scale_max,
            band=item.band,
            touchpoint_kind=item.touchpoint_kind,
            text=item.text,
            sentiment=item.sentiment,
            sentiment_score=item.sentiment_score,
            topics=list(item.topics),
            topic_spans=spans,
            urgency=list(item.urgency),
            loop=loop,
        )


class InboxPageOut(OutputModel):
    items: list[InboxItemOut]
    total: int
    page: int
    page_size: int
