"""KPI targets: set, change and clear a figure's target with an audit event; a value outside
the figure's range, not a number or for no figure is refused with the figure and the reason
named and nothing written; only administrators and managers change targets."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.errors import Forbidden
from flywheel.insights import targets
from flywheel.insights.targets import InvalidTarget
from flywheel.models.audit import AuditEvent
from flywheel.models.enums import Role
from flywheel.models.insights import KpiTarget
from tests.factories import make_user
from tests.web.pages import audit_count, csrf_of, make_person, sign_in


def stored(session: Session) -> dict[str, float]:
    return {t.kpi: t.value for t in session.scalars(select(KpiTarget))}


def events(session: Session) -> list[tuple[str, int | None, dict | None, dict | None]]:
    rows = session.scalars(
        select(AuditEvent).where(AuditEvent.subject_type == "kpi_target").order_by(AuditEvent.id)
    )
    return [(e.action, e.actor_id, e.before, e.after) for e in rows]


def test_set_change_and_clear_a_target_each_with_its_audit_event(session: Session) -> None:
    boss = Actor.for_user(make_user(session, username="t.boss", role=Role.MANAGER))

    target, changed = targets.set_target(session, actor=boss, kpi="win_rate", value="35")
    same, unchanged = targets.set_target(session, actor=boss, kpi="win_rate", value=35.0)
    moved, changed_again = targets.set_target(session, actor=boss, kpi="win_rate", value="40.5")
    targets.set_target(session, actor=boss, kpi="collected", value="1,250,000")

    assert (changed, unchanged, changed_again) == (True, False, True)
    assert same is target
    assert moved is target
    assert target.value == 40.5
    assert target.updated_by_id == boss.user_id
    assert stored(session) == {"win_rate": 40.5, "collected": 1_250_000.0}

    assert targets.clear_target(session, actor=boss, kpi="win_rate") is True
    assert targets.clear_target(session, actor=boss, kpi="win_rate") is False  # nothing left
    assert stored(session) == {"collected": 1_250_000.0}
    assert events(session) == [
        ("kpi_target.set", boss.user_id, None, {"kpi": "win_rate", "value": 35.0}),
        ("kpi_target.set", boss.user_id, {"value": 35.0}, {"value": 40.5}),
        ("kpi_target.set", boss.user_id, None, {"kpi": "collected", "value": 1_250_000.0}),
        ("kpi_target.cleared", boss.user_id, {"kpi": "win_rate", "value": 40.5}, None),
    ]


@pytest.mark.parametrize(
    ("kpi", "value"),
    [
        ("nps", -100),
        ("nps", "100"),
        ("csat", 0),
        ("csat", Decimal("100")),
        ("nrr", "115"),  # expansion takes net revenue retention past 100%
        ("dso", "45.5"),
        ("time_to_close", 48),
        ("new_customers", " 120 "),
    ],
)
def test_values_inside_the_figures_range_are_taken(
    session: Session, kpi: str, value: object
) -> None:
    boss = Actor.for_user(make_user(session, role=Role.ADMIN))

    target, _ = targets.set_target(session, actor=boss, kpi=kpi, value=value)  # type: ignore[arg-type]

    assert target.value == float(str(value).strip())


@pytest.mark.parametrize(
    ("kpi", "value", "reason", "message"),
    [
        ("win_rate", "101", "out_of_range", "win_rate: the target must lie between 0 and 100"),
        ("overdue_share", -1, "out_of_range", "overdue_share: the target must lie between 0"),
        ("nps", "-100.5", "out_of_range", "nps: the target must lie between -100 and 100"),
        ("dso", 4000, "out_of_range", "dso: the target must lie between 0 and 3650"),
        ("new_customers", "-3", "out_of_range", "new_customers: the target must lie between 0"),
        ("win_rate", "abc", "not_a_number", "win_rate: the target must be a number"),
        ("win_rate", "", "not_a_number", "win_rate: the target must be a number"),
        ("win_rate", "nan", "not_a_number", "win_rate: the target must be a number"),
        ("collected", float("inf"), "not_a_number", "collected: the target must be a number"),
        ("csat", True, "not_a_number", "csat: the target must be a number"),
        ("happiness", "50", "unknown_kpi", "happiness: not a dashboard figure"),
    ],
)
def test_bad_values_are_refused_and_change_nothing(
    session: Session, kpi: str, value: object, reason: str, message: str
) -> None:
    boss = Actor.for_user(make_user(session, role=Role.MANAGER))
    targets.set_target(session, actor=boss, kpi="win_rate", value=30)
    targets.set_target(session, actor=boss, kpi="collected", value=9)
    before = (stored(session), events(session))

    with pytest.raises(InvalidTarget, match=message) as caught:
        targets.set_target(session, actor=boss, kpi=kpi, value=value)  # type: ignore[arg-type]

    assert caught.value.details["reason"] == reason
    assert caught.value.details["kpi"] == kpi
    assert (stored(session), events(session)) == before


@pytest.mark.parametrize("role", [Role.SALES, Role.COLLECTOR, Role.FINANCE, Role.VIEWER])
def test_only_admins_and_managers_change_targets(session: Session, role: Role) -> None:
    boss = Actor.for_user(make_user(session, role=Role.MANAGER))
    targets.set_target(session, actor=boss, kpi="nps", value=30)
    other = Actor.for_user(make_user(session, role=role))
    before = (stored(session), events(session))

    with pytest.raises(Forbidden):
        targets.set_target(session, actor=other, kpi="nps", value=50)
    with pytest.raises(Forbidden):
        targets.clear_target(session, actor=other, kpi="nps")

    assert (stored(session), events(session)) == before


# ---------------------------------------------------------------- the page


def row_of(html: str, code: str) -> str:
    start = html.index(f'id="kpi-{code}"')
    return html[start : html.index("</tr>", start)]


def test_a_manager_sets_and_removes_a_target_on_the_page(
    client: TestClient, session: Session
) -> None:
    make_person(session, "boss.wang", role=Role.MANAGER)
    sign_in(client, "boss.wang")
    page = client.get("/insights/targets")
    assert page.status_code == 200, page.text
    token = csrf_of(page.text)
    assert 'name="kpi" value="nps"' in page.text

    saved = client.post(
        "/insights/targets",
        data={"csrf_token": token, "kpi": "nps", "value": "42", "action": "set"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == "/insights/targets#kpi-nps"
    assert stored(session) == {"nps": 42.0}
    shown = client.get("/insights/targets").text
    assert "The target of NPS is now 42." in shown
    assert 'data-target="42.0"' in row_of(shown, "nps")

    removed = client.post(
        "/insights/targets",
        data={"csrf_token": token, "kpi": "nps", "value": "", "action": "clear"},
        follow_redirects=False,
    )
    assert removed.status_code == 303
    assert stored(session) == {}
    assert "The target of NPS was removed." in client.get("/insights/targets").text
    assert [e[0] for e in events(session)] == ["kpi_target.set", "kpi_target.cleared"]


def test_a_bad_value_on_the_page_names_the_figure_and_changes_nothing(
    client: TestClient, session: Session
) -> None:
    make_person(session, "boss.zhao", role=Role.MANAGER, language="zh")
    token = sign_in(client, "boss.zhao")
    client.post(
        "/insights/targets",
        data={"csrf_token": token, "kpi": "win_rate", "value": "30"},
        follow_redirects=False,
    )
    before = (stored(session), audit_count(session))

    refused = client.post(
        "/insights/targets",
        data={"csrf_token": token, "kpi": "dso", "value": "4000"},
    )
    not_number = client.post(
        "/insights/targets",
        data={"csrf_token": token, "kpi": "win_rate", "value": "forty"},
    )

    assert refused.status_code == 422
    assert "应收账款周转天数（DSO）：目标须在 0.0 与 3,650.0 之间。" in refused.text
    assert 'value="4000"' in row_of(refused.text, "dso")
    assert 'value="30.0"' in row_of(refused.text, "win_rate")  # the stored target, unchanged
    assert not_number.status_code == 422
    assert "：目标须是数字，而不是“forty”。" in not_number.text
    assert (stored(session), audit_count(session)) == before


def test_other_roles_read_the_targets_but_cannot_change_them(
    client: TestClient, session: Session
) -> None:
    boss = Actor.for_user(make_user(session, role=Role.MANAGER))
    targets.set_target(session, actor=boss, kpi="dso", value=45)
    make_person(session, "rep.zhou", role=Role.SALES)
    token = sign_in(client, "rep.zhou")
    before = (stored(session), audit_count(session))

    page = client.get("/insights/targets")
    denied = client.post(
        "/insights/targets",
        data={"csrf_token": token, "kpi": "dso", "value": "30"},
        follow_redirects=False,
    )
    cleared = client.post(
        "/insights/targets",
        data={"csrf_token": token, "kpi": "dso", "action": "clear"},
        follow_redirects=False,
    )

    assert page.status_code == 200
    assert 'data-target="45.0"' in row_of(page.text, "dso")
    assert 'name="kpi"' not in page.text  # no form
    assert "Administrators and managers set the targets." in page.text
    assert denied.status_code == 403
    assert cleared.status_code == 403
    assert (stored(session), audit_count(session)) == before
