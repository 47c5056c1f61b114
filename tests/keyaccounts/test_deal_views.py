"""The deal pages, signed in through the form: the board with its columns, cards and move forms,
the list's filters, the new-deal form (bad input shown, nothing written), the detail page's
edit, win (with contract and order) and lose forms and its history, the stage editor; in
English and Chinese."""

from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.models.enums import Role, Tier
from flywheel.models.keyaccounts import Contract, Deal, DealStage
from flywheel.models.users import User
from flywheel.web.contract import today
from tests.factories import make_customer
from tests.keyaccounts.deal_support import open_deal
from tests.web.pages import audit_count, make_person, sign_in


def _rep(session: Session, name: str = "li.wei", *, language: str = "en") -> User:
    return make_person(session, name, role=Role.SALES, language=language)


def _deals(session: Session) -> int:
    session.flush()
    return session.scalar(select(func.count(Deal.id))) or 0


def test_the_board_shows_a_column_per_open_stage_and_moves_a_card(
    client: TestClient, session: Session
) -> None:
    rep = _rep(session)
    account = make_customer(session, name="东方机电", tier=Tier.KEY, owner=rep)
    deal = open_deal(session, account, title="产线改造", stage="proposal")
    csrf = sign_in(client, "li.wei")

    board = client.get("/deals")
    assert board.status_code == 200, board.text
    for code in ("lead", "qualified", "proposal", "negotiation"):
        assert f'data-stage="{code}"' in board.text
    assert 'data-stage="won"' not in board.text
    assert f'data-deal="{deal.id}"' in board.text
    assert "产线改造" in board.text
    assert 'data-testid="deal-figures"' in board.text

    moved = client.post(
        f"/deals/{deal.id}/move",
        data={"csrf_token": csrf, "stage": "negotiation", "next": "/deals"},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    assert moved.headers["location"] == "/deals"
    stage = session.get(DealStage, deal.stage_id)
    assert stage is not None
    assert stage.code == "negotiation"

    listed = client.get("/deals/list", params={"status": "open", "stage": "negotiation"})
    assert f'data-deal="{deal.id}"' in listed.text


def test_a_new_deal_from_the_form_and_bad_input_writes_nothing(
    client: TestClient, session: Session
) -> None:
    rep = _rep(session)
    account = make_customer(session, tier=Tier.KEY, owner=rep)
    csrf = sign_in(client, "li.wei")

    form = client.get(f"/deals/new?customer={account.id}")
    assert f'name="customer" value="{account.code}"' in form.text
    before = (audit_count(session), _deals(session))
    bad = client.post(
        "/deals",
        data={"csrf_token": csrf, "customer": account.code, "title": "扩产", "value": "-5"},
    )
    assert bad.status_code == 422
    assert 'aria-invalid="true"' in bad.text
    assert (audit_count(session), _deals(session)) == before

    made = client.post(
        "/deals",
        data={
            "csrf_token": csrf,
            "customer": account.code,
            "title": "扩产",
            "value": "300000",
            "stage": "qualified",
            "lines": "伺服电机 | 10 | 5000\n控制柜 | 2",
            "competitors": "西门子, ABB",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    deal = session.scalar(select(Deal).where(Deal.title == "扩产"))
    assert deal is not None
    assert made.headers["location"] == f"/deals/{deal.id}"
    assert deal.lines == [
        {"product": "伺服电机", "quantity": "10", "unit_price": "5000.00"},
        {"product": "控制柜", "quantity": "2", "unit_price": None},
    ]
    assert deal.competitors == ["西门子", "ABB"]


def test_detail_edit_win_with_contract_and_the_history(
    client: TestClient, session: Session
) -> None:
    rep = _rep(session)
    account = make_customer(session, tier=Tier.KEY, owner=rep)
    deal = open_deal(session, account)
    csrf = sign_in(client, "li.wei")

    edited = client.post(
        f"/deals/{deal.id}",
        data={"csrf_token": csrf, "title": "年度框架采购", "value": "90000", "currency": "CNY"},
        follow_redirects=False,
    )
    assert edited.status_code == 303, edited.text
    assert (deal.value, deal.owner_id) == (Decimal("90000.00"), rep.id)
    won = client.post(
        f"/deals/{deal.id}/win",
        data={
            "csrf_token": csrf,
            "closed_on": today().isoformat(),
            "create_contract": "1",
            "contract_number": "HT-WEB-1",
            "create_order": "1",
        },
        follow_redirects=False,
    )
    assert won.status_code == 303, won.text
    page = client.get(f"/deals/{deal.id}")

    contract = session.scalar(select(Contract).where(Contract.number == "HT-WEB-1"))
    assert contract is not None
    assert str(contract.value) == "90000.00"
    assert 'data-action="deal.updated"' in page.text
    assert 'data-action="deal.won"' in page.text
    assert 'data-action="contract.created"' in page.text
    assert 'id="win-form"' not in page.text


def test_losing_needs_a_reason_and_a_foreign_deal_is_not_found(
    client: TestClient, session: Session
) -> None:
    rep = _rep(session)
    other = _rep(session, "zhang.san")
    account = make_customer(session, tier=Tier.KEY, owner=rep)
    foreign = open_deal(session, make_customer(session, tier=Tier.KEY, owner=other))
    deal = open_deal(session, account)
    csrf = sign_in(client, "li.wei")
    before = audit_count(session)

    no_reason = client.post(f"/deals/{deal.id}/lose", data={"csrf_token": csrf})
    hidden = client.get(f"/deals/{foreign.id}")
    not_mine = client.post(
        f"/deals/{foreign.id}/lose", data={"csrf_token": csrf, "lost_reason": "x"}
    )

    assert no_reason.status_code == 422
    assert "field-error" in no_reason.text
    assert hidden.status_code == 404
    assert not_mine.status_code == 404
    assert audit_count(session) == before
    lost = client.post(
        f"/deals/{deal.id}/lose",
        data={"csrf_token": csrf, "lost_reason": "价格未谈拢"},
        follow_redirects=False,
    )
    assert lost.status_code == 303
    assert deal.lost_reason == "价格未谈拢"


def test_the_pages_in_chinese_and_the_stage_editor_for_managers(
    client: TestClient, session: Session
) -> None:
    rep = _rep(session, language="zh")
    make_person(session, "wang.jl", role=Role.MANAGER, language="zh")
    account = make_customer(session, tier=Tier.KEY, owner=rep)
    open_deal(session, account)
    sign_in(client, "li.wei")

    board = client.get("/deals")
    assert "线索" in board.text
    assert "商务谈判" in board.text
    stages = client.get("/deals/stages")
    assert 'data-testid="new-stage"' not in stages.text

    client.cookies.clear()
    csrf = sign_in(client, "wang.jl")
    added = client.post(
        "/deals/stages",
        data={
            "csrf_token": csrf,
            "code": "demo",
            "name_zh": "演示",
            "name_en": "Demo",
            "position": "25",
            "probability": "40",
            "kind": "open",
            "active": "1",
        },
        follow_redirects=False,
    )
    assert added.status_code == 303, added.text
    refused = client.post(
        "/deals/stages",
        data={"csrf_token": csrf, "code": "lead", "kind": "open", "probability": "10"},
    )
    assert refused.status_code == 422  # lead holds an open deal: it cannot be deactivated
    assert session.scalar(select(DealStage.active).where(DealStage.code == "lead")) is True
