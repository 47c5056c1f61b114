"""What a management report says in one language: the names of its figures, and the display
model (every number already written out) that the e-mail, the report page and the PDF lay out,
so the three always say the same thing."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from babel.dates import format_skeleton

from flywheel.feedback.labels import LOOP_REASON_LABELS
from flywheel.insights.labels import KPI_LABELS, STAGE_LABELS
from flywheel.insights.report import MONTHLY, WEEK_COUNTS, WEEKLY
from flywheel.kit import i18n
from flywheel.kit.i18n import N_
from flywheel.loyalty.action_service import ACTION_LABELS
from flywheel.loyalty.health_labels import BAND_LABELS
from flywheel.loyalty.segments import SEGMENT_LABELS
from flywheel.models.insights import InsightReport

_ = i18n.gettext

KIND_LABELS: dict[str, str] = {
    WEEKLY: N_("Weekly management report"),
    MONTHLY: N_("Monthly management report"),
}

WEEK_LABELS: dict[str, str] = {
    "new_customers": N_("New customers"),
    "deals_won": N_("Deals won"),
    "nps_responses": N_("NPS answers"),
    "nps_detractors": N_("Detractors"),
    "payments": N_("Payments received"),
    "promises_broken": N_("Broken promises"),
}
STAGES = ("attract", "engage", "delight", "loyalty", "cash", "force", "friction")
DASH = "–"


# ---------------------------------------------------------------- numbers in words


def month_text(month: date) -> str:
    """``November 2026`` / ``2026年11月``."""
    return str(format_skeleton("yMMMM", month, locale=i18n.locale()))


def period_text(kind: str, start: date, end: date) -> str:
    if kind == MONTHLY:
        return month_text(start)
    return f"{i18n.day(start)} – {i18n.day(end)}"


def value_text(unit: str, value: float | None, currency: str) -> str:
    """A figure as the dashboard writes it: 12, 45.3%, ¥1,200.00, 38.5 days …"""
    if value is None:
        return DASH
    if unit == "count":
        return i18n.number(round(value), decimals=0)
    if unit == "percent":
        return i18n.number(value, decimals=1) + "%"
    if unit == "score":
        return i18n.number(value, decimals=1)
    if unit == "money":
        return i18n.money(Decimal(str(round(value, 2))), currency)
    if unit == "days":
        return _("%(days)s days", days=i18n.number(value, decimals=1))
    if unit == "hours":
        return _("%(hours)s h", hours=i18n.number(value, decimals=1))
    return i18n.number(value)


def change_text(unit: str, change: float | None, currency: str) -> str:
    """A change with its sign: +3, −2.5 pts, +¥300.00."""
    if change is None:
        return DASH
    sign = "+" if change > 0 else "−" if change < 0 else ""
    size = abs(change)
    if unit == "percent":
        return sign + _("%(points)s pts", points=i18n.number(size, decimals=1))
    return sign + value_text(unit, size, currency)


def relative_text(relative: float) -> str:
    sign = "+" if relative > 0 else "−"
    return sign + i18n.percent(abs(relative), decimals=0)


def _tone(good: bool | None) -> str:
    return "" if good is None else "good" if good else "bad"


def _money(amount: str | None, currency: str) -> str:
    return DASH if amount is None else i18n.money(Decimal(amount), currency)


def _late(hours: float) -> str:
    if hours >= 48:
        return _("%(days)s days", days=i18n.number(hours / 24, decimals=1))
    return _("%(hours)s h", hours=i18n.number(hours, decimals=1))


# ---------------------------------------------------------------- the display model


def title(report: InsightReport, language: str) -> str:
    """``Weekly management report, 30 Nov 2026 – 6 Dec 2026`` in ``language``."""
    with i18n.use_language(language):
        return (
            _(KIND_LABELS[report.kind])
            + (": " if language == "en" else "：")
            + period_text(report.kind, report.period_start, report.period_end)
        )


def display(
    report: InsightReport, language: str, *, company: str, base_url: str = ""
) -> dict[str, Any]:
    """Everything the report shows, written out in ``language``. Links start with
    ``base_url`` (the public address in an e-mail, nothing on the page)."""
    content = report.content
    with i18n.use_language(language) as lang:
        currency = content["currency"]
        part = content["figures"]
        return {
            "lang": lang,
            "html_lang": "zh-CN" if lang == "zh" else "en",
            "company": company,
            "kind": report.kind,
            "heading": _(KIND_LABELS[report.kind]),
            "title": title(report, lang),
            "period": period_text(report.kind, report.period_start, report.period_end),
            "as_of": i18n.day(report.as_of),
            "link": f"{base_url}/insights/reports/{report.id}",
            "figures": _figures(part),
            "week": _week(content["week"]) if content.get("week") else None,
            "movements": _movements(content["movements"], currency, base_url),
            "actions": _actions(content["actions"], lang, base_url),
            "notes": [
                _(
                    "The dashboard's figures of %(months)s were not computed yet.",
                    months=", ".join(part["missing_months"]),
                )
            ]
            if part["missing_months"]
            else [],
        }


def _figures(part: Mapping[str, Any]) -> dict[str, Any]:
    currency = part["currency"]
    month = date.fromisoformat(part["month"])
    previous = month_text(date.fromisoformat(part["previous_month"]))
    if part["month_to_date"] and part["built_through"]:
        heading = _(
            "%(month)s to date (through %(day)s) against %(previous)s",
            month=month_text(month),
            day=i18n.day(date.fromisoformat(part["built_through"])),
            previous=previous,
        )
    else:
        heading = _("%(month)s against %(previous)s", month=month_text(month), previous=previous)
    stages: list[dict[str, Any]] = []
    for stage in STAGES:
        rows = [
            {
                "code": k["code"],
                "label": _(KPI_LABELS.get(k["code"], k["code"])),
                "value": value_text(k["unit"], k["value"], currency),
                "previous": value_text(k["unit"], k["previous"], currency),
                "change": change_text(k["unit"], k["change"], currency),
                "tone": _tone(k["improved"]),
                "target": value_text(k["unit"], k["target"], currency)
                if k["target"] is not None
                else "",
                "target_tone": _tone(k["on_target"]),
            }
            for k in part["kpis"]
            if k["stage"] == stage
        ]
        if rows:
            stages.append({"code": stage, "label": _(STAGE_LABELS[stage]), "rows": rows})
    return {
        "heading": heading,
        "month_to_date": part["month_to_date"],
        "stages": stages,
        "force": value_text("count", part["force"], currency),
        "friction": value_text("count", part["friction"], currency),
        "force_previous": value_text("count", part["force_previous"], currency),
        "friction_previous": value_text("count", part["friction_previous"], currency),
    }


def _collected(amounts: Mapping[str, str]) -> str:
    return "; ".join(i18n.money(Decimal(a), c) for c, a in sorted(amounts.items())) or DASH


def _week(week: Mapping[str, Any]) -> dict[str, Any]:
    now, before = week["counts"], week["previous"]
    rows = []
    for code, better in WEEK_COUNTS:
        change = now[code] - before[code]
        good = None if change == 0 else (change > 0) == (better == "up")
        rows.append(
            {
                "code": code,
                "label": _(WEEK_LABELS[code]),
                "value": i18n.number(now[code]),
                "previous": i18n.number(before[code]),
                "change": change_text("count", float(change), ""),
                "tone": _tone(good),
            }
        )
    rows.append(
        {
            "code": "collected",
            "label": _("Cash collected"),
            "value": _collected(now["collected"]),
            "previous": _collected(before["collected"]),
            "change": "",
            "tone": "",
        }
    )
    return {
        "heading": _(
            "The week's events, %(start)s – %(end)s",
            start=i18n.day(date.fromisoformat(week["start"])),
            end=i18n.day(date.fromisoformat(week["end"])),
        ),
        "rows": rows,
    }


def _move(move: Mapping[str, Any], currency: str) -> dict[str, str]:
    labels = WEEK_LABELS if move["source"] == "week" else KPI_LABELS
    week = move["source"] == "week"
    basis = _("against the week before") if week else _("against the month before")
    return {
        "code": move["code"],
        "label": _(labels.get(move["code"], move["code"])),
        "value": value_text(move["unit"], move["value"], currency),
        "previous": value_text(move["unit"], move["previous"], currency),
        "relative": relative_text(move["relative"]),
        "basis": basis,
    }


def _drops(part: Mapping[str, Any], labels: Mapping[str, str], base_url: str) -> dict[str, Any]:
    return {
        "count": part["count"],
        "rows": [
            {
                "code": a["code"],
                "name": a["name"],
                "link": f"{base_url}/customers/{a['code']}",
                "from": _(labels.get(a["from"], a["from"])),
                "to": _(labels.get(a["to"], a["to"])),
                "owner": a["owner"] or DASH,
                "revenue": _money(a["revenue_12m"], a["currency"]),
            }
            for a in part["accounts"]
        ],
    }


def _movements(part: Mapping[str, Any], currency: str, base_url: str) -> dict[str, Any]:
    return {
        "improved": [_move(m, currency) for m in part["improved"]],
        "declined": [_move(m, currency) for m in part["declined"]],
        "health": _drops(part["health"], BAND_LABELS, base_url),
        "segment": _drops(part["segment"], SEGMENT_LABELS, base_url),
    }


def _actions(part: Mapping[str, Any], lang: str, base_url: str) -> dict[str, Any]:
    return {
        "next_actions": [
            {
                "code": a["code"],
                "name": a["name"],
                "link": f"{base_url}/customers/{a['code']}",
                "title": a["title_zh"] if lang == "zh" else a["title_en"],
                "kind": _(ACTION_LABELS.get(a["action"], a["action"])),
                "owner": a["owner"] or DASH,
                "due": i18n.day(date.fromisoformat(a["due_on"])),
            }
            for a in part["next_actions"]
        ],
        "overdue_accounts": [
            {
                "code": a["code"],
                "name": a["name"],
                "link": f"{base_url}/customers/{a['code']}",
                "overdue": _money(a["overdue"], a["currency"]),
                "total": _money(a["total"], a["currency"]),
            }
            for a in part["overdue_accounts"]
        ],
        "late_loops": [
            {
                "code": loop["code"],
                "name": loop["name"],
                "link": f"{base_url}/feedback/loops/{loop['id']}",
                "reason": _(LOOP_REASON_LABELS.get(loop["reason"], loop["reason"])),
                "owner": loop["owner"] or DASH,
                "due": i18n.moment(datetime.fromisoformat(loop["due_at"]), style="short"),
                "late": _late(loop["hours_late"]),
            }
            for loop in part["late_loops"]
        ],
    }
