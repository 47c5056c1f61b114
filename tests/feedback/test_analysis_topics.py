"""The topic taxonomy editor: what a topic must have, that every change is audited, and that a
refused change writes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.errors import Forbidden, NotFound, ValidationFailed
from flywheel.feedback import analysis
from flywheel.models.audit import AuditEvent
from flywheel.models.enums import Role
from flywheel.models.feedback import FeedbackTopic

ADMIN = Actor.system("tests")
SPARE_PARTS = {
    "code": "spare_parts",
    "name_zh": "备件",
    "name_en": "Spare parts",
    "keywords_zh": "备件、配件\n零件，备件",
    "keywords_en": ["spare part", " Spare  Part ", "parts"],
}


def _audits(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_a_topic_is_saved_with_its_keywords_cleaned_and_audited(session: Session) -> None:
    topic = analysis.save_topic(session, ADMIN, SPARE_PARTS)

    assert topic.code == "spare_parts"
    assert topic.keywords_zh == ["备件", "配件", "零件"]
    assert topic.keywords_en == ["spare part", "parts"]
    assert topic.active is True
    assert _audits(session)[-1] == "feedback_topic.created"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"code": "Spare Parts"}, "code"),
        ({"code": "x"}, "code"),
        ({"code": "1parts"}, "code"),
        ({"name_zh": "  "}, "name_zh"),
        ({"name_en": ""}, "name_en"),
        ({"name_en": "x" * 81}, "name_en"),
        ({"keywords_zh": "", "keywords_en": []}, "keywords_zh"),
        ({"keywords_en": ["y" * 41]}, "keywords_en"),
        ({"keywords_zh": [f"词{i}" for i in range(201)]}, "keywords_zh"),
    ],
)
def test_a_topic_that_breaks_a_rule_is_refused_naming_the_field(
    session: Session, change: dict[str, object], field: str
) -> None:
    before = session.scalar(select(func.count()).select_from(FeedbackTopic))
    audits = len(_audits(session))

    with pytest.raises(ValidationFailed) as refused:
        analysis.save_topic(session, ADMIN, {**SPARE_PARTS, **change})

    assert refused.value.details["field"] == field
    assert refused.value.message.startswith(field)
    assert session.scalar(select(func.count()).select_from(FeedbackTopic)) == before
    assert len(_audits(session)) == audits


def test_a_code_is_unique_and_cannot_change(session: Session) -> None:
    analysis.save_topic(session, ADMIN, SPARE_PARTS)

    with pytest.raises(ValidationFailed, match="exists"):
        analysis.save_topic(session, ADMIN, SPARE_PARTS)
    with pytest.raises(ValidationFailed, match="cannot change"):
        analysis.save_topic(session, ADMIN, {**SPARE_PARTS, "code": "parts"}, code="spare_parts")
    with pytest.raises(NotFound):
        analysis.save_topic(session, ADMIN, SPARE_PARTS, code="nothing_here")


def test_editing_records_only_what_changed_and_deactivating_keeps_the_topic(
    session: Session,
) -> None:
    analysis.save_topic(session, ADMIN, SPARE_PARTS)

    analysis.save_topic(
        session, ADMIN, {"keywords_en": ["spare part", "parts", "spares"]}, code="spare_parts"
    )
    analysis.deactivate_topic(session, ADMIN, "spare_parts")

    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "feedback_topic.changed")
    ).one()
    assert event.before == {"keywords_en": ["spare part", "parts"]}
    assert event.after == {"keywords_en": ["spare part", "parts", "spares"]}
    topic = analysis.get_topic(session, "spare_parts")
    assert topic.active is False
    assert topic.name_zh == "备件"
    assert "spare_parts" not in [t.code for t in analysis.list_topics(session, active_only=True)]
    assert _audits(session)[-1] == "feedback_topic.deactivated"


def test_only_those_who_manage_surveys_change_the_taxonomy(session: Session) -> None:
    rep = Actor(name="rep", role=Role.SALES, user_id=None)

    with pytest.raises(Forbidden):
        analysis.save_topic(session, rep, SPARE_PARTS)

    assert session.scalar(select(FeedbackTopic).where(FeedbackTopic.code == "spare_parts")) is None


def test_keywords_are_read_from_lists_or_text() -> None:
    assert analysis.parse_keywords("交货，发货、物流;到货\n 延迟 ") == [
        "交货",
        "发货",
        "物流",
        "到货",
        "延迟",
    ]
    assert analysis.parse_keywords(["Late", "late", "  on   time "]) == ["Late", "on time"]
    assert analysis.parse_keywords(None) == []
