"""The needs register: adding, editing and closing needs (an addressed one names its offer),
refused input changing nothing, promoting a survey comment or a touchpoint note once (twice
returns the same need), the recent comments with their needs, the 360 summary, and a rival
rep or a viewer kept out."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.errors import Forbidden, NotFound, ValidationFailed
from flywheel.keyaccounts import needs
from flywheel.models.audit import AuditEvent
from flywheel.models.enums import Role, Tier
from flywheel.models.keyaccounts import Need
from tests.factories import make_customer, make_user
from tests.keyaccounts.map_support import AS_OF, MapWorld, answer, audit_total, build, contact


@pytest.fixture
def world(session: Session) -> MapWorld:
    return build(session)


def _rep(world: MapWorld) -> Actor:
    return Actor.for_user(world.rep)


def _count(session: Session) -> int:
    session.flush()
    return session.scalar(select(func.count(Need.id))) or 0


def _add(session: Session, world: MapWorld, **extra: object) -> Need:
    values: dict[str, object] = {"title": "缩短交货周期", "source": "interview", **extra}
    return needs.add_need(session, actor=_rep(world), code="KA-MAP", **values)  # type: ignore[arg-type]


def test_add_edit_and_close_a_need_audited(session: Session, world: MapWorld) -> None:
    before = audit_total(session)

    need = _add(session, world, kind="pain_point", priority=1, description="  四周太长  ")
    needs.edit_need(session, actor=_rep(world), need_id=need.id, changes={"priority": 2})
    needs.edit_need(
        session,
        actor=_rep(world),
        need_id=need.id,
        changes={"status": "addressed", "offer": "华东仓备货"},
    )

    assert (need.kind, need.priority, need.status, need.offer) == (
        "pain_point",
        2,
        "addressed",
        "华东仓备货",
    )
    assert need.description == "四周太长"
    assert need.created_by_id == world.rep.id
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id).offset(before)).all()
    assert [e.action for e in events] == ["need.added", "need.updated", "need.closed"]
    assert events[1].before == {"priority": 1}
    assert events[2].after == {"status": "addressed", "offer": "华东仓备货"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "  "}, "title"),
        ({"priority": 0}, "priority"),
        ({"kind": "wish"}, "kind"),
        ({"source": "rumour"}, "source"),
        ({"status": "done"}, "status"),
        ({"status": "addressed"}, "offer"),
        ({"source_ref": "response:1"}, "source_ref"),
    ],
)
def test_refused_changes_name_the_field_and_change_nothing(
    session: Session, world: MapWorld, changes: dict[str, object], field: str
) -> None:
    need = _add(session, world)
    before = audit_total(session)

    with pytest.raises(ValidationFailed) as caught:
        needs.edit_need(session, actor=_rep(world), need_id=need.id, changes=changes)

    assert caught.value.details["field"] == field
    session.refresh(need)
    assert (need.title, need.priority, need.status) == ("缩短交货周期", 3, "open")
    assert audit_total(session) == before


def test_an_addressed_need_cannot_be_added_without_its_offer(
    session: Session, world: MapWorld
) -> None:
    with pytest.raises(ValidationFailed, match="offer"):
        _add(session, world, status="addressed")
    assert _count(session) == 0


def test_a_survey_comment_is_promoted_once(session: Session, world: MapWorld) -> None:
    before = audit_total(session)

    first = needs.promote(session, actor=_rep(world), code="KA-MAP", response_id=world.comment.id)
    again = needs.promote(
        session, actor=_rep(world), code="KA-MAP", response_id=world.comment.id, priority=1
    )

    assert first.created
    assert not again.created
    assert again.need.id == first.need.id
    need = first.need
    assert (need.title, need.source, need.source_ref, need.priority) == (
        "交货总是延迟",
        "survey_comment",
        f"response:{world.comment.id}",
        3,
    )
    assert need.description == "交货总是延迟。上次晚了两周"
    assert _count(session) == 1
    assert audit_total(session) == before + 1
    comments = needs.recent_comments(session, world.account.id, as_of=AS_OF)
    assert [(c.response_id, c.need_id) for c in comments] == [(world.comment.id, need.id)]


def test_a_touchpoint_note_is_promoted_with_a_title_of_ours(
    session: Session, world: MapWorld
) -> None:
    promoted = needs.promote(
        session,
        actor=_rep(world),
        code="KA-MAP",
        touchpoint_id=world.note.id,
        title="自动对账",
        kind="pain_point",
    )

    assert promoted.created
    assert (promoted.need.title, promoted.need.source, promoted.need.kind) == (
        "自动对账",
        "interview",
        "pain_point",
    )
    assert promoted.need.source_ref == f"touchpoint:{world.note.id}"


def test_promotions_that_cannot_be_made_change_nothing(session: Session, world: MapWorld) -> None:
    other = make_customer(session, code="KA-ELSEWHERE", tier=Tier.KEY, owner=world.rep)
    elsewhere = answer(
        session,
        other,
        contact(session, other, "外人", None),
        "别处",
        datetime(2026, 6, 1, tzinfo=UTC),
    )
    before = (_count(session), audit_total(session))

    with pytest.raises(ValidationFailed, match="no comment"):
        needs.promote(session, actor=_rep(world), code="KA-MAP", response_id=world.silent.id)
    with pytest.raises(NotFound):
        needs.promote(session, actor=_rep(world), code="KA-MAP", response_id=elsewhere.id)
    with pytest.raises(ValidationFailed, match="either"):
        needs.promote(session, actor=_rep(world), code="KA-MAP")
    with pytest.raises(ValidationFailed, match="either"):
        needs.promote(
            session,
            actor=_rep(world),
            code="KA-MAP",
            response_id=world.comment.id,
            touchpoint_id=world.note.id,
        )

    assert (_count(session), audit_total(session)) == before


def test_the_list_puts_open_needs_first_by_priority(session: Session, world: MapWorld) -> None:
    low = _add(session, world, title="培训", priority=4)
    done = _add(session, world, title="账期", priority=1, status="declined")
    high = _add(session, world, title="质量", priority=1)

    _customer, rows = needs.list_needs(session, _rep(world), "KA-MAP")
    _customer, closed = needs.list_needs(session, _rep(world), "KA-MAP", status="declined")

    assert [n.id for n in rows] == [high.id, low.id, done.id]
    assert [n.id for n in closed] == [done.id]


def test_summary_for_360(session: Session, world: MapWorld) -> None:
    assert needs.summary_for_360(session, world.account.id, as_of=AS_OF) is None
    _add(session, world, title="培训", priority=4)
    _add(session, world, title="质量", priority=1, kind="pain_point")
    _add(session, world, title="账期", status="addressed", offer="60天")

    summary = needs.summary_for_360(session, world.account.id, as_of=AS_OF)

    assert summary is not None
    assert (summary["open"], summary["open_pain_points"], summary["addressed"]) == (2, 1, 1)
    assert [t["title"] for t in summary["top"]] == ["质量", "培训"]


def test_a_rival_rep_and_a_viewer_are_kept_out(session: Session, world: MapWorld) -> None:
    need = _add(session, world)
    rival = Actor.for_user(world.rival)
    viewer = Actor.for_user(make_user(session, username="needs.viewer", role=Role.VIEWER))
    before = (_count(session), audit_total(session))

    with pytest.raises(NotFound):
        needs.list_needs(session, rival, "KA-MAP")
    with pytest.raises(NotFound):
        needs.edit_need(session, actor=rival, need_id=need.id, changes={"priority": 1})
    with pytest.raises(NotFound):
        needs.promote(session, actor=rival, code="KA-MAP", response_id=world.comment.id)
    with pytest.raises(Forbidden):
        needs.add_need(session, actor=viewer, code="KA-MAP", title="x", source="interview")

    assert (_count(session), audit_total(session)) == before
    assert len(needs.list_needs(session, viewer, "KA-MAP")[1]) == 1


def test_the_360_reads_the_needs_only_of_an_account_that_has_some(
    session: Session, world: MapWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One statement tells the key-account panel which parts have rows; a part without any is
    not read at all, and one with a row is read and shown."""
    from flywheel.keyaccounts import plan_views

    read: list[int] = []
    summary = needs.summary_for_360

    def counting(session: Session, customer_id: int, *, as_of: date) -> dict[str, Any] | None:
        read.append(customer_id)
        return summary(session, customer_id, as_of=as_of)

    monkeypatch.setattr(needs, "summary_for_360", counting)
    sections = plan_views.other_sections(session, world.account, AS_OF)
    assert "needs" not in [s["key"] for s in sections]
    assert read == []

    _add(session, world, title="培训")
    sections = plan_views.other_sections(session, world.account, AS_OF)
    assert "needs" in [s["key"] for s in sections]
    assert read == [world.account.id]
