"""The deals pipeline service: default stages seeded once, stage changes and their guards, a
deal created, edited, moved (audited), won with its contract and order, lost with a reason;
refusals change nothing; the pipeline figures and the 360 summary on exact numbers; scope."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.errors import Conflict, Forbidden, NotFound, ValidationFailed
from flywheel.keyaccounts import deal_figures, deals
from flywheel.models.audit import AuditEvent
from flywheel.models.enums import Role, Tier
from flywheel.models.keyaccounts import Contract, Deal, DealStage
from flywheel.models.sales import Order
from tests.factories import TESTER, make_customer, make_user

OPENED = date(2026, 1, 5)


def _audits(session: Session, action: str | None = None) -> int:
    session.flush()
    stmt = select(func.count(AuditEvent.id))
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    return session.scalar(stmt) or 0


def _deal(session: Session, code: str, **extra: object) -> Deal:
    values: dict[str, object] = {
        "customer": code,
        "title": "年度框架采购",
        "value": "100000.00",
        "opened_on": OPENED,
        **extra,
    }
    return deals.create_deal(session, actor=TESTER, **values)  # type: ignore[arg-type]


def test_default_stages_are_seeded_once_in_order(session: Session) -> None:
    assert deals.seed_default_stages(session) == 6
    assert deals.seed_default_stages(session) == 0
    stages = deals.list_stages(session)
    assert [(s.code, s.probability, s.is_won, s.is_lost) for s in stages] == [
        ("lead", 10, False, False),
        ("qualified", 25, False, False),
        ("proposal", 50, False, False),
        ("negotiation", 75, False, False),
        ("won", 100, True, False),
        ("lost", 0, False, True),
    ]
    assert stages[0].name_zh == "线索"


def test_a_deal_is_created_in_the_first_stage_with_the_accounts_owner_and_currency(
    session: Session,
) -> None:
    rep = make_user(session, role=Role.SALES)
    account = make_customer(session, tier=Tier.KEY, owner=rep, currency="CNY")

    deal = _deal(
        session,
        account.code,
        lines=[{"product": "伺服电机", "quantity": 10, "unit_price": "5000"}],
        competitors="西门子， ABB, 西门子",
    )

    stage = session.get(DealStage, deal.stage_id)
    assert stage is not None
    assert stage.code == "lead"
    assert (deal.owner_id, deal.currency, deal.value) == (rep.id, "CNY", Decimal("100000.00"))
    assert deal.lines == [{"product": "伺服电机", "quantity": "10", "unit_price": "5000.00"}]
    assert deal.competitors == ["西门子", "ABB"]
    assert _audits(session, "deal.created") == 1


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"value": "-1"}, "value"),
        ({"value": "1.234"}, "value"),
        ({"title": "  "}, "title"),
        ({"stage": "won"}, "stage"),
        ({"expected_close_on": date(2025, 12, 1)}, "expected_close_on"),
        ({"lines": [{"quantity": 2}]}, "lines"),
        ({"currency": "yuan"}, "currency"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_writes_nothing(
    session: Session, extra: dict[str, object], field: str
) -> None:
    account = make_customer(session, tier=Tier.KEY)
    deals.seed_default_stages(session)
    before = _audits(session)

    with pytest.raises(ValidationFailed) as raised:
        _deal(session, account.code, **extra)

    assert raised.value.details["field"] == field
    assert _audits(session) == before
    assert session.scalar(select(func.count(Deal.id))) == 0


def test_move_edit_and_lose_are_audited_and_a_lost_deal_can_be_reopened(
    session: Session,
) -> None:
    account = make_customer(session, tier=Tier.KEY)
    deal = _deal(session, account.code)

    deals.move_deal(session, actor=TESTER, deal_id=deal.id, stage="proposal")
    deals.edit_deal(
        session, actor=TESTER, deal_id=deal.id, changes={"value": "120000", "title": "扩产"}
    )
    with pytest.raises(ValidationFailed):
        deals.lose_deal(session, actor=TESTER, deal_id=deal.id, on=date(2026, 3, 1), reason=" ")
    deals.lose_deal(session, actor=TESTER, deal_id=deal.id, on=date(2026, 3, 1), reason="价格")

    assert (deal.closed_on, deal.lost_reason, deal.value) == (
        date(2026, 3, 1),
        "价格",
        Decimal("120000.00"),
    )
    moved = session.scalar(select(AuditEvent).where(AuditEvent.action == "deal.moved"))
    assert moved is not None
    assert moved.after is not None
    assert moved.after["stage"] == "proposal"
    assert moved.before is not None
    assert "stage_id" in moved.before
    with pytest.raises(deals.DealClosed):
        deals.win_deal(session, actor=TESTER, deal_id=deal.id, on=date(2026, 3, 2))

    deals.move_deal(session, actor=TESTER, deal_id=deal.id, stage="negotiation")
    assert (deal.closed_on, deal.lost_reason) == (None, None)
    assert _audits(session, "deal.reopened") == 1


def test_moving_to_a_closing_stage_is_refused(session: Session) -> None:
    account = make_customer(session, tier=Tier.KEY)
    deal = _deal(session, account.code)
    with pytest.raises(ValidationFailed) as raised:
        deals.move_deal(session, actor=TESTER, deal_id=deal.id, stage="won")
    assert raised.value.details["field"] == "stage"
    with pytest.raises(NotFound):
        deals.move_deal(session, actor=TESTER, deal_id=deal.id, stage="nowhere")


def test_winning_creates_the_contract_and_the_order(session: Session) -> None:
    account = make_customer(session, tier=Tier.KEY, payment_terms="NET60")
    deal = _deal(session, account.code)

    deals.win_deal(
        session,
        actor=TESTER,
        deal_id=deal.id,
        on=date(2026, 2, 10),
        contract=deals.ContractTerms(number="HT-2026-001", end_on=date(2027, 2, 9)),
        create_order=True,
        order_number="SO-2026-001",
    )

    contract = session.get(Contract, deal.contract_id)
    order = session.get(Order, deal.order_id)
    assert contract is not None
    assert order is not None
    assert (contract.number, contract.value, contract.start_on, contract.end_on) == (
        "HT-2026-001",
        Decimal("100000.00"),
        date(2026, 2, 10),
        date(2027, 2, 9),
    )
    assert contract.payment_terms == "NET60"
    assert (order.number, order.amount, order.order_date) == (
        "SO-2026-001",
        Decimal("100000.00"),
        date(2026, 2, 10),
    )
    assert deal.closed_on == date(2026, 2, 10)
    assert _audits(session, "deal.won") == 1
    assert _audits(session, "contract.created") == 1
    assert _audits(session, "order.created") == 1


def test_a_refused_win_changes_nothing(session: Session) -> None:
    account = make_customer(session, tier=Tier.KEY)
    deal = _deal(session, account.code)
    deals.win_deal(
        session,
        actor=TESTER,
        deal_id=_deal(session, account.code).id,
        on=date(2026, 2, 1),
        contract=deals.ContractTerms(number="HT-1"),
    )
    before = _audits(session)

    with pytest.raises(Conflict), session.begin_nested():
        deals.win_deal(
            session,
            actor=TESTER,
            deal_id=deal.id,
            on=date(2026, 2, 1),
            contract=deals.ContractTerms(number="HT-1"),
        )

    session.refresh(deal)
    assert (deal.closed_on, deal.contract_id) == (None, None)
    assert _audits(session) == before
    assert session.scalar(select(func.count(Contract.id))) == 1


def test_a_rep_sees_and_moves_only_the_deals_of_his_accounts(session: Session) -> None:
    rep = make_user(session, role=Role.SALES)
    other = make_user(session, role=Role.SALES)
    mine = make_customer(session, tier=Tier.KEY, owner=rep)
    theirs = make_customer(session, tier=Tier.KEY, owner=other)
    _deal(session, mine.code)
    foreign = _deal(session, theirs.code)
    actor = Actor.for_user(rep)

    rows, total = deals.list_deals(session, actor, deals.DealFilter(), limit=10, offset=0)
    assert total == 1
    assert rows[0][1].id == mine.id
    before = _audits(session)
    with pytest.raises(NotFound):
        deals.move_deal(session, actor=actor, deal_id=foreign.id, stage="proposal")
    with pytest.raises(NotFound):
        deals.create_deal(
            session, actor=actor, customer=theirs.code, title="x", value="1", opened_on=OPENED
        )
    assert _audits(session) == before
    viewer = Actor.for_user(make_user(session, role=Role.VIEWER))
    with pytest.raises(Forbidden):
        deals.move_deal(session, actor=viewer, deal_id=foreign.id, stage="proposal")


def test_stage_changes_keep_the_pipeline_whole(session: Session) -> None:
    account = make_customer(session, tier=Tier.KEY)
    _deal(session, account.code, stage="proposal")

    stage, created = deals.save_stage(
        session, actor=TESTER, code="demo", values={"name_zh": "演示", "probability": 40}
    )
    assert created
    assert (stage.name_en, stage.probability, stage.position) == ("Demo", 40, 70)
    deals.save_stage(session, actor=TESTER, code="demo", values={"position": 25})
    assert [s.code for s in deals.list_stages(session)][:4] == [
        "lead",
        "qualified",
        "demo",
        "proposal",
    ]
    with pytest.raises(deals.StageInUse):
        deals.save_stage(session, actor=TESTER, code="proposal", values={"active": False})
    with pytest.raises(deals.StageInUse):
        deals.save_stage(session, actor=TESTER, code="won", values={"active": False})
    with pytest.raises(ValidationFailed):
        deals.save_stage(session, actor=TESTER, code="won", values={"probability": 90})
    rep = Actor.for_user(make_user(session, role=Role.SALES))
    with pytest.raises(Forbidden):
        deals.save_stage(session, actor=rep, code="demo", values={"probability": 50})
    assert _audits(session, "deal_stage.created") == 1
    assert _audits(session, "deal_stage.updated") == 1


def test_pipeline_figures_on_worked_numbers(session: Session) -> None:
    rep = make_user(session, role=Role.SALES)
    account = make_customer(session, tier=Tier.KEY, owner=rep)
    _deal(session, account.code, value="100000", stage="lead")  # weighted 10,000
    _deal(session, account.code, value="40000", stage="proposal")  # weighted 20,000
    _deal(session, account.code, value="8000", stage="proposal")  # weighted 4,000
    won_a = _deal(session, account.code, value="50000")
    won_b = _deal(session, account.code, value="30000")
    lost = _deal(session, account.code, value="70000")
    deals.win_deal(session, actor=TESTER, deal_id=won_a.id, on=date(2026, 2, 4))  # 30 days
    deals.win_deal(session, actor=TESTER, deal_id=won_b.id, on=date(2026, 3, 6))  # 60 days
    deals.lose_deal(session, actor=TESTER, deal_id=lost.id, on=date(2026, 2, 20), reason="预算")

    figures = deal_figures.pipeline_figures(
        session, TESTER, as_of=date(2026, 3, 31), start=date(2026, 1, 1), end=date(2026, 3, 31)
    )

    by_stage = {s["code"]: s for s in figures["stages"]}
    assert by_stage["lead"]["open_value"] == {"CNY": "100000.00"}
    assert by_stage["proposal"]["open_deals"] == 2
    assert by_stage["proposal"]["weighted_value"] == {"CNY": "24000.00"}
    assert figures["open_value"] == {"CNY": "148000.00"}
    assert figures["weighted_value"] == {"CNY": "34000.00"}
    assert (figures["won"], figures["lost"], figures["win_rate"]) == (2, 1, 0.6667)
    assert figures["average_cycle_days"] == 45.0
    assert figures["won_value"] == {"CNY": "80000.00"}
    [owner] = figures["owners"]
    assert (owner["owner_id"], owner["open_deals"], owner["won"]) == (rep.id, 3, 2)

    earlier = deal_figures.pipeline_figures(
        session, TESTER, as_of=date(2026, 2, 10), start=date(2026, 1, 1), end=date(2026, 2, 10)
    )
    assert (earlier["won"], earlier["lost"], earlier["win_rate"]) == (1, 0, 1.0)


def test_the_360_summary_lists_the_open_deals(session: Session) -> None:
    account = make_customer(session, tier=Tier.KEY)
    assert deal_figures.summary_for_360(session, account.id, as_of=date(2026, 3, 1)) is None
    _deal(
        session,
        account.code,
        value="40000",
        stage="proposal",
        expected_close_on=date(2026, 2, 1),
    )
    done = _deal(session, account.code)
    deals.lose_deal(session, actor=TESTER, deal_id=done.id, on=date(2026, 2, 1), reason="x")

    summary = deals.summary_for_360(session, account.id, as_of=date(2026, 3, 1))

    assert summary is not None
    assert summary["open_value"] == {"CNY": "40000.00"}
    assert summary["weighted_value"] == {"CNY": "20000.00"}
    assert (summary["won"], summary["lost"]) == (0, 1)
    [deal] = summary["open_deals"]
    assert (deal["stage"], deal["overdue"]) == ("proposal", True)
