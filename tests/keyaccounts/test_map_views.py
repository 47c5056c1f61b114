"""The stakeholder map and needs pages, signed in through the form: the org chart's data, the
coverage warnings, saving a stakeholder from the table (a circle shown on the form, nothing
written), adding and closing needs, promoting a survey comment; in English and Chinese."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.models.enums import Role
from flywheel.models.keyaccounts import Need, Stakeholder
from flywheel.models.users import User
from tests.keyaccounts.map_support import MapWorld, audit_total, build
from tests.web.pages import csrf_of, make_person, sign_in


@pytest.fixture
def world(session: Session) -> MapWorld:
    return build(session)


def _owner(session: Session, world: MapWorld, *, language: str = "en") -> User:
    person = make_person(session, "ka.map", role=Role.SALES, language=language)
    world.account.owner_id = person.id
    session.flush()
    return person


def _chart(html: str) -> dict[str, object]:
    match = re.search(
        r'<script type="application/json" id="stakeholder-data">(.*?)</script>', html, re.S
    )
    assert match
    return json.loads(match.group(1))  # type: ignore[no-any-return]


def test_the_map_page_draws_the_chart_and_saves_a_row(
    client: TestClient, session: Session, world: MapWorld
) -> None:
    _owner(session, world)
    csrf = sign_in(client, "ka.map")

    saved = client.post(
        f"/accounts/KA-MAP/map/{world.finance.id}",
        data={
            "csrf_token": csrf,
            "influence": "4",
            "attitude": "champion",
            "trust": "5",
            "reports_to_contact_id": str(world.boss.id),
            "notes": "推动自动对账",
            "buying_role": "finance",
        },
        follow_redirects=False,
    )
    page = client.get("/accounts/KA-MAP/map")

    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == f"/accounts/KA-MAP/map#contact-{world.finance.id}"
    assert page.status_code == 200
    assert "Stakeholder saved." in page.text
    assert 'data-warning="single_threaded"' in page.text
    assert 'data-warning="decision_maker_not_met"' in page.text
    tree = _chart(page.text)["tree"]
    assert isinstance(tree, dict)
    [boss] = [n for n in tree["children"] if n["contact_id"] == world.boss.id]
    [finance] = boss["children"]
    assert finance["contact_id"] == world.finance.id
    assert finance["itemStyle"] == {"color": "#1a7f37"}
    assert finance["symbolSize"] == 34
    assert finance["name"] == "钱会计\n职位\nFinance / AP"


def test_a_circle_is_shown_on_the_row_and_nothing_is_written(
    client: TestClient, session: Session, world: MapWorld
) -> None:
    _owner(session, world)
    csrf = sign_in(client, "ka.map")
    client.post(
        f"/accounts/KA-MAP/map/{world.finance.id}",
        data={"csrf_token": csrf, "influence": "3", "attitude": "neutral", "trust": "3",
              "reports_to_contact_id": str(world.boss.id)},
    )  # fmt: skip
    before = (audit_total(session), session.scalar(select(func.count(Stakeholder.id))))

    answer = client.post(
        f"/accounts/KA-MAP/map/{world.boss.id}",
        data={"csrf_token": csrf, "influence": "5", "attitude": "neutral", "trust": "3",
              "reports_to_contact_id": str(world.finance.id)},
    )  # fmt: skip

    assert answer.status_code == 422
    assert "circle" in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert (audit_total(session), session.scalar(select(func.count(Stakeholder.id)))) == before


def test_needs_page_adds_closes_and_promotes(
    client: TestClient, session: Session, world: MapWorld
) -> None:
    _owner(session, world)
    csrf = sign_in(client, "ka.map")

    page = client.get("/accounts/KA-MAP/needs")
    added = client.post(
        "/accounts/KA-MAP/needs",
        data={"csrf_token": csrf, "title": "缩短交货周期", "kind": "need",
              "source": "interview", "priority": "2", "status": "open"},
        follow_redirects=False,
    )  # fmt: skip
    need = session.scalar(select(Need))
    assert need is not None
    refused = client.post(
        f"/accounts/KA-MAP/needs/{need.id}",
        data={"csrf_token": csrf, "title": "缩短交货周期", "kind": "need",
              "source": "interview", "priority": "2", "status": "addressed"},
    )  # fmt: skip
    closed = client.post(
        f"/accounts/KA-MAP/needs/{need.id}",
        data={"csrf_token": csrf, "title": "缩短交货周期", "kind": "need",
              "source": "interview", "priority": "2", "status": "addressed",
              "offer": "华东仓备货"},
        follow_redirects=False,
    )  # fmt: skip
    promoted = client.post(
        "/accounts/KA-MAP/needs/promote",
        data={"csrf_token": csrf, "response_id": str(world.comment.id)},
        follow_redirects=False,
    )
    again = client.post(
        "/accounts/KA-MAP/needs/promote",
        data={"csrf_token": csrf, "response_id": str(world.comment.id)},
    )
    after = client.get("/accounts/KA-MAP/needs")

    assert page.status_code == 200
    assert f'data-response="{world.comment.id}"' in page.text
    assert "Promote to a need" in page.text
    assert added.status_code == 303, added.text
    assert refused.status_code == 422
    assert "names the offer" in refused.text
    assert closed.status_code == 303
    session.refresh(need)
    assert (need.status, need.offer) == ("addressed", "华东仓备货")
    assert promoted.status_code == 303
    assert "This comment was already a need." in again.text
    assert session.scalar(select(func.count(Need.id))) == 2
    assert "Promoted to a need" in after.text
    assert "Promote to a need" not in after.text


def test_the_pages_in_chinese_and_kept_from_a_rival(
    client: TestClient, session: Session, world: MapWorld
) -> None:
    _owner(session, world, language="zh")
    make_person(session, "ka.rival", role=Role.SALES)
    sign_in(client, "ka.map")

    map_page = client.get("/accounts/KA-MAP/map")
    needs_page = client.get("/accounts/KA-MAP/needs")
    client.cookies.clear()
    sign_in(client, "ka.rival")
    hidden = client.get("/accounts/KA-MAP/map")
    hidden_needs = client.get("/accounts/KA-MAP/needs")

    assert map_page.status_code == 200
    assert "关键人地图" in map_page.text
    assert "需求与痛点" in needs_page.text
    assert (hidden.status_code, hidden_needs.status_code) == (404, 404)


def test_a_viewer_reads_the_map_and_register_without_forms(
    client: TestClient, session: Session, world: MapWorld
) -> None:
    make_person(session, "ka.viewer", role=Role.VIEWER)
    sign_in(client, "ka.viewer")

    map_page = client.get("/accounts/KA-MAP/map")
    needs_page = client.get("/accounts/KA-MAP/needs")
    denied = client.post(
        f"/accounts/KA-MAP/map/{world.boss.id}",
        data={"csrf_token": csrf_of(map_page.text), "influence": "5"},
    )

    assert map_page.status_code == 200
    assert f'data-contact="{world.boss.id}"' in map_page.text
    assert f'action="/accounts/KA-MAP/map/{world.boss.id}"' not in map_page.text
    assert "Promote to a need" not in needs_page.text
    assert "Add a need or pain point" not in needs_page.text
    assert denied.status_code == 403
    assert session.scalar(select(func.count(Stakeholder.id))) == 0
