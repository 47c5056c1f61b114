"""Next best action: each shipped rule fires on the account it is meant for and on no other,
the facts behind the rules, ranking and the cap per account, no duplicates on a rerun,
cooldowns, expiry, rule validation, and working and changing them (a denied change writes
nothing)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.errors import Conflict, Forbidden, NotFound, ValidationFailed
from flywheel.feedback import loops
from flywheel.loyalty import action_service, next_actions
from flywheel.loyalty.action_facts import read_facts
from flywheel.models.audit import AuditEvent
from flywheel.models.customers import Customer
from flywheel.models.enums import NextActionStatus, Role, Segment
from flywheel.models.loyalty import NextAction, NextActionRule
from flywheel.models.receivables import Invoice
from tests.factories import make_invoice, make_payment, make_user
from tests.feedback.loop_support import SETTINGS as FEEDBACK_SETTINGS
from tests.feedback.loop_support import answer
from tests.loyalty.action_support import (
    AS_OF,
    SETTINGS,
    Book,
    book,
    grade,
    noon,
    opened,
    scored,
)
from tests.loyalty.factories import make_loyalty_score, make_order

ADMIN = Actor.system("tests")


def _run(session: Session, day: Any = AS_OF) -> dict[str, Any]:
    return next_actions.run(session, as_of=day, settings=SETTINGS, now=noon(day))


def _by_account(session: Session, world: Book) -> dict[str, list[str]]:
    names = world.by_code()
    out: dict[str, list[str]] = {}
    for action in opened(session):
        customer = session.get(Customer, action.customer_id)
        assert customer is not None
        out.setdefault(names[customer.code], []).append(action.action)
    return out


def _audits(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def _rescore(session: Session, customer: Customer, day: Any, **fields: Any) -> None:
    fields.setdefault("clv", "50000.00")
    make_loyalty_score(session, customer=customer, as_of=day, **fields)


# ----------------------------------------------------------------------------- the defaults


def test_each_default_rule_fires_on_its_own_account_and_on_no_other(session: Session) -> None:
    world = book(session)

    counts = _run(session)

    assert _by_account(session, world) == {
        "promoter": ["referral_ask"],
        "detractor": ["rescue_detractor"],
        "at_risk": ["re_engage"],
        "growing": ["upsell"],
        "renewal": ["renewal"],
        "overdue": ["gentle_reminder"],
    }
    assert counts["accounts"] == 8
    assert counts["rules"] == 6
    assert counts["opened"] == 6
    assert counts["opened_by_action"] == {
        "referral_ask": 1,
        "rescue_detractor": 1,
        "re_engage": 1,
        "upsell": 1,
        "renewal": 1,
        "gentle_reminder": 1,
    }
    assert counts["expired"] == 0
    assert counts["open"] == 6


def test_an_action_carries_its_reason_owner_due_day_and_key(session: Session) -> None:
    world = book(session)

    _run(session)

    actions = {a.action: a for a in opened(session)}
    ask = actions["referral_ask"]
    rule = session.scalar(
        select(NextActionRule).where(NextActionRule.code == "referral_ask_promoter")
    )
    assert rule is not None
    assert ask.reason == [
        ["nps_band", "promoter"],
        ["nps_age_days", 20],
        ["clv_percentile", 100],
        ["open_detractor_loop", False],
    ]
    assert ask.owner_id == world.rep.id
    assert ask.status == NextActionStatus.OPEN
    assert ask.created_on == AS_OF
    assert ask.due_on == AS_OF + timedelta(days=14)
    assert ask.dedupe_key == f"nba:{rule.id}:{world.promoter.id}:2026-03-02"
    # Of an "any" group only what held is the reason: green health, not the missing NPS.
    assert actions["gentle_reminder"].reason == [
        ["overdue_amount", 8000.0],
        ["max_days_overdue", 10],
        ["health_band", "green"],
    ]
    assert actions["rescue_detractor"].owner_id == world.rival.id


def test_the_reason_reads_as_chips_in_the_owners_language(session: Session) -> None:
    reason = [
        ["nps_band", "promoter"],
        ["clv", 900000.0],
        ["spend_growth", 0.5],
        ["contract", True],
    ]

    assert next_actions.chips(reason, "zh") == [
        "最近NPS评价: 推荐者",
        "客户终身价值: ¥900,000.00",
        "消费增长率: 50%",
        "合同客户: 是",
    ]
    assert next_actions.chips(reason, "en")[0] == "latest NPS answer: promoter"
    assert next_actions.chips([["max_days_overdue", 10]], "en") == ["most days overdue: 10 d"]


def test_the_shipped_rules_are_seeded_once(session: Session) -> None:
    assert next_actions.ensure_default_rules(session) == 6
    assert next_actions.ensure_default_rules(session) == 0
    codes = set(session.scalars(select(NextActionRule.code)))
    assert codes == {r["code"] for r in next_actions.DEFAULT_RULES}
    renewal = session.scalar(select(NextActionRule).where(NextActionRule.code == "prepare_renewal"))
    assert renewal is not None
    assert renewal.name_zh == "为健康度下滑的合同客户准备续约"


# ----------------------------------------------------------------------------- the facts


def test_the_facts_of_an_account(session: Session) -> None:
    world = book(session)
    # The latest answer counts: a promoter last year, a detractor now.
    answer(session, world.quiet, score=10, at=noon(AS_OF - timedelta(days=400)))
    answer(session, world.quiet, score=5, at=noon(AS_OF - timedelta(days=3)))
    # An answer after as_of does not exist yet.
    answer(session, world.quiet, score=9, at=noon(AS_OF + timedelta(days=1)))
    grade(session, world.quiet, "D", on=AS_OF - timedelta(days=1))
    grade(session, world.quiet, "B")
    # Part of the overdue invoice paid: 8,000 − 3,000 still open, 10 days late.
    invoice = session.scalar(select(Invoice).where(Invoice.customer_id == world.overdue.id))
    make_payment(
        session,
        customer=world.overdue,
        amount="3000.00",
        received=AS_OF - timedelta(days=2),
        invoice=invoice,
    )

    facts = read_facts(session, as_of=AS_OF, settings=SETTINGS)

    def fact(customer: Customer, name: str) -> Any:
        [row], [found] = facts.rows_of([customer.id])
        assert found
        return facts.values[name][row]

    assert fact(world.quiet, "nps_band") == "detractor"
    assert fact(world.quiet, "nps_score") == 5
    assert fact(world.quiet, "nps_age_days") == 3
    assert fact(world.quiet, "credit_grade") == "B"
    assert fact(world.promoter, "credit_grade") is None
    assert fact(world.overdue, "overdue_amount") == 5000.0
    assert fact(world.overdue, "max_days_overdue") == 10
    assert fact(world.quiet, "overdue_amount") == 0
    assert fact(world.growing, "spend_growth") == pytest.approx(0.5)
    assert fact(world.quiet, "spend_growth") != fact(world.quiet, "spend_growth")  # NaN
    assert fact(world.renewal, "contract")
    assert not fact(world.quiet, "contract")
    assert fact(world.promoter, "clv_percentile") == 100
    assert fact(world.small_promoter, "clv_percentile") == 12.5
    assert fact(world.promoter, "clv") == 900000.0
    assert fact(world.quiet, "recency_days") == 0
    assert not fact(world.detractor, "open_detractor_loop")


def test_an_open_detractor_follow_up_keeps_a_promoter_from_being_asked(session: Session) -> None:
    world = book(session)
    response = answer(session, world.promoter, score=2, at=noon(AS_OF - timedelta(days=30)))
    loops.open_for_response(
        session, response, None, FEEDBACK_SETTINGS, now=noon(AS_OF - timedelta(days=30))
    )

    _run(session)

    assert "promoter" not in _by_account(session, world)


def test_a_missing_fact_satisfies_no_condition_not_even_ne(session: Session) -> None:
    world = book(session)
    facts = read_facts(session, as_of=AS_OF, settings=SETTINGS)
    [row], _ = facts.rows_of([world.quiet.id])

    for condition in (
        {"field": "nps_band", "op": "ne", "value": "promoter"},
        {"field": "credit_grade", "op": "not_in", "value": ["E"]},
        {"field": "spend_growth", "op": "ne", "value": 0},
    ):
        assert not next_actions.evaluate(facts, [condition])[row], condition


def test_ordered_choices_compare_by_their_place(session: Session) -> None:
    world = book(session)
    grade(session, world.quiet, "B")
    grade(session, world.promoter, "D")
    facts = read_facts(session, as_of=AS_OF, settings=SETTINGS)
    good = next_actions.evaluate(facts, [{"field": "credit_grade", "op": "le", "value": "B"}])
    watch = next_actions.evaluate(facts, [{"field": "health_band", "op": "lt", "value": "green"}])

    ids = facts.customer_id
    assert set(ids[good].tolist()) == {world.quiet.id}
    assert set(ids[watch].tolist()) == {world.at_risk.id, world.renewal.id}


# ----------------------------------------------------------------------------- ranking and cap


def test_an_account_gets_its_two_best_ranked_actions_only(session: Session) -> None:
    world = book(session)
    # The growing account is also a friendly overdue one and a promoter with the top CLV.
    answer(session, world.growing, score=10, at=noon(AS_OF - timedelta(days=10)))
    next_actions.ensure_default_rules(session)
    action_service.save_rule(
        session,
        ADMIN,
        "referral_ask_promoter",
        {"conditions": [{"field": "nps_band", "op": "eq", "value": "promoter"}]},
    )
    make_invoice(
        session,
        customer=world.growing,
        amount="500.00",
        issued=AS_OF - timedelta(days=35),
        due=AS_OF - timedelta(days=5),
    )

    counts = _run(session)

    growing = [a for a in opened(session) if a.customer_id == world.growing.id]
    # referral (60) and upsell (50) beat the gentle reminder (40): same value at stake.
    assert sorted(a.action for a in growing) == ["referral_ask", "upsell"]
    assert counts["skipped_cap"] == 1
    value = 60000.0  # max(CLV 60,000, revenue 60,000)
    assert {a.action: a.score for a in growing} == {
        "referral_ask": 60 * value,
        "upsell": 50 * value,
    }


def test_the_list_is_ranked_by_priority_times_value_at_stake(session: Session) -> None:
    world = book(session)
    _run(session)
    rep = Actor.for_user(world.rep)

    rows = session.execute(
        action_service.actions_query(rep, action_service.ActionFilter(owner_id=world.rep.id))
    ).all()

    assert [(a.action, a.score) for a, _c, _r in rows] == [
        ("referral_ask", 60 * 900000.0),
        ("renewal", 70 * 70000.0),
        ("re_engage", 80 * 60000.0),
        ("upsell", 50 * 60000.0),
        ("gentle_reminder", 40 * 60000.0),
    ]


def test_an_account_already_holding_two_open_actions_gets_no_third(session: Session) -> None:
    world = book(session)
    _run(session)
    # Next day the promoter also turns out to be overdue and at risk.
    day = AS_OF + timedelta(days=1)
    quiet_ones = (world.quiet, world.small_promoter, world.detractor, world.growing, world.overdue)
    for customer in quiet_ones:
        _rescore(session, customer, day)
    at_risk = {"segment": Segment.AT_RISK, "churn_risk": 0.8, "monetary_score": 5}
    _rescore(session, world.promoter, day, **{**at_risk, "clv": "900000.00"})
    _rescore(session, world.at_risk, day, **at_risk)
    make_invoice(
        session,
        customer=world.promoter,
        amount="100.00",
        issued=AS_OF - timedelta(days=30),
        due=AS_OF - timedelta(days=2),
    )

    counts = _run(session, day)

    promoter = [a.action for a in opened(session) if a.customer_id == world.promoter.id]
    assert promoter == ["referral_ask", "re_engage"]
    assert counts["skipped_cap"] == 1


# ----------------------------------------------------------------------------- no spam


def test_running_the_same_day_again_opens_nothing(session: Session) -> None:
    book(session)
    first = _run(session)
    audits = _audits(session)

    again = _run(session)

    assert first["opened"] == 6
    assert again["opened"] == 0
    assert again["skipped_cooldown"] == 6
    assert session.scalar(select(func.count()).select_from(NextAction)) == 6
    assert _audits(session) == audits


def test_a_dismissed_action_comes_back_only_after_its_cooldown(session: Session) -> None:
    world = book(session)
    _run(session)
    [rescue] = [a for a in opened(session) if a.action == "rescue_detractor"]
    action_service.dismiss(session, rescue.id, ADMIN, reason="已电话沟通", at=noon(AS_OF))

    def on(day: Any) -> list[NextAction]:
        _rescore(session, world.detractor, day, clv="30000.00")
        _run(session, day)
        return [
            a
            for a in opened(session)
            if a.customer_id == world.detractor.id and a.action == "rescue_detractor"
        ]

    assert len(on(AS_OF + timedelta(days=30))) == 1
    assert len(on(AS_OF + timedelta(days=59))) == 1  # cooldown 60 days
    again = on(AS_OF + timedelta(days=60))
    # The detractor's answer is still under 180 days old, so the rule holds again.
    assert len(again) == 2
    assert again[1].status == NextActionStatus.OPEN
    assert again[1].dedupe_key.endswith(":2026-05-01")


def test_an_open_action_is_not_opened_twice_even_after_the_cooldown(session: Session) -> None:
    world = book(session)
    _run(session)
    day = AS_OF + timedelta(days=400)
    _rescore(session, world.renewal, day, health=55, health_trend="down", clv="70000.00")
    # The renewal account is still key and falling; its old action was never worked.
    counts = _run(session, day)

    renewals = [a for a in opened(session) if a.action == "renewal"]
    assert len(renewals) == 1
    assert counts["opened_by_action"].get("renewal") is None


def test_an_action_whose_reason_went_away_expires_after_the_grace(session: Session) -> None:
    world = book(session)
    _run(session)
    [renewal] = [a for a in opened(session) if a.action == "renewal"]

    # The health recovers: not expired during the grace…
    early = AS_OF + timedelta(days=next_actions.EXPIRE_AFTER_DAYS - 1)
    _rescore(session, world.renewal, early, health=75, health_trend="up")
    assert _run(session, early)["expired"] == 0
    session.refresh(renewal)
    assert renewal.status == NextActionStatus.OPEN

    # …then expired on the first run past it where it still does not hold.
    late = AS_OF + timedelta(days=next_actions.EXPIRE_AFTER_DAYS)
    _rescore(session, world.renewal, late, health=75, health_trend="up")
    counts = _run(session, late)

    session.refresh(renewal)
    # The other five accounts were not scored that day: nothing holds for them either.
    assert counts["expired"] == 6
    assert renewal.status == NextActionStatus.EXPIRED
    assert renewal.closed_at is not None
    assert renewal.closed_by_id is None


def test_an_action_whose_reason_still_holds_stays_open(session: Session) -> None:
    world = book(session)
    _run(session)
    late = AS_OF + timedelta(days=30)
    _rescore(session, world.renewal, late, health=50, health_trend="down")

    counts = _run(session, late)

    assert counts["expired"] >= 1  # accounts not rescored that day lose their facts
    [renewal] = [a for a in opened(session) if a.action == "renewal"]
    assert renewal.status == NextActionStatus.OPEN


def test_a_broken_stored_rule_is_skipped_and_reported(session: Session) -> None:
    book(session)
    next_actions.ensure_default_rules(session)
    session.add(
        NextActionRule(
            code="broken",
            name_en="Broken",
            name_zh="坏的",
            action="check_in",
            conditions=[{"field": "nope", "op": "eq", "value": 1}],
        )
    )
    session.flush()

    counts = _run(session)

    assert counts["invalid_rules"] == ["broken"]
    assert counts["opened"] == 6


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("conditions", "message", "index", "problem"),
    [
        (
            [{"field": "nps", "op": "eq", "value": 1}],
            "conditions[0] (nps): unknown field 'nps'",
            0,
            "field",
        ),
        (
            [
                {"field": "health", "op": "ge", "value": 50},
                {"field": "segment", "op": "gt", "value": "loyal"},
            ],
            "conditions[1] (segment): operator 'gt' does not apply to a choice field; use eq, ne, in, not_in",
            1,
            "op",
        ),
        (
            [{"field": "health", "op": "ge", "value": "lots"}],
            "conditions[0] (health): 'lots' is not a number",
            0,
            "value",
        ),
        (
            [{"field": "segment", "op": "in", "value": ["loyal", "gold"]}],
            "conditions[0] (segment): 'gold' is not one of champions, loyal, promising, "
            "needs_attention, at_risk, hibernating, lost, no_purchase",
            0,
            "value",
        ),
        (
            [{"field": "contract", "op": "eq", "value": 1}],
            "conditions[0] (contract): 1 is not true or false",
            0,
            "value",
        ),
        (
            [{"field": "health", "op": "between", "value": 1}],
            "conditions[0] (health): unknown operator 'between'; use one of eq, ne, lt, le, gt, ge, in, not_in",
            0,
            "op",
        ),
        (
            [{"field": "health", "op": "in", "value": 5}],
            "conditions[0] (health): in takes a list of 1 to 50 values",
            0,
            "value",
        ),
        (
            [
                {"field": "health", "op": "ge", "value": 5},
                {"any": [{"field": "x", "op": "eq", "value": 1}]},
            ],
            "conditions[1].any[0] (x): unknown field 'x'",
            1,
            "field",
        ),
        (
            [{"field": "health", "op": "ge"}],
            "conditions[0] (health): the value is missing",
            0,
            "value",
        ),
        (["health >= 5"], 'conditions[0]: expected {"field": …, "op": …, "value": …}', 0, "shape"),
    ],
)
def test_a_bad_condition_is_named_with_its_place_field_and_reason(
    conditions: Any, message: str, index: int, problem: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        next_actions.check_conditions(conditions)

    assert caught.value.message == message
    assert caught.value.details["index"] == index
    assert caught.value.details["problem"] == problem
    assert caught.value.details["field"] == "conditions"


def test_good_conditions_are_kept_in_the_fields_own_types() -> None:
    checked = next_actions.check_conditions(
        [
            {"field": "health", "op": "ge", "value": "60"},
            {"field": "contract", "op": "eq", "value": "true"},
            {"any": [{"field": "p_alive", "op": "lt", "value": 0.5}]},
        ]
    )

    assert checked == [
        {"field": "health", "op": "ge", "value": 60},
        {"field": "contract", "op": "eq", "value": True},
        {"any": [{"field": "p_alive", "op": "lt", "value": 0.5}]},
    ]
    with pytest.raises(ValidationFailed, match="a rule needs 1 to 20 conditions"):
        next_actions.check_conditions([])
    with pytest.raises(ValidationFailed, match="expected a list"):
        next_actions.check_conditions({"field": "health"})


# ----------------------------------------------------------------------------- rules


def test_a_manager_changes_a_rule_and_the_change_is_audited(session: Session) -> None:
    world = book(session)
    next_actions.ensure_default_rules(session)
    manager = Actor.for_user(world.manager)

    rule, created = action_service.save_rule(
        session,
        manager,
        "upsell_growing",
        {"priority": 55, "conditions": [{"field": "spend_growth", "op": "ge", "value": 0.3}]},
    )

    assert created is False
    assert rule.priority == 55
    assert rule.updated_by_id == world.manager.id
    event = session.scalar(
        select(AuditEvent).where(AuditEvent.action == "next_action_rule.updated")
    )
    assert event is not None
    assert event.before is not None
    assert event.after is not None
    assert event.before["priority"] == 50
    assert event.after == {
        "priority": 55,
        "conditions": [{"field": "spend_growth", "op": "ge", "value": 0.3}],
    }
    assert "cooldown_days" not in event.after


def test_a_new_rule_needs_its_names_action_and_conditions(session: Session) -> None:
    with pytest.raises(ValidationFailed, match="name_en: needed to add the rule 'check_c'"):
        action_service.save_rule(session, ADMIN, "check_c", {"priority": 10})
    with pytest.raises(ValidationFailed, match="code: 2 to 40 lowercase"):
        action_service.save_rule(session, ADMIN, "Bad Code", {"priority": 10})

    rule, created = action_service.save_rule(
        session,
        ADMIN,
        "check_c",
        {
            "name_en": "Check in with a C-grade account",
            "name_zh": "回访C级客户",
            "action": "check_in",
            "conditions": [{"field": "credit_grade", "op": "eq", "value": "C"}],
            "cooldown_days": 30,
        },
    )
    assert created
    assert (rule.priority, rule.cooldown_days, rule.due_days, rule.active) == (50, 30, 7, True)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"conditions": [{"field": "nope", "op": "eq", "value": 1}]},
            "conditions[0] (nope): unknown field",
        ),
        ({"priority": 0}, "priority: a whole number from 1 to 100"),
        ({"cooldown_days": 0}, "cooldown_days: a whole number from 1 to 3650"),
        ({"due_days": 1.5}, "due_days: a whole number from 0 to 365"),
        ({"action": "spam"}, "action: 'spam' is not one of"),
        ({"active": "yes"}, "active: true or false"),
        ({"name_zh": " "}, "name_zh: 1 to 120 characters"),
    ],
)
def test_a_bad_rule_change_changes_nothing(
    session: Session, changes: dict[str, Any], message: str
) -> None:
    next_actions.ensure_default_rules(session)
    rule = action_service.get_rule(session, "upsell_growing")
    before = action_service.rule_out(rule)
    audits = _audits(session)

    with pytest.raises(ValidationFailed, match=re.escape(message)):
        action_service.save_rule(session, ADMIN, "upsell_growing", {"priority": 99, **changes})

    session.refresh(rule)
    assert action_service.rule_out(rule) == before
    assert _audits(session) == audits


@pytest.mark.parametrize("role", [Role.SALES, Role.COLLECTOR, Role.FINANCE, Role.VIEWER])
def test_only_managers_and_admins_change_rules(session: Session, role: Role) -> None:
    next_actions.ensure_default_rules(session)
    rule = action_service.get_rule(session, "upsell_growing")
    audits = _audits(session)
    rules = session.scalar(select(func.count()).select_from(NextActionRule))
    someone = Actor(name="someone", role=role, user_id=None)

    with pytest.raises(Forbidden):
        action_service.save_rule(session, someone, "upsell_growing", {"priority": 99})
    with pytest.raises(Forbidden):
        action_service.save_rule(
            session,
            someone,
            "new_rule",
            {
                "name_en": "x",
                "name_zh": "x",
                "action": "check_in",
                "conditions": [{"field": "health", "op": "ge", "value": 1}],
            },
        )

    session.refresh(rule)
    assert rule.priority == 50
    assert _audits(session) == audits
    assert session.scalar(select(func.count()).select_from(NextActionRule)) == rules


# ----------------------------------------------------------------------------- working them


def test_the_owner_marks_his_action_done_with_the_outcome(session: Session) -> None:
    world = book(session)
    _run(session)
    [ask] = [a for a in opened(session) if a.action == "referral_ask"]
    rep = Actor.for_user(world.rep)

    action_service.mark_done(session, ask.id, rep, note="介绍了两家同行", at=noon(AS_OF))

    assert ask.status == NextActionStatus.DONE
    assert ask.outcome_note == "介绍了两家同行"
    assert ask.closed_by_id == world.rep.id
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "next_action.done"))
    assert event is not None
    assert event.customer_id == world.promoter.id
    assert event.before is not None
    assert event.before["status"] == "open"
    assert event.after is not None
    assert event.after["outcome_note"] == "介绍了两家同行"
    with pytest.raises(Conflict):
        action_service.dismiss(session, ask.id, rep, reason="again", at=noon(AS_OF))


def test_a_rival_cannot_see_or_work_anothers_action(session: Session) -> None:
    world = book(session)
    _run(session)
    [ask] = [a for a in opened(session) if a.action == "referral_ask"]
    rival = Actor.for_user(world.rival)
    audits = _audits(session)

    with pytest.raises(NotFound):
        action_service.mark_done(session, ask.id, rival, note="x", at=noon(AS_OF))
    with pytest.raises(NotFound):
        action_service.dismiss(session, ask.id, rival, reason="x", at=noon(AS_OF))
    viewer = Actor(name="viewer", role=Role.VIEWER)
    with pytest.raises(Forbidden):
        action_service.mark_done(session, ask.id, viewer, note="x", at=noon(AS_OF))

    session.refresh(ask)
    assert ask.status == NextActionStatus.OPEN
    assert _audits(session) == audits
    seen = session.execute(action_service.actions_query(rival, action_service.ActionFilter())).all()
    assert [a.action for a, _c, _r in seen] == ["rescue_detractor"]


def test_done_needs_a_note_and_dismiss_a_reason(session: Session) -> None:
    book(session)
    _run(session)
    [ask] = [a for a in opened(session) if a.action == "referral_ask"]

    with pytest.raises(ValidationFailed, match="note: say what came of it"):
        action_service.mark_done(session, ask.id, ADMIN, note="  ", at=noon(AS_OF))
    with pytest.raises(ValidationFailed, match="reason: say why"):
        action_service.dismiss(session, ask.id, ADMIN, reason="", at=noon(AS_OF))
    assert ask.status == NextActionStatus.OPEN


def test_a_manager_reassigns_an_open_action(session: Session) -> None:
    world = book(session)
    _run(session)
    [ask] = [a for a in opened(session) if a.action == "referral_ask"]
    manager = Actor.for_user(world.manager)

    action_service.reassign(session, ask.id, manager, world.manager.id)

    assert ask.owner_id == world.manager.id
    with pytest.raises(ValidationFailed, match="owner: user"):
        action_service.reassign(session, ask.id, manager, 999_999)


def test_the_360_panel_gets_an_accounts_open_actions(session: Session) -> None:
    world = book(session)
    answer(session, world.growing, score=10, at=noon(AS_OF - timedelta(days=10)))
    _run(session)

    items = action_service.open_actions_for(session, world.growing.id, language="zh")

    assert [i["action"] for i in items] == ["upsell"]
    [item] = items
    assert item["rule"] == "upsell_growing"
    assert item["title"] == "向增长中的客户推荐增购"
    assert item["owner"] == world.rep.username
    assert item["chips"] == ["消费增长率: 50%", "健康度区间: 绿", "流失风险: 10%"]
    assert item["due_on"] == AS_OF + timedelta(days=14)
    assert action_service.open_actions_for(session, world.quiet.id) == []


def test_an_account_without_todays_scores_is_not_evaluated(session: Session) -> None:
    world = book(session)
    late = scored(session, owner=world.rep, as_of=AS_OF - timedelta(days=1), clv="1.00")

    facts = read_facts(session, as_of=AS_OF, settings=SETTINGS)

    assert late.id not in facts.customer_id.tolist()
    assert len(facts) == 8


def test_the_cycles_frame_gives_the_same_spend_growth_as_the_orders(session: Session) -> None:
    from flywheel.loyalty.frame import read_frame

    world = book(session)
    make_order(session, customer=world.quiet, on=AS_OF - timedelta(days=365), amount="400.00")
    make_order(session, customer=world.quiet, on=AS_OF - timedelta(days=364), amount="100.00")
    make_order(session, customer=world.quiet, on=AS_OF - timedelta(days=729), amount="100.00")
    make_order(session, customer=world.quiet, on=AS_OF - timedelta(days=730), amount="900.00")

    from_orders = read_facts(session, as_of=AS_OF, settings=SETTINGS)
    from_frame = read_facts(
        session, as_of=AS_OF, settings=SETTINGS, frame=read_frame(session, as_of=AS_OF)
    )

    [row], _ = from_orders.rows_of([world.quiet.id])
    assert from_orders.values["spend_growth"][row] == pytest.approx((100 - 500) / 500)
    assert np.array_equal(
        from_orders.values["spend_growth"], from_frame.values["spend_growth"], equal_nan=True
    )


def test_an_owner_gets_a_days_work_at_a_time_best_ranked_first(session: Session) -> None:
    rep = make_user(session, username="busy.rep")
    values = [f"{10000 * (k + 1)}.00" for k in range(next_actions.MAX_NEW_PER_OWNER_PER_DAY + 2)]
    accounts = []
    for value in values:
        account = scored(
            session,
            owner=rep,
            segment=Segment.AT_RISK,
            monetary_score=5,
            clv=value,
            revenue_12m=Decimal("1000.00"),
        )
        make_loyalty_score(
            session,
            customer=account,
            as_of=AS_OF + timedelta(days=1),
            segment=Segment.AT_RISK,
            monetary_score=5,
            clv=value,
            revenue_12m=Decimal("1000.00"),
        )
        accounts.append(account)

    first_day = _run(session)
    same_day_again = _run(session)
    next_day = _run(session, AS_OF + timedelta(days=1))

    assert first_day["opened"] == next_actions.MAX_NEW_PER_OWNER_PER_DAY
    assert first_day["skipped_owner_cap"] == 2
    assert same_day_again["opened"] == 0  # the day's work was given already
    assert next_day["opened"] == 2
    waited = {a.customer_id for a in opened(session) if a.created_on == AS_OF + timedelta(days=1)}
    assert waited == {accounts[0].id, accounts[1].id}  # the two of least value waited a day
