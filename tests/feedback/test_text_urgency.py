"""Urgency flags in zh and en, with negation and the repeated-complaint rule."""

from __future__ import annotations

import pytest

from flywheel.feedback.text.urgency import FLAGS, flags


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("再这样我们就换供应商了", ["churn_threat"]),
        ("We will switch supplier next month.", ["churn_threat"]),
        ("我们会请律师起诉你们", ["legal"]),
        ("Our lawyer is preparing legal action.", ["legal"]),
        ("设备漏电，有安全隐患，工人受伤了", ["safety"]),
        ("The charger caught fire, that is a safety hazard.", ["safety"]),
        ("我要投诉到你们总经理那里", ["escalation"]),
        ("I will escalate this to your CEO.", ["escalation"]),
        ("又发错货了", ["repeated"]),
        ("Still not fixed, third time I write.", ["repeated"]),
        ("取消合同，并且找律师", ["churn_threat", "legal"]),
        ("送货很快，谢谢", []),
        ("又快又好", []),
        ("Thanks for the quick delivery.", []),
    ],
)
def test_flags_in_both_languages(text: str, expected: list[str]) -> None:
    assert flags(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "我们不会起诉，只希望尽快解决",
        "没有安全隐患，放心",
        "We will not sue, just fix it.",
        "No need to escalate.",
    ],
)
def test_a_negated_phrase_does_not_count(text: str) -> None:
    assert flags(text) == []


def test_two_earlier_negative_comments_make_a_complaint_repeated() -> None:
    assert flags("质量不好", prior_negative_count=1) == []
    assert flags("质量不好", prior_negative_count=2) == ["repeated"]


def test_flags_are_stable_codes() -> None:
    assert FLAGS == ("churn_threat", "legal", "safety", "escalation", "repeated")
    assert flags("") == []
