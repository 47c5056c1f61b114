"""What the dashboard page shows of a ``figures.Dashboard``: each figure written in the reader's
language with its unit, its change and target, a sparkline of its months, and the wheel's
layout. Presentation only: no session, no HTTP; the views call it in the request's language."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache

from babel.numbers import (
    format_compact_currency,
    format_currency,
    get_decimal_symbol,
    get_group_symbol,
)

from flywheel.insights import labels
from flywheel.insights.figures import STAGES, Dashboard, Figure
from flywheel.kit import i18n
from flywheel.kit.i18n import gettext as _

NONE = "—"  # a figure without data (no month built, or nothing to divide by)
STAGE_COLOURS: dict[str, str] = {
    "attract": "#1f6feb",
    "engage": "#8250df",
    "delight": "#bf3989",
    "loyalty": "#1a7f37",
    "cash": "#9a6700",
    "force": "#1a7f37",
    "friction": "#cf222e",
}
# Decimals each unit is written with.
_DECIMALS: dict[str, int] = {
    "count": 0,
    "percent": 1,
    "score": 0,
    "money": 0,
    "days": 1,
    "hours": 1,
}


@dataclass(frozen=True)
class _Symbols:
    group: str
    decimal: str
    percent_suffix: bool  # the language writes a share as "12.5%"


@cache
def _symbols(language: str) -> _Symbols:
    """How ``language`` writes numbers, read from Babel once: a page writes some 450 numbers
    (the sparklines' titles), and Babel looks the symbols up again for each."""
    where = i18n.locale()
    return _Symbols(
        group=get_group_symbol(where),
        decimal=get_decimal_symbol(where),
        percent_suffix=where.percent_formats[None].pattern == "#,##0%",
    )


def _plain(value: float, digits: int) -> str:
    """``value`` with ``digits`` decimals and grouped thousands, as Babel writes it."""
    symbols = _symbols(i18n.current_language())
    text = f"{value:,.{digits}f}"
    if symbols.group != "," or symbols.decimal != ".":
        text = text.translate({ord(","): symbols.group, ord("."): symbols.decimal})
    return text


def _number(value: float, unit: str) -> str:
    digits = _DECIMALS.get(unit, 1)
    if unit == "count" and not float(value).is_integer():
        digits = 1  # an average count, never rounded to look whole
    rounded = round(value, digits) + 0.0  # no "-0"
    return _plain(rounded, digits)


def _percent(value: float) -> str:
    """``value`` (12.5 is 12.5 %) with one decimal."""
    if _symbols(i18n.current_language()).percent_suffix:
        return _plain(round(value, 1) + 0.0, 1) + "%"
    return i18n.percent(round(value, 1) / 100, decimals=1)


def _money(value: float, currency: str, *, compact: bool) -> str:
    where = i18n.locale()
    if compact and abs(value) >= 10_000:
        return str(format_compact_currency(value, currency, locale=where, fraction_digits=1))
    return str(
        format_currency(
            Decimal(str(round(value))), currency, format="¤#,##0", currency_digits=False,
            locale=where,
        )
    )  # fmt: skip


def value_text(value: float | None, unit: str, currency: str, *, compact: bool = False) -> str:
    """A figure's value with its unit; ``NONE`` for no value."""
    if value is None or math.isnan(value):
        return NONE
    if unit == "money":
        return _money(value, currency, compact=compact)
    if unit == "percent":
        return _percent(value)
    if unit == "days":
        return _("%(n)s days", n=_number(value, unit))
    if unit == "hours":
        return _("%(n)s h", n=_number(value, unit))
    return _number(value, unit)


def change_text(change: float | None, unit: str, currency: str) -> str:
    """A change with its sign (``+3``, ``−1.2 pts``); ``NONE`` when there is nothing to compare."""
    if change is None or math.isnan(change):
        return NONE
    digits = _DECIMALS.get(unit, 1)
    if round(change, digits) == 0:
        return "±0"
    sign = "+" if change > 0 else "−"
    size = abs(change)
    if unit == "percent":
        return sign + _("%(n)s pts", n=_plain(round(size, 1), 1))
    return sign + value_text(size, unit, currency, compact=True)


@dataclass(frozen=True)
class Spark:
    """A sparkline: polylines (a month without data breaks the line), the last point, and a
    title listing every month."""

    width: int
    height: int
    lines: list[str]
    last: tuple[float, float] | None
    title: str


def spark(series: Sequence[tuple[date, float | None]], unit: str, currency: str) -> Spark:
    width, height, pad = 100, 26, 3
    values = [v for _month, v in series if v is not None]
    title = "\n".join(
        f"{month.isoformat()[:7]}: {value_text(v, unit, currency, compact=True)}"
        for month, v in series
    )
    if not values:
        return Spark(width, height, [], None, title)
    low, high = min(values), max(values)
    span = high - low
    step = (width - 2 * pad) / max(len(series) - 1, 1)

    def y_of(v: float) -> float:
        if span == 0:
            return height / 2
        return round(height - pad - (v - low) / span * (height - 2 * pad), 1)

    lines: list[str] = []
    run: list[str] = []
    last: tuple[float, float] | None = None
    for i, (_month, v) in enumerate(series):
        if v is None:
            if run:
                lines.append(" ".join(run))
            run = []
            continue
        last = (round(pad + i * step, 1), y_of(v))
        run.append(f"{last[0]},{last[1]}")
    if run:
        lines.append(" ".join(run))
    return Spark(width, height, lines, last, title)


@dataclass(frozen=True)
class Shown:
    """A figure as the page writes it."""

    code: str
    stage: str
    name: str
    definition: str
    unit: str
    value: str
    value_compact: str  # money in thousands, millions (万, 亿)
    previous: str
    previous_compact: str
    change: str
    direction: str  # up, down, flat or none
    tone: str  # ok (better), bad (worse), flat
    target: str
    on_target: bool | None
    drill_url: str
    spark: Spark
    raw: float | None


def show(figure: Figure, currency: str, drill_url: Callable[[str], str]) -> Shown:
    kpi = figure.kpi
    change = figure.change
    if change is None:
        direction = "none"
    elif round(change, _DECIMALS.get(kpi.unit, 1)) == 0:
        direction = "flat"
    else:
        direction = "up" if change > 0 else "down"
    improved = figure.improved
    tone = "flat" if improved is None or direction == "flat" else ("ok" if improved else "bad")
    return Shown(
        code=kpi.code,
        stage=kpi.stage,
        name=_(labels.kpi_label(kpi.code)),
        definition=_(labels.KPI_DEFINITIONS[kpi.code])
        if kpi.code in labels.KPI_DEFINITIONS
        else "",
        unit=kpi.unit,
        value=value_text(figure.value, kpi.unit, currency),
        value_compact=value_text(figure.value, kpi.unit, currency, compact=True),
        previous=value_text(figure.previous, kpi.unit, currency),
        previous_compact=value_text(figure.previous, kpi.unit, currency, compact=True),
        change=change_text(change, kpi.unit, currency),
        direction=direction,
        tone=tone,
        target=value_text(figure.target, kpi.unit, currency) if figure.target is not None else "",
        on_target=figure.on_target,
        drill_url=drill_url(kpi.drill),
        spark=spark(figure.series, kpi.unit, currency),
        raw=figure.value,
    )


@dataclass(frozen=True)
class WheelNode:
    stage: str
    label: str
    definition: str
    colour: str
    x: float  # the box's left edge
    y: float  # the box's top edge
    figures: list[Shown]


@dataclass(frozen=True)
class Arrow:
    x: float
    y: float
    angle: float  # degrees: the way round the wheel (clockwise) at this point


@dataclass(frozen=True)
class Wheel:
    width: int
    height: int
    cx: float
    cy: float
    radius: float
    hub: float  # the hub's radius (force against friction)
    box_width: int
    box_height: int
    nodes: list[WheelNode]
    arrows: list[Arrow]


def wheel(shown: dict[str, Shown]) -> Wheel:
    """The five stages round a ring, attract at the top and on clockwise, each with its key
    figures; an arrow between each stage and the next (cash feeds attract again)."""
    width, height, radius = 720, 516, 215.0
    cx, cy = width / 2, 272.0
    box_w, box_h = 204, 116
    nodes: list[WheelNode] = []
    arrows: list[Arrow] = []
    for k, stage in enumerate(STAGES):
        angle = math.radians(-90 + 72 * k)
        x = cx + radius * math.cos(angle)
        y = cy + radius * math.sin(angle)
        nodes.append(
            WheelNode(
                stage=stage,
                label=_(labels.STAGE_LABELS[stage]),
                definition=_(labels.STAGE_DEFINITIONS[stage]),
                colour=STAGE_COLOURS[stage],
                x=round(x - box_w / 2, 1),
                y=round(y - box_h / 2, 1),
                figures=[shown[c] for c in labels.KEY_FIGURES[stage] if c in shown],
            )
        )
        between = -90 + 72 * k + 36
        rad = math.radians(between)
        arrows.append(
            Arrow(
                x=round(cx + radius * math.cos(rad), 1),
                y=round(cy + radius * math.sin(rad), 1),
                angle=float(between + 90),
            )
        )
    return Wheel(width, height, cx, cy, radius, 86.0, box_w, box_h, nodes, arrows)


@dataclass(frozen=True)
class Balance:
    """Force against friction: the sums of their figures (counts of different things, added
    as the wheel's push and drag) and force's share of the two."""

    force: float
    friction: float

    @property
    def force_share(self) -> float | None:
        total = self.force + self.friction
        return None if total == 0 else self.force / total

    @property
    def force_percent(self) -> float:
        share = self.force_share
        return 50.0 if share is None else round(share * 100, 1)


def balance(board: Dashboard) -> Balance:
    return Balance(force=board.force, friction=board.friction)
