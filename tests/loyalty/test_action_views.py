"""The next-best-action pages, signed in through the form: a rep's ranked list with the reason
in his language, done and dismiss from a row, a manager's view of everyone's with the owner
filter, and the rules page where a bad edit shows its error and changes nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.loyalty import next_actions
from flywheel.models.enums import NextActionStatus, Role
from flywheel.models.loyalty import NextAction, NextActionRule
from tests.loyalty.action_support import AS_OF, SETTINGS, Book, book, noon, opened
from tests.web.pages import audit_count, make_person, sign_in


def _world(session: Session, *, language: str = "en") -> Book:
    rep = make_person(session, "li.wei", role=Role.SALES, language=language)
    manager = make_person(session, "zhao.min", role=Role.MANAGER, language="en")
    world = book(session, rep=rep, manager=manager)
    next_actions.run(session, as_of=AS_OF, settings=SETTINGS, now=noon(AS_OF))
    return world


def _of(session: Session, kind: str) -> NextAction:
    [found] = [a for a in opened(session) if a.action == kind]
    return found


def test_the_rep_sees_his_actions_ranked_with_the_reason(
    client: TestClient, session: Session
) -> None:
    world = _world(session)
    sign_in(client, "li.wei")

    page = client.get("/loyalty/actions")

    assert page.status_code == 200
    text = page.text
    kinds = ("referral_ask", "renewal", "re_engage", "upsell", "gentle_reminder")
    places = [text.index(f'data-kind="{k}"') for k in kinds]
    assert places == sorted(places)
    assert 'data-kind="rescue_detractor"' not in text  # the rival's account
    assert "Ask a high-value promoter for a referral" in text
    assert "latest NPS answer: promoter" in text
    assert "CLV percentile: 100" in text
    assert world.promoter.code in text
    assert 'href="/loyalty/actions" class="current"' in text
    assert 'name="csrf_token"' in text


def test_the_page_speaks_chinese_to_a_chinese_user(client: TestClient, session: Session) -> None:
    _world(session, language="zh")
    sign_in(client, "li.wei")

    page = client.get("/loyalty/actions")

    assert "请高价值推荐者转介绍" in page.text
    assert "最近NPS评价: 推荐者" in page.text
    assert "下一步最佳行动" in page.text


def test_done_and_dismiss_from_a_row(client: TestClient, session: Session) -> None:
    _world(session)
    csrf = sign_in(client, "li.wei")
    ask, upsell = _of(session, "referral_ask"), _of(session, "upsell")

    refused = client.post(f"/loyalty/actions/{ask.id}/done", data={"note": " ", "csrf_token": csrf})
    assert refused.status_code == 422
    assert "Say what came of it." in refused.text
    assert ask.status == NextActionStatus.OPEN

    done = client.post(
        f"/loyalty/actions/{ask.id}/done",
        data={
            "note": "介绍了两家同行",
            "csrf_token": csrf,
            "back": "/loyalty/actions?action=referral_ask",
        },
        follow_redirects=False,
    )
    dismissed = client.post(
        f"/loyalty/actions/{upsell.id}/dismiss",
        data={"reason": "预算冻结", "csrf_token": csrf, "back": "https://evil.example/"},
        follow_redirects=False,
    )

    assert done.status_code == 303
    assert done.headers["location"] == "/loyalty/actions?action=referral_ask"
    assert dismissed.headers["location"] == "/loyalty/actions"
    session.refresh(ask)
    session.refresh(upsell)
    assert (ask.status, ask.outcome_note) == (NextActionStatus.DONE, "介绍了两家同行")
    assert (upsell.status, upsell.outcome_note) == (NextActionStatus.DISMISSED, "预算冻结")
    after = client.get("/loyalty/actions?status=all").text
    assert "介绍了两家同行" in after


def test_a_form_without_its_csrf_token_changes_nothing(
    client: TestClient, session: Session
) -> None:
    _world(session)
    sign_in(client, "li.wei")
    ask = _of(session, "referral_ask")
    audits = audit_count(session)

    answer = client.post(f"/loyalty/actions/{ask.id}/done", data={"note": "x"})

    assert answer.status_code in (400, 403)
    session.refresh(ask)
    assert ask.status == NextActionStatus.OPEN
    assert audit_count(session) == audits


def test_a_manager_sees_everyones_and_filters_by_owner(
    client: TestClient, session: Session
) -> None:
    world = _world(session)
    sign_in(client, "zhao.min")

    everyone = client.get("/loyalty/actions").text
    rivals = client.get(f"/loyalty/actions?owner={world.rival.id}").text

    assert everyone.count('class="nba-row') == 6
    assert rivals.count('class="nba-row') == 1
    assert 'data-kind="rescue_detractor"' in rivals


def test_the_rules_page_lists_rules_and_facts(client: TestClient, session: Session) -> None:
    _world(session)
    sign_in(client, "li.wei")

    page = client.get("/loyalty/rules")

    assert page.status_code == 200
    assert 'data-rule="prepare_renewal"' in page.text
    assert "buys on contract = yes" in page.text
    assert "<code>credit_grade</code>" in page.text
    assert 'action="/loyalty/rules/' not in page.text  # a rep may not edit them


def _form(rule: NextActionRule, csrf: str, **changes: str) -> dict[str, str]:
    import json

    data = {
        "csrf_token": csrf,
        "name_zh": rule.name_zh,
        "name_en": rule.name_en,
        "priority": str(rule.priority),
        "cooldown_days": str(rule.cooldown_days),
        "due_days": str(rule.due_days),
        "conditions": json.dumps(rule.conditions),
        "active": "1",
    }
    data.update(changes)
    return data


def test_a_manager_edits_a_rule_and_a_bad_edit_changes_nothing(
    client: TestClient, session: Session
) -> None:
    _world(session)
    csrf = sign_in(client, "zhao.min")
    rule = session.scalar(select(NextActionRule).where(NextActionRule.code == "upsell_growing"))
    assert rule is not None
    audits = audit_count(session)

    bad_json = client.post(
        "/loyalty/rules/upsell_growing", data=_form(rule, csrf, priority="70", conditions="[{")
    )
    bad_field = client.post(
        "/loyalty/rules/upsell_growing",
        data=_form(
            rule, csrf, priority="70", conditions='[{"field": "mood", "op": "eq", "value": 1}]'
        ),
    )
    session.refresh(rule)
    assert bad_json.status_code == 422
    assert "not valid JSON" in bad_json.text
    assert bad_field.status_code == 422
    assert "conditions[0] (mood): unknown field &#39;mood&#39;" in bad_field.text
    assert rule.priority == 50
    assert audit_count(session) == audits

    saved = client.post(
        "/loyalty/rules/upsell_growing",
        data=_form(rule, csrf, priority="70", active=""),
        follow_redirects=False,
    )

    assert saved.status_code == 303
    session.refresh(rule)
    assert (rule.priority, rule.active) == (70, False)
    assert audit_count(session) == audits + 1


def test_a_rep_may_not_post_a_rule(client: TestClient, session: Session) -> None:
    _world(session)
    csrf = sign_in(client, "li.wei")
    rule = session.scalar(select(NextActionRule).where(NextActionRule.code == "upsell_growing"))
    assert rule is not None
    audits = audit_count(session)

    answer = client.post("/loyalty/rules/upsell_growing", data=_form(rule, csrf, priority="99"))

    assert answer.status_code == 403
    session.refresh(rule)
    assert rule.priority == 50
    assert audit_count(session) == audits
