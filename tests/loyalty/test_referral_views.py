"""The referral pages, signed in through the form: the list with its KPIs and filters, the new
referral form (preset from an account's 360, bad input shown on the form and nothing
written), the detail page's status and reward forms with the timeline, and the reward rules
editor; in English and Chinese."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.models.enums import Role
from flywheel.models.loyalty import Referral, ReferralRewardRule
from flywheel.models.receivables import CreditNote
from flywheel.models.users import User
from flywheel.web.contract import today
from tests.factories import make_contact, make_customer, make_invoice
from tests.web.pages import ADMIN, audit_count, make_person, sign_in


def _rep(session: Session, name: str = "li.wei", *, language: str = "en") -> User:
    return make_person(session, name, role=Role.SALES, language=language)


def _referrals(session: Session) -> int:
    session.flush()
    return session.scalar(select(func.count(Referral.id))) or 0


def test_the_form_from_a_360_presets_the_referrer_and_records_the_lead(
    client: TestClient, session: Session
) -> None:
    rep = _rep(session)
    referrer = make_customer(session, name="东方机电", owner=rep)
    contact = make_contact(session, customer=referrer, name="赵总")
    csrf = sign_in(client, "li.wei")

    form = client.get(f"/loyalty/referrals/new?customer={referrer.id}")
    assert form.status_code == 200
    assert f'name="customer" value="{referrer.code}"' in form.text
    assert f'<option value="{contact.id}" >赵总</option>' in form.text.replace('"  >', '" >')

    made = client.post(
        "/loyalty/referrals",
        data={
            "csrf_token": csrf,
            "customer": referrer.code,
            "referrer_contact_id": str(contact.id),
            "lead_company": "南山精工",
            "lead_contact": "钱经理",
            "referred_on": today().isoformat(),
        },
        follow_redirects=False,
    )

    assert made.status_code == 303, made.text
    referral = session.scalar(select(Referral))
    assert referral is not None
    assert made.headers["location"] == f"/loyalty/referrals/{referral.id}"
    assert (referral.lead_company, referral.referrer_contact_id) == ("南山精工", contact.id)
    page = client.get(made.headers["location"])
    assert "Referral recorded." in page.text
    assert 'data-action="referral.recorded"' in page.text
    listed = client.get("/loyalty/referrals?q=南山")
    assert f'data-referral="{referral.id}"' in listed.text
    assert 'data-testid="referral-kpis"' in listed.text
    assert 'href="/loyalty/referrals" class="current"' in listed.text


def test_bad_input_shows_on_the_form_and_writes_nothing(
    client: TestClient, session: Session
) -> None:
    rep = _rep(session)
    referrer = make_customer(session, owner=rep)
    csrf = sign_in(client, "li.wei")
    before = (_referrals(session), audit_count(session))

    nameless = client.post(
        "/loyalty/referrals",
        data={"csrf_token": csrf, "customer": referrer.code, "referred_on": "yesterday-ish"},
    )
    unknown = client.post(
        "/loyalty/referrals",
        data={"csrf_token": csrf, "customer": "NOPE-1", "lead_company": "某公司"},
    )
    no_csrf = client.post(
        "/loyalty/referrals", data={"customer": referrer.code, "lead_company": "某公司"}
    )

    assert nameless.status_code == 422
    assert "Not a date" in nameless.text
    assert unknown.status_code == 422
    assert "customer NOPE-1 not found" in unknown.text
    assert 'value="某公司"' in unknown.text
    assert no_csrf.status_code == 403
    assert (_referrals(session), audit_count(session)) == before


def test_the_status_and_reward_forms_on_the_detail_page(
    client: TestClient, session: Session
) -> None:
    rep = _rep(session)
    make_person(session, "qian.cw", role=Role.FINANCE)
    referrer = make_customer(session, name="东方机电", owner=rep)
    newcomer = make_customer(session, name="南山精工", owner=rep)
    make_invoice(session, customer=referrer, amount="2000.00")
    from flywheel.loyalty import referral_rewards, referrals

    referral_rewards.create_rule(
        session, actor=ADMIN, values={"name": "默认", "kind": "credit_note", "amount": "500"}
    )
    referral = referrals.record_referral(
        session,
        actor=ADMIN,
        customer=referrer.code,
        lead_company="南山精工",
        referred_on=today(),
    )
    csrf = sign_in(client, "li.wei")
    url = f"/loyalty/referrals/{referral.id}"
    before = audit_count(session)

    refused = client.post(f"{url}/status", data={"csrf_token": csrf, "status": "won"})
    assert refused.status_code == 422
    assert "Name the account the lead became." in refused.text
    assert referral.status == "lead"
    assert audit_count(session) == before

    done = client.post(
        f"{url}/status",
        data={"csrf_token": csrf, "status": "won", "referred_customer": newcomer.code},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    session.refresh(referral)
    assert (referral.status, referral.reward_status) == ("won", "pending")
    page = client.get(url)
    assert 'id="reward-form"' not in page.text  # a sales rep does not grant
    assert 'id="status-form"' not in page.text  # won is final

    client.post("/sign-out", data={"csrf_token": csrf})
    csrf = sign_in(client, "qian.cw")
    missing_reason = client.post(f"{url}/reward", data={"csrf_token": csrf, "decision": "decline"})
    assert missing_reason.status_code == 422
    assert "Say why the reward is declined." in missing_reason.text
    granted = client.post(
        f"{url}/reward", data={"csrf_token": csrf, "decision": "grant"}, follow_redirects=False
    )
    assert granted.status_code == 303, granted.text
    session.refresh(referral)
    assert referral.reward_status == "granted"
    note = session.get(CreditNote, referral.reward_credit_note_id)
    assert note is not None
    history = client.get(url).text
    assert 'data-action="credit_note.issued"' in history
    assert 'data-action="referral.reward_granted"' in history
    assert note.number in history


def test_the_rules_editor_for_a_manager_in_chinese(client: TestClient, session: Session) -> None:
    make_person(session, "wang.jl", role=Role.MANAGER, language="zh")
    csrf = sign_in(client, "wang.jl")

    bad = client.post(
        "/loyalty/referrals/rules",
        data={"csrf_token": csrf, "name": "九五折", "kind": "discount", "percent": "abc"},
    )
    assert bad.status_code == 422
    assert session.scalar(select(func.count(ReferralRewardRule.id))) == 0

    made = client.post(
        "/loyalty/referrals/rules",
        data={
            "csrf_token": csrf,
            "name": "九五折",
            "kind": "discount",
            "percent": "5",
            "currency": "cny",
            "active": "1",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    page = client.get("/loyalty/referrals/rules")
    assert "九五折" in page.text
    assert "奖励规则" in page.text
    rule = session.scalar(select(ReferralRewardRule))
    assert rule is not None
    off = client.post(
        f"/loyalty/referrals/rules/{rule.id}",
        data={"csrf_token": csrf, "name": "九五折", "kind": "discount", "percent": "5"},
        follow_redirects=False,
    )
    assert off.status_code == 303
    session.refresh(rule)
    assert rule.active is False


def test_a_sales_rep_cannot_edit_rules_nor_see_anothers_referral(
    client: TestClient, session: Session
) -> None:
    _rep(session)
    other = _rep(session, "zhao.min")
    foreign = make_customer(session, owner=other)
    from flywheel.loyalty import referrals

    referral = referrals.record_referral(
        session, actor=ADMIN, customer=foreign.code, lead_company="某公司", referred_on=today()
    )
    csrf = sign_in(client, "li.wei")
    before = audit_count(session)

    rules = client.post(
        "/loyalty/referrals/rules",
        data={"csrf_token": csrf, "name": "x", "kind": "credit_note", "amount": "1"},
    )
    hidden = client.get(f"/loyalty/referrals/{referral.id}")
    moved = client.post(
        f"/loyalty/referrals/{referral.id}/status", data={"csrf_token": csrf, "status": "contacted"}
    )

    assert rules.status_code == 403
    assert hidden.status_code == 404
    assert moved.status_code == 404
    assert referral.status == "lead"
    assert audit_count(session) == before


def test_the_list_and_the_detail_in_chinese(client: TestClient, session: Session) -> None:
    rep = _rep(session, "chen.jing", language="zh")
    referrer = make_customer(session, name="东方机电", owner=rep)
    from flywheel.loyalty import referrals

    referral = referrals.record_referral(
        session, actor=ADMIN, customer=referrer.code, lead_company="北岸物流", referred_on=today()
    )
    sign_in(client, "chen.jing")

    listed = client.get("/loyalty/referrals?status=all")
    detail = client.get(f"/loyalty/referrals/{referral.id}")

    assert listed.status_code == 200
    assert "新增转介绍" in listed.text
    assert "线索" in listed.text
    assert detail.status_code == 200
    assert "变更状态" in detail.text
    assert "记录转介绍" in detail.text  # the timeline's first entry
