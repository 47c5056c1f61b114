"""The stakeholder map: setting a contact's values (audited, defaults on first use), the
reports-to line (same account, no circle, each refusal changing nothing), the last contact from
the touchpoints, the coverage warnings on one account and on many at once, the 360 summary,
and a rival rep or a viewer kept out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.errors import Forbidden, NotFound, ValidationFailed
from flywheel.keyaccounts import stakeholders
from flywheel.models.audit import AuditEvent
from flywheel.models.enums import BuyingRole, Role, Tier
from flywheel.models.keyaccounts import Stakeholder
from tests.factories import make_customer, make_user
from tests.keyaccounts.map_support import AS_OF, MapWorld, audit_total, build, contact, meet


@pytest.fixture
def world(session: Session) -> MapWorld:
    return build(session)


def _rep(world: MapWorld) -> Actor:
    return Actor.for_user(world.rep)


def _set(session: Session, world: MapWorld, person_id: int, **changes: object) -> Stakeholder:
    return stakeholders.set_stakeholder(
        session, actor=_rep(world), code=world.account.code, contact_id=person_id, changes=changes
    )


def _holders(session: Session) -> list[tuple[int, int, str, int, int | None]]:
    session.flush()
    return [
        tuple(r)  # type: ignore[misc]
        for r in session.execute(
            select(
                Stakeholder.contact_id,
                Stakeholder.influence,
                Stakeholder.attitude,
                Stakeholder.trust,
                Stakeholder.reports_to_contact_id,
            ).order_by(Stakeholder.contact_id)
        )
    ]


def test_first_values_make_the_row_with_defaults_and_later_ones_are_audited(
    session: Session, world: MapWorld
) -> None:
    before = audit_total(session)

    made = _set(session, world, world.boss.id, attitude="champion")
    _set(session, world, world.boss.id, influence=5, notes="  喜欢数据  ")
    _set(session, world, world.boss.id, influence=5)  # nothing new: no event

    assert (made.influence, made.attitude, made.trust, made.notes) == (5, "champion", 3, "喜欢数据")
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id).offset(before)).all()
    assert [e.action for e in events] == ["stakeholder.created", "stakeholder.updated"]
    assert events[0].after is not None
    assert events[0].after["attitude"] == "champion"
    assert events[0].customer_id == world.account.id
    assert events[1].before == {"influence": 3, "notes": None}
    assert events[1].after == {"influence": 5, "notes": "喜欢数据"}


def test_the_buying_role_is_changed_on_the_contact(session: Session, world: MapWorld) -> None:
    _set(session, world, world.engineer.id, buying_role="user", influence=2)

    session.refresh(world.engineer)
    assert world.engineer.buying_role == "user"
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(2))
    assert set(actions) == {"stakeholder.created", "contact.updated"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"influence": 6}, "influence"),
        ({"trust": 0}, "trust"),
        ({"attitude": "hostile"}, "attitude"),
        ({"notes": "x" * 4001}, "notes"),
        ({"buying_role": "boss"}, "buying_role"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_values_are_refused_by_name_and_change_nothing(
    session: Session, world: MapWorld, changes: dict[str, object], field: str
) -> None:
    _set(session, world, world.boss.id, influence=4)
    before = (_holders(session), audit_total(session))

    with pytest.raises(ValidationFailed) as caught:
        _set(session, world, world.boss.id, **changes)

    assert caught.value.details["field"] == field
    assert (_holders(session), audit_total(session)) == before


def test_reports_to_builds_a_line_and_refuses_a_circle(session: Session, world: MapWorld) -> None:
    _set(session, world, world.finance.id, reports_to_contact_id=world.boss.id)
    _set(session, world, world.engineer.id, reports_to_contact_id=world.finance.id)
    other = make_customer(session, code="KA-OTHER", tier=Tier.KEY, owner=world.rep)
    stranger = contact(session, other, "外人", None)
    before = (_holders(session), audit_total(session))

    with pytest.raises(ValidationFailed, match="circle") as circle:
        _set(session, world, world.boss.id, reports_to_contact_id=world.engineer.id)
    with pytest.raises(ValidationFailed, match="himself"):
        _set(session, world, world.boss.id, reports_to_contact_id=world.boss.id)
    with pytest.raises(ValidationFailed, match="not a contact of KA-MAP"):
        _set(session, world, world.boss.id, reports_to_contact_id=stranger.id)

    assert circle.value.details["field"] == "reports_to_contact_id"
    assert audit_total(session) == before[1]
    assert _holders(session) == before[0]
    # Clearing the line is always allowed.
    _set(session, world, world.engineer.id, reports_to_contact_id=None)
    assert _holders(session)[-1][4] is None


def test_the_map_shows_every_contact_with_last_contact_and_the_warnings(
    session: Session, world: MapWorld
) -> None:
    _set(session, world, world.boss.id, influence=5, attitude="supporter")
    meet(session, world.account, world.finance, datetime(2026, 7, 2, tzinfo=UTC))  # after as_of

    shown = stakeholders.stakeholder_map(session, _rep(world), "KA-MAP", as_of=AS_OF)

    assert [(r.name, r.mapped, r.influence) for r in shown.rows] == [
        ("赵总", True, 5),
        ("孙工", False, 3),
        ("钱会计", False, 3),
    ]
    last = {r.name: r.last_contact_on for r in shown.rows}
    assert last == {
        "赵总": datetime(2026, 2, 1).date(),
        "钱会计": AS_OF.replace(day=10),
        "孙工": None,
    }
    assert shown.met_recently == 1
    assert [(w.code, w.contact_ids) for w in shown.warnings] == [
        ("decision_maker_not_met", (world.boss.id,)),
        ("single_threaded", (world.finance.id,)),
    ]


def test_meeting_the_boss_and_a_strong_opponent_change_the_warnings(
    session: Session, world: MapWorld
) -> None:
    meet(session, world.account, world.boss, datetime(2026, 4, 2, 8, tzinfo=UTC))  # day 90
    _set(session, world, world.engineer.id, attitude="opponent", influence=4)

    shown = stakeholders.stakeholder_map(session, _rep(world), "KA-MAP", as_of=AS_OF)

    assert [(w.code, w.contact_ids) for w in shown.warnings] == [
        ("high_influence_opponent", (world.engineer.id,)),
    ]
    # One day later the boss's visit falls out of the window.
    later = stakeholders.stakeholder_map(
        session, _rep(world), "KA-MAP", as_of=AS_OF.replace(day=30).replace(month=7)
    )
    assert [w.code for w in later.warnings] == [
        "decision_maker_not_met",
        "single_threaded",
        "high_influence_opponent",
    ]


def test_coverage_of_many_accounts_agrees_with_each_map(session: Session, world: MapWorld) -> None:
    bare = make_customer(session, code="KA-BARE", tier=Tier.KEY, owner=world.rep)
    contact(session, bare, "李工", BuyingRole.USER)
    empty = make_customer(session, code="KA-EMPTY", tier=Tier.KEY, owner=world.rep)
    _set(session, world, world.engineer.id, attitude="opponent", influence=5)

    figures = stakeholders.coverage_by_customer(
        session, [world.account.id, bare.id, empty.id], as_of=AS_OF
    )

    assert figures[world.account.id] == {
        "contacts": 3,
        "mapped": 1,
        "met_recently": 1,
        "decision_makers": 1,
        "decision_maker_met": False,
        "high_influence_opponents": 1,
        "warnings": ["decision_maker_not_met", "single_threaded", "high_influence_opponent"],
    }
    assert figures[bare.id]["warnings"] == ["no_decision_maker", "single_threaded"]
    assert figures[empty.id]["contacts"] == 0
    for customer in (world.account, bare):
        one = stakeholders.stakeholder_map(session, _rep(world), customer.code, as_of=AS_OF)
        assert [w.code for w in one.warnings] == figures[customer.id]["warnings"]


def test_summary_for_360(session: Session, world: MapWorld) -> None:
    _set(session, world, world.boss.id, attitude="champion")
    _set(session, world, world.finance.id, attitude="sceptic")
    empty = make_customer(session, code="KA-NONE", tier=Tier.KEY)

    summary = stakeholders.summary_for_360(session, world.account.id, as_of=AS_OF)

    assert summary is not None
    assert (summary["contacts"], summary["mapped"], summary["met_recently"]) == (3, 2, 1)
    assert (summary["champions"], summary["sceptics"], summary["opponents"]) == (1, 1, 0)
    assert summary["warnings"] == ["decision_maker_not_met", "single_threaded"]
    assert stakeholders.summary_for_360(session, empty.id, as_of=AS_OF) is None


def test_a_rival_rep_and_a_viewer_are_kept_out_and_nothing_changes(
    session: Session, world: MapWorld
) -> None:
    viewer = Actor.for_user(make_user(session, username="map.viewer", role=Role.VIEWER))
    rival = Actor.for_user(world.rival)
    other = make_customer(session, code="KA-ELSE", tier=Tier.KEY, owner=world.rep)
    stranger = contact(session, other, "外人", None)
    before = (_holders(session), audit_total(session))

    with pytest.raises(NotFound):
        stakeholders.stakeholder_map(session, rival, "KA-MAP", as_of=AS_OF)
    with pytest.raises(NotFound):
        stakeholders.set_stakeholder(
            session, actor=rival, code="KA-MAP", contact_id=world.boss.id, changes={"trust": 5}
        )
    with pytest.raises(Forbidden):
        stakeholders.set_stakeholder(
            session, actor=viewer, code="KA-MAP", contact_id=world.boss.id, changes={"trust": 5}
        )
    with pytest.raises(NotFound):
        _set(session, world, stranger.id, trust=5)  # a contact of another account

    assert (_holders(session), audit_total(session)) == before
    assert stakeholders.stakeholder_map(session, viewer, "KA-MAP", as_of=AS_OF).rows


def test_no_stakeholder_rows_are_written_when_none_is_set(
    session: Session, world: MapWorld
) -> None:
    stakeholders.stakeholder_map(session, _rep(world), "KA-MAP", as_of=AS_OF)
    assert session.scalar(select(func.count(Stakeholder.id))) == 0
