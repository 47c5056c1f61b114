"""The negotiation service: opening one for an account, a deal or a contract; the sheet; issues
with their ZOPA; concessions that need a manager beyond the thresholds or the grade's terms;
meetings; the close; scope and permissions (a denied action writes nothing)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.analytics.zopa import Zopa, position_in_zone, zone_of_agreement
from flywheel.auth.actor import Actor
from flywheel.config import Settings
from flywheel.errors import Forbidden, NotFound, ValidationFailed
from flywheel.keyaccounts import negotiations as ng
from flywheel.models.audit import AuditEvent
from flywheel.models.credit import CreditScore
from flywheel.models.enums import Role, Tier
from flywheel.models.keyaccounts import Contract, Deal, DealStage, Negotiation
from tests.factories import make_customer, make_user

AS_OF = date(2026, 6, 1)
D = Decimal


def _actor(user, role: Role) -> Actor:  # type: ignore[no-untyped-def]
    return Actor(name=user.username, role=role, user_id=user.id)


@pytest.fixture
def world(session: Session) -> dict[str, object]:
    rep = make_user(session, role=Role.SALES)
    other = make_user(session, role=Role.SALES)
    boss = make_user(session, role=Role.MANAGER)
    account = make_customer(session, tier=Tier.KEY, owner=rep, name="华东重工")
    foreign = make_customer(session, owner=other)
    session.flush()
    return {
        "rep": _actor(rep, Role.SALES),
        "other": _actor(other, Role.SALES),
        "boss": _actor(boss, Role.MANAGER),
        "viewer": Actor(name="v", role=Role.VIEWER, user_id=None),
        "account": account,
        "foreign": foreign,
    }


def _events(session: Session, action: str) -> int:
    session.flush()
    return session.scalar(select(func.count()).where(AuditEvent.action == action)) or 0


# ------------------------------------------------------------------ the ZOPA maths


def test_zopa_for_higher_is_better_is_from_our_walkaway_to_theirs() -> None:
    assert zone_of_agreement(D(90), D(100), higher_is_better=True) == Zopa(D(90), D(100))
    assert zone_of_agreement(D(100), D(100), higher_is_better=True) == Zopa(D(100), D(100))
    assert zone_of_agreement(D(101), D(100), higher_is_better=True) is None


def test_zopa_for_lower_is_better_is_the_mirror() -> None:
    # We give at most 60 days; they need at least 45: 45–60 both accept.
    assert zone_of_agreement(D(60), D(45), higher_is_better=False) == Zopa(D(45), D(60))
    assert zone_of_agreement(D(30), D(45), higher_is_better=False) is None
    assert zone_of_agreement(None, D(45), higher_is_better=False) is None


def test_position_in_zone_reads_from_our_walkaway() -> None:
    zone = Zopa(D(90), D(100))
    assert position_in_zone(D(95), zone, higher_is_better=True) == 0.5
    assert position_in_zone(D(100), zone, higher_is_better=True) == 1.0
    assert position_in_zone(D(50), Zopa(D(45), D(60)), higher_is_better=False) == pytest.approx(
        2 / 3
    )
    assert position_in_zone(D(5), Zopa(D(5), D(5)), higher_is_better=True) is None


# ------------------------------------------------------------------ opening and the sheet


def test_a_rep_opens_a_negotiation_for_his_account_and_fills_the_sheet(
    session: Session, world: dict[str, object]
) -> None:
    rep, account = world["rep"], world["account"]
    n = ng.open_negotiation(session, actor=rep, customer=account.code)  # type: ignore[attr-defined]
    assert (n.status, n.owner_id, n.title) == ("preparing", rep.user_id, "Negotiation 华东重工")  # type: ignore[attr-defined]

    ng.update_sheet(
        session,
        actor=rep,  # type: ignore[arg-type]
        negotiation_id=n.id,
        changes={
            "our_objectives": "3-year frame",
            "our_batna": "Sell the capacity to 南方",
            "status": "in_progress",
        },
    )
    assert (n.our_objectives, n.our_batna, n.status) == (
        "3-year frame",
        "Sell the capacity to 南方",
        "in_progress",
    )
    assert _events(session, "negotiation.opened") == 1
    [changed] = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "negotiation.updated")
    )
    assert changed.before == {"status": "preparing", "our_objectives": None, "our_batna": None}
    with pytest.raises(ValidationFailed) as bad:
        ng.update_sheet(session, actor=rep, negotiation_id=n.id, changes={"status": "closed"})  # type: ignore[arg-type]
    assert bad.value.details["field"] == "status"


def test_opening_from_a_deal_or_a_contract_takes_its_account(
    session: Session, world: dict[str, object]
) -> None:
    account = world["account"]
    stage = DealStage(
        code="t_propose", name_en="Proposal", name_zh="方案", position=9, probability=50
    )
    session.add(stage)
    session.flush()
    deal = Deal(
        customer_id=account.id,
        title="Line 3 retrofit",
        stage_id=stage.id,
        value=D("800000"),
        currency="CNY",
        opened_on=AS_OF,
    )  # type: ignore[attr-defined]
    contract = Contract(
        customer_id=account.id,
        number="HT-T-1",
        title="Frame 2025",
        value=D(1),
        currency="CNY",
        start_on=date(2025, 1, 1),
        end_on=date(2026, 12, 31),
        payment_terms="NET60",
    )  # type: ignore[attr-defined]
    session.add_all([deal, contract])
    session.flush()

    by_deal = ng.open_negotiation(session, actor=world["rep"], deal_id=deal.id)  # type: ignore[arg-type]
    by_contract = ng.open_negotiation(session, actor=world["rep"], contract_id=contract.id)  # type: ignore[arg-type]

    assert (by_deal.customer_id, by_deal.deal_id, by_deal.title) == (
        account.id,
        deal.id,
        "Line 3 retrofit",
    )  # type: ignore[attr-defined]
    assert (by_contract.contract_id, by_contract.title) == (contract.id, "Renewal HT-T-1")
    # Another rep cannot see the deal: not found, nothing written.
    with pytest.raises(NotFound):
        ng.open_negotiation(session, actor=world["other"], deal_id=deal.id)  # type: ignore[arg-type]
    assert session.scalar(select(func.count(Negotiation.id))) == 2


def test_out_of_scope_and_viewers_are_refused_and_nothing_is_written(
    session: Session, world: dict[str, object]
) -> None:
    with pytest.raises(NotFound):
        ng.open_negotiation(session, actor=world["rep"], customer=world["foreign"].code)  # type: ignore[arg-type, attr-defined]
    with pytest.raises(Forbidden):
        ng.open_negotiation(session, actor=world["viewer"], customer=world["account"].code)  # type: ignore[arg-type, attr-defined]
    n = ng.open_negotiation(session, actor=world["rep"], customer=world["account"].code)  # type: ignore[arg-type, attr-defined]
    with pytest.raises(NotFound):
        ng.get_negotiation_for(session, n.id, actor=world["other"])  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        ng.set_issue(session, actor=world["other"], negotiation_id=n.id, name="price", values={})  # type: ignore[arg-type]
    assert _events(session, "negotiation.issue_set") == 0


# ------------------------------------------------------------------ issues


def test_issues_take_their_usual_direction_and_give_the_zopa(
    session: Session, world: dict[str, object]
) -> None:
    rep = world["rep"]
    n = ng.open_negotiation(session, actor=rep, customer=world["account"].code)  # type: ignore[arg-type, attr-defined]
    price = ng.set_issue(
        session,
        actor=rep,
        negotiation_id=n.id,
        name="price",  # type: ignore[arg-type]
        values={
            "our_opening": "120",
            "our_target": "110",
            "our_walkaway": "100",
            "their_opening": "90",
            "their_target": "100",
            "their_walkaway": "108",
        },
    )
    terms = ng.set_issue(
        session,
        actor=rep,
        negotiation_id=n.id,
        name="payment_terms",  # type: ignore[arg-type]
        values={
            "our_opening": "30",
            "our_walkaway": "45",
            "their_opening": "90",
            "their_walkaway": "60",
        },
    )
    assert (price.unit, price.higher_is_better) == ("CNY", True)
    assert ng.zopa_of(price) == Zopa(D(100), D(108))
    assert (terms.unit, terms.higher_is_better) == ("days", False)
    assert ng.zopa_of(terms) is None  # we give 45 at most, they need 60

    # Changing one field keeps the others; the audit says what changed.
    ng.set_issue(
        session, actor=rep, negotiation_id=n.id, name="payment_terms", values={"our_walkaway": "60"}
    )  # type: ignore[arg-type]
    assert ng.zopa_of(terms) == Zopa(D(60), D(60))
    last = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "negotiation.issue_set")
        .order_by(AuditEvent.id.desc())
    ).first()
    assert last is not None
    assert last.before == {"our_walkaway": "45.00"}
    assert last.after["our_walkaway"] == "60.00"
    assert [i["zopa"] for i in ng.chart_data(ng.issues_of(session, n.id))] == [
        [100.0, 108.0],
        [60.0, 60.0],
    ]


def test_positions_out_of_order_or_bad_names_are_refused(
    session: Session, world: dict[str, object]
) -> None:
    rep = world["rep"]
    n = ng.open_negotiation(session, actor=rep, customer=world["account"].code)  # type: ignore[arg-type, attr-defined]
    with pytest.raises(ValidationFailed) as bad:
        ng.set_issue(
            session,
            actor=rep,
            negotiation_id=n.id,
            name="price",
            values={"our_target": "90", "our_walkaway": "100"},
        )  # type: ignore[arg-type]
    assert bad.value.details["field"] == "our_walkaway"
    with pytest.raises(ValidationFailed) as bad:
        ng.set_issue(session, actor=rep, negotiation_id=n.id, name="Price!", values={})  # type: ignore[arg-type]
    assert bad.value.details["field"] == "name"
    with pytest.raises(ValidationFailed):
        ng.set_issue(
            session, actor=rep, negotiation_id=n.id, name="price", values={"our_target": "abc"}
        )  # type: ignore[arg-type]
    assert ng.issues_of(session, n.id) == []


# ------------------------------------------------------------------ concessions


SETTINGS = Settings(concession_max_discount_percent=5.0, concession_max_payment_days=60)


def test_concessions_beyond_the_thresholds_wait_for_a_manager(
    session: Session, world: dict[str, object]
) -> None:
    rep, boss = world["rep"], world["boss"]
    n = ng.open_negotiation(session, actor=rep, customer=world["account"].code)  # type: ignore[arg-type, attr-defined]
    small = ng.log_concession(
        session,
        actor=rep,
        negotiation_id=n.id,
        give="3% off",
        get="2-year term",
        discount_percent=D(3),
        as_of=AS_OF,
        settings=SETTINGS,
    )  # type: ignore[arg-type]
    at_limit = ng.log_concession(
        session,
        actor=rep,
        negotiation_id=n.id,
        give="60 days",
        payment_days=60,
        as_of=AS_OF,
        settings=SETTINGS,
    )  # type: ignore[arg-type]
    big = ng.log_concession(
        session,
        actor=rep,
        negotiation_id=n.id,
        give="8% off",
        get="volume +20%",
        discount_percent=D(8),
        as_of=AS_OF,
        settings=SETTINGS,
    )  # type: ignore[arg-type]
    long = ng.log_concession(
        session,
        actor=rep,
        negotiation_id=n.id,
        give="90 days",
        payment_days=90,
        planned=True,
        as_of=AS_OF,
        settings=SETTINGS,
    )  # type: ignore[arg-type]

    assert [c.approval_status for c in (small, at_limit, big, long)] == [
        "not_needed",
        "not_needed",
        "pending",
        "pending",
    ]
    assert n.status == "in_progress"

    # A rep cannot approve; nothing changes.
    with pytest.raises(Forbidden):
        ng.decide_concession(session, actor=rep, concession_id=big.id, approve=True)  # type: ignore[arg-type]
    assert big.approval_status == "pending"
    # Closing is refused while any waits.
    with pytest.raises(ng.ConcessionsPending):
        ng.close_negotiation(session, actor=rep, negotiation_id=n.id, outcome="agreed")  # type: ignore[arg-type]
    assert n.status == "in_progress"

    ng.decide_concession(
        session, actor=boss, concession_id=big.id, approve=True, note="Volume justifies it"
    )  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed):
        ng.decide_concession(session, actor=boss, concession_id=long.id, approve=False)  # type: ignore[arg-type]
    ng.decide_concession(
        session, actor=boss, concession_id=long.id, approve=False, note="Grade C: 45 days at most"
    )  # type: ignore[arg-type]
    assert (big.approval_status, big.approved_by_id, big.decision_note) == (
        "approved",
        boss.user_id,
        "Volume justifies it",
    )  # type: ignore[attr-defined]
    assert long.approval_status == "rejected"
    with pytest.raises(ng.ConcessionNotPending):
        ng.decide_concession(session, actor=boss, concession_id=small.id, approve=True)  # type: ignore[arg-type]
    assert _events(session, "concession.approved") == 1
    assert _events(session, "concession.rejected") == 1


def test_the_live_credit_grade_limits_the_terms(session: Session, world: dict[str, object]) -> None:
    account = world["account"]
    session.add(
        CreditScore(
            customer_id=account.id,
            as_of=date(2026, 5, 31),
            score=520,
            grade="D",
            model="expert",
            factors=[],
        )
    )  # type: ignore[attr-defined]
    session.flush()
    n = ng.open_negotiation(session, actor=world["rep"], customer=account.code)  # type: ignore[arg-type, attr-defined]
    c = ng.log_concession(
        session,
        actor=world["rep"],
        negotiation_id=n.id,
        give="45 days",
        payment_days=45,
        as_of=AS_OF,
        settings=SETTINGS,
    )  # type: ignore[arg-type]
    assert c.approval_status == "pending"  # grade D allows 30 days
    assert ng.approval_reasons(None, 45, settings=SETTINGS, grade="D") == ["grade_terms"]
    assert ng.approval_reasons(D("5.01"), 61, settings=SETTINGS, grade="A") == [
        "discount",
        "payment_days",
    ]
    [event] = session.scalars(select(AuditEvent).where(AuditEvent.action == "concession.logged"))
    assert event.after["grade"] == "D"
    assert event.after["approval_reasons"] == ["grade_terms"]


# ------------------------------------------------------------------ meetings and the close


def test_a_meeting_then_the_close_with_an_outcome_makes_it_final(
    session: Session, world: dict[str, object]
) -> None:
    rep = world["rep"]
    n = ng.open_negotiation(session, actor=rep, customer=world["account"].code)  # type: ignore[arg-type, attr-defined]
    ng.set_issue(
        session,
        actor=rep,
        negotiation_id=n.id,
        name="price",
        values={"our_walkaway": "100", "their_walkaway": "110"},
    )  # type: ignore[arg-type]
    meeting = ng.add_meeting(
        session,
        actor=rep,
        negotiation_id=n.id,
        held_on=AS_OF,
        attendees="王总, 李工",
        notes="They need 60 days",
    )  # type: ignore[arg-type]
    assert n.status == "in_progress"
    ng.log_concession(
        session,
        actor=rep,
        negotiation_id=n.id,
        give="free training",
        meeting_id=meeting.id,
        as_of=AS_OF,
        settings=SETTINGS,
    )  # type: ignore[arg-type]

    ng.close_negotiation(
        session,
        actor=rep,
        negotiation_id=n.id,
        outcome="won",
        outcome_notes="Signed",
        post_mortem="Anchor early",
        agreed={"price": "106"},
    )  # type: ignore[arg-type]

    assert (n.status, n.outcome, n.post_mortem) == ("closed", "won", "Anchor early")
    assert ng.issues_of(session, n.id)[0].agreed == D("106.0000")
    with pytest.raises(ng.NegotiationClosed):
        ng.add_meeting(session, actor=rep, negotiation_id=n.id, held_on=AS_OF)  # type: ignore[arg-type]
    with pytest.raises(ng.NegotiationClosed):
        ng.close_negotiation(session, actor=rep, negotiation_id=n.id, outcome="lost")  # type: ignore[arg-type]
    assert ng.summary_for_360(session, world["account"].id, as_of=AS_OF) is None  # type: ignore[attr-defined]


def test_summary_for_360_lists_open_negotiations(
    session: Session, world: dict[str, object]
) -> None:
    rep = world["rep"]
    n = ng.open_negotiation(session, actor=rep, customer=world["account"].code, title="2027 frame")  # type: ignore[arg-type, attr-defined]
    ng.log_concession(
        session,
        actor=rep,
        negotiation_id=n.id,
        give="10% off",
        discount_percent=D(10),
        as_of=AS_OF,
        settings=SETTINGS,
    )  # type: ignore[arg-type]
    summary = ng.summary_for_360(session, world["account"].id, as_of=AS_OF)  # type: ignore[attr-defined]
    assert summary == {
        "open": 1,
        "negotiations": [
            {
                "id": n.id,
                "title": "2027 frame",
                "status": "in_progress",
                "url": f"/negotiations/{n.id}",
                "pending_concessions": 1,
                "last_meeting_on": None,
            }
        ],
    }
    rows, total = ng.list_negotiations(
        session, world["other"], ng.NegotiationFilter(), limit=10, offset=0
    )  # type: ignore[arg-type]
    assert (rows, total) == ([], 0)
    rows, total = ng.list_negotiations(
        session, rep, ng.NegotiationFilter(status="open", mine=True), limit=10, offset=0
    )  # type: ignore[arg-type]
    assert total == 1


def test_the_api_world_helper_gives_a_closable_negotiation_and_a_pending_concession(
    session: Session, world: dict[str, object]
) -> None:
    from tests.keyaccounts.negotiation_support import world_negotiation

    negotiation_id, concession_id = world_negotiation(session, world["account"].code)  # type: ignore[attr-defined]
    assert (
        ng.get_concession_for(session, concession_id, actor=world["boss"]).approval_status
        == "pending"
    )  # type: ignore[arg-type]
    closed = ng.close_negotiation(
        session, actor=world["boss"], negotiation_id=negotiation_id, outcome="agreed"
    )  # type: ignore[arg-type]
    assert closed.status == "closed"
