"""Next-best-action rules as data: the facts of an account a rule may test (``FIELDS``, each
with its type, unit and zh/en label), the check of a rule's conditions with errors that name
the condition, its field and what is wrong, the reason chips and condition lines people read,
and the shipped default rules.

A rule's ``conditions`` is a list; every entry must hold (AND). An entry is
``{"field": f, "op": o, "value": v}``, or ``{"any": [entry, …]}`` when one of a few suffices
(OR). Numbers take every operator; choices ``eq``, ``ne``, ``in``, ``not_in`` (ordered ones,
like the credit grade, also ``lt`` … ``ge`` by their place); flags ``eq`` and ``ne``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.errors import ValidationFailed
from flywheel.models.enums import (
    CustomerStatus,
    HealthBand,
    NextActionKind,
    ScoreBand,
    Segment,
    Tier,
    Trend,
)
from flywheel.models.loyalty import NextActionRule

MAX_CONDITIONS = 20
MAX_ALTERNATIVES = 10
MAX_VALUES = 50

# ----------------------------------------------------------------------------- the fields


class FieldKind(StrEnum):
    NUMBER = "number"
    CHOICE = "choice"
    FLAG = "flag"


OPERATORS = ("eq", "ne", "lt", "le", "gt", "ge", "in", "not_in")
ORDER_OPERATORS = frozenset({"lt", "le", "gt", "ge"})
SET_OPERATORS = frozenset({"in", "not_in"})


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    en: str
    zh: str


@dataclass(frozen=True, slots=True)
class FactField:
    """A fact of an account a rule may test. ``unit`` says how its value reads: "money" (the
    account's currency), "days", "ratio" (0.2 = 20 %), "percent" (0–100) or "" (a count or
    a score). Ordered choices compare by their position (``lt``: earlier in ``choices``)."""

    name: str
    kind: FieldKind
    en: str
    zh: str
    unit: str = ""
    choices: tuple[Choice, ...] = ()
    ordered: bool = False

    def label(self, language: str | None) -> str:
        return self.zh if (language or "zh").startswith("zh") else self.en

    @property
    def operators(self) -> tuple[str, ...]:
        if self.kind == FieldKind.FLAG:
            return ("eq", "ne")
        if self.kind == FieldKind.CHOICE and not self.ordered:
            return ("eq", "ne", "in", "not_in")
        return OPERATORS

    def choice_label(self, value: str, language: str | None) -> str:
        for choice in self.choices:
            if choice.value == value:
                return choice.zh if (language or "zh").startswith("zh") else choice.en
        return value

    def describe(self) -> dict[str, Any]:
        """What the rules editor and the API show about the field."""
        return {
            "name": self.name,
            "type": self.kind.value,
            "unit": self.unit,
            "label_en": self.en,
            "label_zh": self.zh,
            "operators": list(self.operators),
            "choices": [c.value for c in self.choices],
            "ordered": self.ordered,
        }


def _choices(*items: tuple[str, str, str]) -> tuple[Choice, ...]:
    return tuple(Choice(str(v), en, zh) for v, en, zh in items)


_N, _C, _F = FieldKind.NUMBER, FieldKind.CHOICE, FieldKind.FLAG

FIELDS: dict[str, FactField] = {
    f.name: f
    for f in (
        FactField(
            "segment",
            _C,
            "RFM segment",
            "RFM 分群",
            choices=_choices(
                (Segment.CHAMPIONS, "champions", "冠军客户"),
                (Segment.LOYAL, "loyal", "忠诚客户"),
                (Segment.PROMISING, "promising", "潜力客户"),
                (Segment.NEEDS_ATTENTION, "needs attention", "需要关注"),
                (Segment.AT_RISK, "at risk", "有流失风险"),
                (Segment.HIBERNATING, "hibernating", "休眠客户"),
                (Segment.LOST, "lost", "已流失"),
                (Segment.NO_PURCHASE, "no purchase yet", "尚未购买"),
            ),
        ),
        FactField("health", _N, "health score", "健康度"),
        FactField(
            "health_band",
            _C,
            "health band",
            "健康度区间",
            choices=_choices(
                (HealthBand.RED, "red", "红"),
                (HealthBand.YELLOW, "yellow", "黄"),
                (HealthBand.GREEN, "green", "绿"),
            ),
            ordered=True,
        ),
        FactField(
            "health_trend",
            _C,
            "health trend",
            "健康度趋势",
            choices=_choices(
                (Trend.UP, "rising", "上升"),
                (Trend.FLAT, "flat", "持平"),
                (Trend.DOWN, "falling", "下降"),
            ),
        ),
        FactField("p_alive", _N, "probability alive", "存活概率", unit="ratio"),
        FactField("churn_risk", _N, "churn risk", "流失风险", unit="ratio"),
        FactField("clv", _N, "CLV", "客户终身价值", unit="money"),
        FactField("clv_percentile", _N, "CLV percentile", "CLV 百分位", unit="percent"),
        FactField("expected_purchases_90", _N, "expected purchases (90 days)", "预计90天购买次数"),
        FactField("revenue_12m", _N, "revenue, last 12 months", "近12个月收入", unit="money"),
        FactField("revenue_percentile", _N, "revenue percentile", "收入百分位", unit="percent"),
        FactField(
            "spend_growth", _N, "spend growth (12 m vs previous 12 m)", "消费增长率", unit="ratio"
        ),
        FactField("recency_days", _N, "days since last order", "距上次下单天数", unit="days"),
        FactField("orders", _N, "orders", "订单数"),
        FactField("recency_score", _N, "R score (1–5)", "R 分 (1–5)"),
        FactField("frequency_score", _N, "F score (1–5)", "F 分 (1–5)"),
        FactField("monetary_score", _N, "M score (1–5)", "M 分 (1–5)"),
        FactField(
            "tier",
            _C,
            "tier",
            "客户等级",
            choices=_choices(
                (Tier.KEY, "key account", "大客户"),
                (Tier.GROWTH, "growth", "成长客户"),
                (Tier.STANDARD, "standard", "标准客户"),
            ),
        ),
        FactField("contract", _F, "buys on contract", "合同客户"),
        FactField(
            "account_status",
            _C,
            "account status",
            "客户状态",
            choices=_choices(
                (CustomerStatus.PROSPECT, "prospect", "潜在客户"),
                (CustomerStatus.ACTIVE, "active", "活跃"),
                (CustomerStatus.INACTIVE, "inactive", "不活跃"),
                (CustomerStatus.CHURNED, "churned", "已流失"),
            ),
        ),
        FactField(
            "nps_band",
            _C,
            "latest NPS answer",
            "最近NPS评价",
            choices=_choices(
                (ScoreBand.DETRACTOR, "detractor", "贬损者"),
                (ScoreBand.PASSIVE, "passive", "被动者"),
                (ScoreBand.PROMOTER, "promoter", "推荐者"),
            ),
            ordered=True,
        ),
        FactField("nps_score", _N, "latest NPS score (0–10)", "最近NPS得分 (0–10)"),
        FactField(
            "nps_age_days", _N, "days since the latest NPS answer", "距最近NPS评价天数", unit="days"
        ),
        FactField("open_detractor_loop", _F, "open detractor follow-up", "未关闭的贬损跟进"),
        FactField(
            "credit_grade",
            _C,
            "credit grade (A best)",
            "信用等级 (A 最好)",
            choices=_choices(
                ("A", "A", "A"), ("B", "B", "B"), ("C", "C", "C"), ("D", "D", "D"), ("E", "E", "E")
            ),
            ordered=True,
        ),
        FactField("overdue_amount", _N, "overdue amount", "逾期金额", unit="money"),
        FactField("max_days_overdue", _N, "most days overdue", "最长逾期天数", unit="days"),
    )
}


# ----------------------------------------------------------------------------- validation


def _fail(where: str, name: str | None, problem: str, message: str, index: int) -> ValidationFailed:
    subject = f"{where} ({name})" if name else where
    return ValidationFailed(
        f"{subject}: {message}",
        field="conditions",
        index=index,
        condition_field=name,
        problem=problem,
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _one_value(spec: FactField, value: Any) -> Any:
    """``value`` as the field keeps it, or None when it is not one."""
    if spec.kind == FieldKind.NUMBER:
        number = _number(value)
        if number is None:
            return None
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if spec.kind == FieldKind.FLAG:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        return None
    if isinstance(value, str) and value.strip() in {c.value for c in spec.choices}:
        return value.strip()
    return None


def _expects(spec: FactField) -> str:
    if spec.kind == FieldKind.NUMBER:
        return "a number"
    if spec.kind == FieldKind.FLAG:
        return "true or false"
    return "one of " + ", ".join(c.value for c in spec.choices)


def _check_one(item: Any, where: str, index: int) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise _fail(where, None, "shape", 'expected {"field": …, "op": …, "value": …}', index)
    extra = sorted(set(item) - {"field", "op", "value"})
    if extra:
        raise _fail(where, None, "shape", f"unknown key {extra[0]!r}", index)
    name = item.get("field")
    if not isinstance(name, str) or not name:
        raise _fail(where, None, "field", "the field is missing", index)
    spec = FIELDS.get(name)
    if spec is None:
        raise _fail(where, name, "field", f"unknown field {name!r}", index)
    op = item.get("op")
    if op not in OPERATORS:
        raise _fail(
            where, name, "op", f"unknown operator {op!r}; use one of {', '.join(OPERATORS)}", index
        )
    if op not in spec.operators:
        raise _fail(
            where,
            name,
            "op",
            f"operator {op!r} does not apply to a {spec.kind.value} field; use "
            + ", ".join(spec.operators),
            index,
        )
    if "value" not in item:
        raise _fail(where, name, "value", "the value is missing", index)
    raw = item["value"]
    if op in SET_OPERATORS:
        if not isinstance(raw, list) or not raw or len(raw) > MAX_VALUES:
            raise _fail(
                where, name, "value", f"{op} takes a list of 1 to {MAX_VALUES} values", index
            )
        values = [_one_value(spec, v) for v in raw]
        for given, kept in zip(raw, values, strict=True):
            if kept is None:
                raise _fail(where, name, "value", f"{given!r} is not {_expects(spec)}", index)
        return {"field": name, "op": op, "value": values}
    value = _one_value(spec, raw)
    if value is None:
        raise _fail(where, name, "value", f"{raw!r} is not {_expects(spec)}", index)
    return {"field": name, "op": op, "value": value}


def check_conditions(conditions: Any) -> list[dict[str, Any]]:
    """The conditions in their stored form (values as the fields keep them), or
    ValidationFailed naming the condition (``conditions[2]``, ``conditions[1].any[0]``), its
    field and what is wrong; ``details`` carry ``index``, ``condition_field`` and ``problem``."""
    if not isinstance(conditions, list):
        raise ValidationFailed(
            'conditions: expected a list of {"field", "op", "value"} conditions',
            field="conditions",
            problem="shape",
        )
    if not 1 <= len(conditions) <= MAX_CONDITIONS:
        raise ValidationFailed(
            f"conditions: a rule needs 1 to {MAX_CONDITIONS} conditions",
            field="conditions",
            problem="count",
        )
    checked: list[dict[str, Any]] = []
    for index, item in enumerate(conditions):
        where = f"conditions[{index}]"
        if isinstance(item, Mapping) and "any" in item:
            if set(item) != {"any"}:
                raise _fail(where, None, "shape", '"any" stands alone in its condition', index)
            alternatives = item["any"]
            if not isinstance(alternatives, list) or not 1 <= len(alternatives) <= MAX_ALTERNATIVES:
                raise _fail(
                    where,
                    None,
                    "shape",
                    f'"any" takes a list of 1 to {MAX_ALTERNATIVES} conditions',
                    index,
                )
            checked.append(
                {
                    "any": [
                        _check_one(alt, f"{where}.any[{j}]", index)
                        for j, alt in enumerate(alternatives)
                    ]
                }
            )
        else:
            checked.append(_check_one(item, where, index))
    return checked


def fields_of(conditions: Sequence[Mapping[str, Any]]) -> list[str]:
    """The fields the conditions test, in order, each once."""
    names: list[str] = []
    for item in conditions:
        for one in item.get("any", [item]):
            if one["field"] not in names:
                names.append(one["field"])
    return names


# ----------------------------------------------------------------------------- chips


def chip(name: str, value: Any, language: str | None, currency: str = "CNY") -> str:
    """One reason as the owner reads it: "CLV: ¥1,234,567.00", "最近NPS评价: 推荐者"."""
    from flywheel.kit import i18n

    spec = FIELDS.get(name)
    if spec is None:
        return f"{name}: {value}"
    zh = (language or "zh").startswith("zh")
    label = spec.label(language)
    if value is None:
        shown = "—"
    elif spec.kind == FieldKind.FLAG:
        shown = ("是" if value else "否") if zh else ("yes" if value else "no")
    elif spec.kind == FieldKind.CHOICE:
        shown = spec.choice_label(str(value), language)
    else:
        with i18n.use_language("zh" if zh else "en"):
            number = float(value)
            if spec.unit == "money":
                shown = i18n.money(Decimal(str(round(number, 2))), currency)
            elif spec.unit == "ratio":
                shown = i18n.percent(number, decimals=0)
            elif spec.unit == "percent":
                shown = i18n.number(number, decimals=0)
            elif spec.unit == "days":
                shown = f"{int(number)} 天" if zh else f"{int(number)} d"
            else:
                shown = i18n.number(number, decimals=None if number.is_integer() else 2)
    return f"{label}: {shown}"


def chips(
    reason: Sequence[Sequence[Any]], language: str | None, currency: str = "CNY"
) -> list[str]:
    return [chip(str(item[0]), item[1], language, currency) for item in reason if len(item) == 2]


def describe_condition(condition: Mapping[str, Any], language: str | None) -> str:
    """A condition as a line of the rules page: "RFM 分群 in 有流失风险, 休眠客户"."""
    if "any" in condition:
        joiner = " 或 " if (language or "zh").startswith("zh") else " or "
        return "(" + joiner.join(describe_condition(c, language) for c in condition["any"]) + ")"
    spec = FIELDS.get(str(condition.get("field")))
    if spec is None:
        return str(condition)
    symbols = {
        "eq": "=",
        "ne": "≠",
        "lt": "<",
        "le": "≤",
        "gt": ">",
        "ge": "≥",
        "in": "∈",
        "not_in": "∉",
    }
    value = condition.get("value")

    def shown(one: Any) -> str:
        if spec.kind == FieldKind.CHOICE:
            return spec.choice_label(str(one), language)
        if isinstance(one, bool):
            if (language or "zh").startswith("zh"):
                return "是" if one else "否"
            return "yes" if one else "no"
        return str(one)

    text = ", ".join(shown(v) for v in value) if isinstance(value, list) else shown(value)
    return f"{spec.label(language)} {symbols.get(str(condition.get('op')), '?')} {text}"


# ----------------------------------------------------------------------------- default rules


def _c(field_name: str, op: str, value: Any) -> dict[str, Any]:
    return {"field": field_name, "op": op, "value": value}


# Renewal: until contracts exist (key-account issue), "buys on contract" is the account's tier
# (settings.loyalty_contract_tiers) and there is no renewal date to count down to; a
# ``days_to_renewal`` fact joins FIELDS with the contracts.
DEFAULT_RULES: tuple[dict[str, Any], ...] = (
    {
        "code": "referral_ask_promoter",
        "name_en": "Ask a high-value promoter for a referral",
        "name_zh": "请高价值推荐者转介绍",
        "action": NextActionKind.REFERRAL_ASK.value,
        "conditions": [
            _c("nps_band", "eq", "promoter"),
            _c("nps_age_days", "le", 365),
            _c("clv_percentile", "ge", 80),
            _c("open_detractor_loop", "eq", False),
        ],
        "priority": 60,
        "cooldown_days": 180,
        "due_days": 14,
    },
    {
        "code": "rescue_detractor",
        "name_en": "Rescue a detractor",
        "name_zh": "挽回贬损客户",
        "action": NextActionKind.RESCUE_DETRACTOR.value,
        "conditions": [
            _c("nps_band", "eq", "detractor"),
            _c("nps_age_days", "le", 180),
            _c("segment", "not_in", ["lost", "no_purchase"]),
        ],
        "priority": 90,
        "cooldown_days": 60,
        "due_days": 3,
    },
    {
        "code": "re_engage_at_risk",
        "name_en": "Re-engage an at-risk high-value account",
        "name_zh": "重新激活高价值的流失风险客户",
        "action": NextActionKind.RE_ENGAGE.value,
        "conditions": [
            {"any": [_c("segment", "eq", "at_risk"), _c("churn_risk", "ge", 0.5)]},
            _c("segment", "ne", "lost"),
            _c("monetary_score", "ge", 4),
        ],
        "priority": 80,
        "cooldown_days": 90,
        "due_days": 7,
    },
    {
        "code": "upsell_growing",
        "name_en": "Propose an upsell to a growing account",
        "name_zh": "向增长中的客户推荐增购",
        "action": NextActionKind.UPSELL.value,
        "conditions": [
            _c("spend_growth", "ge", 0.2),
            _c("health_band", "eq", "green"),
            _c("churn_risk", "lt", 0.3),
        ],
        "priority": 50,
        "cooldown_days": 120,
        "due_days": 14,
    },
    {
        "code": "prepare_renewal",
        "name_en": "Prepare the renewal of a contract account whose health is falling",
        "name_zh": "为健康度下滑的合同客户准备续约",
        "action": NextActionKind.RENEWAL.value,
        "conditions": [_c("contract", "eq", True), _c("health_trend", "eq", "down")],
        "priority": 70,
        "cooldown_days": 90,
        "due_days": 14,
    },
    {
        "code": "gentle_reminder_friendly",
        "name_en": "Give a friendly overdue account a gentle reminder",
        "name_zh": "温和提醒友好的逾期客户",
        "action": NextActionKind.GENTLE_REMINDER.value,
        "conditions": [
            _c("overdue_amount", "gt", 0),
            _c("max_days_overdue", "le", 30),
            {"any": [_c("health_band", "eq", "green"), _c("nps_band", "eq", "promoter")]},
        ],
        "priority": 40,
        "cooldown_days": 30,
        "due_days": 3,
    },
)


def ensure_default_rules(session: Session) -> int:
    """Add the shipped rules whose code is not there yet (a rule a manager changed stays as
    he left it); returns how many were added."""
    have = set(session.scalars(select(NextActionRule.code)))
    added = 0
    for rule in DEFAULT_RULES:
        if rule["code"] in have:
            continue
        session.add(NextActionRule(**{**rule, "conditions": check_conditions(rule["conditions"])}))
        added += 1
    if added:
        session.flush()
    return added
