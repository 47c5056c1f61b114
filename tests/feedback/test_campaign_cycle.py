"""The campaign cycle on the test database: events become invitations, due invitations are
queued in the outbox after the protection rules, one reminder, expiry, scheduled relationship
surveys; a second run changes nothing."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.feedback import cycle, invitation_sending, messages, tokens
from flywheel.models.enums import (
    BuyingRole,
    InvitationStatus,
    ScoreBand,
    SkipReason,
    SurveyKind,
    Tier,
    TouchpointKind,
)
from flywheel.models.feedback import SurveyInvitation, SurveyOptOut, SurveyResponse
from tests.feedback.campaign_support import (
    account,
    default_campaign,
    delivered,
    invitations,
    make_campaign,
    only_campaigns,
    outbox_rows,
    paid_invoice,
    person,
    resolved_dispute,
    settings_of,
    touchpoint,
)

DAY = date(2026, 3, 2)
SETTINGS = settings_of()


def test_a_delivery_plans_one_invitation_sent_on_its_day_with_a_working_link(
    session: Session,
) -> None:
    only_campaigns(session, "CSAT after delivery")
    customer = account(session)
    main = person(session, customer, name="王建国", role=BuyingRole.USER)
    person(session, customer, name="李娜", role=BuyingRole.FINANCE)
    order = delivered(session, customer, DAY)

    first = cycle.run(session, DAY, SETTINGS)
    again = cycle.run(session, DAY, SETTINGS)

    [invitation] = invitations(session, customer_id=customer.id)
    campaign = default_campaign(session, "CSAT after delivery")
    assert first.planned == {"order_delivered": 1}
    assert again.as_dict()["planned"] == 0
    assert invitation.contact_id == main.id  # the main contact: the first one added
    assert invitation.dedupe_key == f"{campaign.id}:order:{order.id}:{main.id}"
    assert (invitation.status, invitation.send_on) == ("scheduled", DAY + timedelta(days=2))
    assert (invitation.touchpoint_kind, invitation.language) == ("delivery", "zh")
    assert outbox_rows(session) == []

    sent = cycle.run(session, DAY + timedelta(days=2), SETTINGS)
    resent = cycle.run(session, DAY + timedelta(days=2), SETTINGS)

    session.refresh(invitation)
    assert (sent.sent, resent.sent) == (1, 0)
    assert invitation.status == "sent"
    assert invitation.sent_at is not None
    assert invitation.sent_at.date() == DAY + timedelta(days=2)
    assert invitation.expires_at == invitation.sent_at + timedelta(days=30)
    [message] = outbox_rows(session)
    assert message.dedupe_key == f"survey-invite:{invitation.id}"
    assert message.recipient == main.email
    assert message.language == "zh"
    assert message.customer_id == customer.id
    assert message.subject == "Acme Valves 阿克米阀门邀请您参与「交付满意度（CSAT）」"
    assert "王建国您好" in message.body
    assert "退订" in message.body
    link = next(line for line in message.body.splitlines() if line.startswith("https://"))
    token = link.removeprefix("https://survey.acme.example/s/")
    assert tokens.looks_like_token(token)
    assert tokens.hash_token(token) == invitation.token_hash
    assert message.body_html is not None
    assert link in message.body_html


def test_an_english_contact_gets_the_english_e_mail(session: Session) -> None:
    only_campaigns(session, "CSAT after delivery")
    customer = account(session)
    person(session, customer, name="Ann Lee", language="en", role=None)
    delivered(session, customer, DAY)

    cycle.run(session, DAY, SETTINGS)
    cycle.run(session, DAY + timedelta(days=2), SETTINGS)

    [message] = outbox_rows(session)
    assert message.language == "en"
    assert message.subject == (
        "Acme Valves 阿克米阀门 would like your feedback: Delivery satisfaction (CSAT)"
    )
    assert message.body.startswith("Dear Ann Lee,")
    assert "opt out" in message.body


def test_an_opted_out_contact_is_never_sent_and_a_contact_without_e_mail_is_skipped(
    session: Session,
) -> None:
    only_campaigns(session, "CSAT after delivery")
    quiet, silent = account(session), account(session)
    wang = person(session, quiet)
    person(session, silent, email=None)
    session.add(SurveyOptOut(contact_id=wang.id, customer_id=quiet.id, source="survey_page"))
    delivered(session, quiet, DAY)
    delivered(session, silent, DAY)

    result = cycle.run(session, DAY + timedelta(days=2), SETTINGS)

    assert result.sent == 0
    assert result.skipped == {"opted_out": 1, "no_email": 1}
    found = {(i.customer_id, i.status, i.skip_reason) for i in invitations(session)}
    assert found == {
        (quiet.id, "skipped", SkipReason.OPTED_OUT.value),
        (silent.id, "skipped", SkipReason.NO_EMAIL.value),
    }
    assert outbox_rows(session) == []


def test_a_contact_surveyed_by_any_campaign_within_the_minimum_days_is_skipped(
    session: Session,
) -> None:
    only_campaigns(session, "CSAT after delivery")
    support = make_campaign(session, trigger="touchpoint", touchpoint_kind="support", delay_days=0)
    customer = account(session)
    wang = person(session, customer)
    delivered(session, customer, DAY)
    cycle.run(session, DAY + timedelta(days=2), SETTINGS)  # the CSAT goes out
    touchpoint(
        session, customer, contact=wang, kind=TouchpointKind.SUPPORT, on=DAY + timedelta(days=30)
    )

    result = cycle.run(session, DAY + timedelta(days=30), SETTINGS)

    [nps] = invitations(session, campaign_id=support.id)
    assert (nps.status, nps.skip_reason) == ("skipped", "recently_surveyed")
    assert result.skipped == {"recently_surveyed": 1}
    assert len(outbox_rows(session, "survey-invite:")) == 1

    # After the minimum days, the next event's survey goes out.
    touchpoint(
        session, customer, contact=wang, kind=TouchpointKind.SUPPORT, on=DAY + timedelta(days=95)
    )
    later = cycle.run(session, DAY + timedelta(days=95), SETTINGS)
    assert later.sent == 1


def test_a_contact_gets_at_most_one_survey_per_run(session: Session) -> None:
    only_campaigns(session, "CSAT after delivery")
    customer = account(session)
    person(session, customer)
    delivered(session, customer, DAY)
    delivered(session, customer, DAY)

    result = cycle.run(session, DAY + timedelta(days=2), SETTINGS)

    assert result.sent == 1
    assert sorted(i.status for i in invitations(session)) == ["sent", "skipped"]
    # With no minimum days, the second one waits for the next run instead.
    other = account(session)
    person(session, other)
    delivered(session, other, DAY + timedelta(days=10))
    delivered(session, other, DAY + timedelta(days=10))
    no_minimum = settings_of(survey_min_days_between=0)
    first = cycle.run(session, DAY + timedelta(days=12), no_minimum)
    second = cycle.run(session, DAY + timedelta(days=13), no_minimum)
    assert (first.sent, first.deferred, second.sent) == (1, 1, 1)
    assert [i.status for i in invitations(session, customer_id=other.id)] == ["sent", "sent"]


def test_the_sample_rate_is_a_reproducible_share_of_the_invitations() -> None:
    keys = [f"7:order:{n}:{n * 3}" for n in range(20_000)]

    chosen = [k for k in keys if invitation_sending.in_sample(k, 0.25)]

    assert 4_700 <= len(chosen) <= 5_300
    assert chosen == [k for k in keys if invitation_sending.in_sample(k, 0.25)]
    assert all(invitation_sending.in_sample(k, 1.0) for k in keys[:100])


def test_a_sampled_campaign_sends_to_its_share_and_a_rerun_chooses_the_same(
    session: Session,
) -> None:
    only_campaigns(session)
    sampled = make_campaign(session, sample_rate=0.5)
    for _ in range(40):
        customer = account(session)
        person(session, customer)
        delivered(session, customer, DAY)

    result = cycle.run(session, DAY, SETTINGS)

    found = invitations(session, campaign_id=sampled.id)
    expected = {i.id for i in found if invitation_sending.in_sample(i.dedupe_key, 0.5)}
    assert {i.id for i in found if i.status == "sent"} == expected
    assert result.skipped == {"sampled_out": 40 - len(expected)}
    assert 8 <= len(expected) <= 32
    assert {i.skip_reason for i in found if i.status == "skipped"} == {"sampled_out"}
    assert cycle.run(session, DAY, SETTINGS).sent == 0


def test_one_reminder_after_the_days_and_none_to_who_answered(session: Session) -> None:
    only_campaigns(session, "CSAT after delivery")  # reminder after 5 days
    customer, other = account(session), account(session)
    wang = person(session, customer)
    li = person(session, other)
    delivered(session, customer, DAY)
    delivered(session, other, DAY)
    cycle.run(session, DAY + timedelta(days=2), SETTINGS)
    answered = invitations(session, contact_id=li.id)[0]
    answered.status = InvitationStatus.ANSWERED.value
    answered.answered_at = answered.sent_at
    session.flush()

    early = cycle.run(session, DAY + timedelta(days=6), SETTINGS)
    due = cycle.run(session, DAY + timedelta(days=7), SETTINGS)
    again = cycle.run(session, DAY + timedelta(days=8), SETTINGS)

    assert (early.reminded, due.reminded, again.reminded) == (0, 1, 0)
    [invitation] = invitations(session, contact_id=wang.id)
    [reminder] = outbox_rows(session, "survey-remind:")
    assert reminder.dedupe_key == f"survey-remind:{invitation.id}"
    assert reminder.subject.startswith("提醒：")
    [invite] = outbox_rows(session, f"survey-invite:{invitation.id}")
    link = [line for line in invite.body.splitlines() if line.startswith("https://")]
    assert link
    assert link[0] in reminder.body


def test_links_past_their_day_expire_and_get_no_reminder(session: Session) -> None:
    only_campaigns(session)
    short = make_campaign(session, expires_after_days=3, reminder_after_days=None)
    customer = account(session)
    person(session, customer)
    delivered(session, customer, DAY)
    cycle.run(session, DAY, SETTINGS)

    before = cycle.run(session, DAY + timedelta(days=2), SETTINGS)
    after = cycle.run(session, DAY + timedelta(days=4), SETTINGS)

    [invitation] = invitations(session, campaign_id=short.id)
    assert (before.expired, after.expired) == (0, 1)
    assert invitation.status == "expired"
    assert outbox_rows(session, "survey-remind:") == []


def test_a_switched_off_campaign_sends_nothing_it_had_scheduled(session: Session) -> None:
    only_campaigns(session, "CSAT after delivery")
    customer = account(session)
    person(session, customer)
    delivered(session, customer, DAY)
    cycle.run(session, DAY, SETTINGS)
    default_campaign(session, "CSAT after delivery").active = False
    session.flush()

    result = cycle.run(session, DAY + timedelta(days=2), SETTINGS)

    [invitation] = invitations(session, customer_id=customer.id)
    assert (invitation.status, invitation.skip_reason) == ("skipped", "inactive")
    assert result.sent == 0


def test_events_older_than_the_catch_up_window_are_let_go(session: Session) -> None:
    only_campaigns(session, "CSAT after delivery")  # two days' delay
    customer = account(session)
    person(session, customer)
    delivered(session, customer, DAY - timedelta(days=9))  # day of sending + 7 = DAY
    delivered(session, customer, DAY - timedelta(days=10))

    result = cycle.run(session, DAY, SETTINGS)

    assert result.planned == {"order_delivered": 1}
    [invitation] = invitations(session, customer_id=customer.id)
    assert invitation.send_on == DAY - timedelta(days=7)
    assert invitation.status == "sent"  # caught up at once


def test_support_touchpoints_disputes_and_paid_invoices_invite_the_right_contact(
    session: Session,
) -> None:
    only_campaigns(session, "NPS after support touchpoints", "CES after a dispute is resolved")
    paid = make_campaign(session, trigger="invoice_paid", delay_days=1)
    customer = account(session)
    boss = person(session, customer, role=BuyingRole.DECISION_MAKER)
    user = person(session, customer, role=BuyingRole.USER)
    payer = person(session, customer, role=BuyingRole.FINANCE)
    touchpoint(session, customer, contact=user, kind=TouchpointKind.SUPPORT, on=DAY)
    touchpoint(session, customer, contact=boss, kind=TouchpointKind.VISIT, on=DAY)
    dispute = resolved_dispute(session, customer, DAY)
    invoice_id = paid_invoice(session, customer, DAY)

    result = cycle.run(session, DAY, settings_of(survey_min_days_between=0))

    assert result.planned == {"touchpoint": 1, "dispute_resolved": 1, "invoice_paid": 1}
    by_ref = {i.event_ref.split(":")[0]: i for i in invitations(session) if i.event_ref}
    assert by_ref["touchpoint"].contact_id == user.id  # the touchpoint's own contact
    assert by_ref["touchpoint"].touchpoint_kind == "support"
    assert by_ref["dispute"].contact_id == payer.id  # the campaign asks finance
    assert by_ref["dispute"].event_ref == f"dispute:{dispute.id}"
    assert by_ref["invoice"].contact_id == payer.id  # the payer first
    assert by_ref["invoice"].event_ref == f"invoice:{invoice_id}"
    assert by_ref["invoice"].campaign_id == paid.id


def test_a_milestone_reported_by_another_module_plans_once(session: Session) -> None:
    only_campaigns(session)
    milestone = make_campaign(session, trigger="milestone_done", delay_days=3)
    customer = account(session, tier=Tier.KEY)
    person(session, customer)

    first = cycle.record_event(
        session,
        trigger=milestone.trigger,
        customer_id=customer.id,
        ref="milestone:5",
        occurred_on=DAY,
        settings=SETTINGS,
    )
    again = cycle.record_event(
        session,
        trigger=milestone.trigger,
        customer_id=customer.id,
        ref="milestone:5",
        occurred_on=DAY,
        settings=SETTINGS,
    )

    assert (first, again) == (1, 0)
    [invitation] = invitations(session, campaign_id=milestone.id)
    assert invitation.send_on == DAY + timedelta(days=3)


def test_a_scheduled_campaign_invites_every_stakeholder_then_moves_to_its_next_run(
    session: Session,
) -> None:
    only_campaigns(session, "Quarterly relationship NPS of key accounts")
    quarterly = default_campaign(session, "Quarterly relationship NPS of key accounts")
    assert quarterly.next_run_on == date(2026, 4, 1)
    key, small = account(session, tier=Tier.KEY), account(session)
    boss = person(session, key, role=BuyingRole.DECISION_MAKER)
    payer = person(session, key, role=BuyingRole.FINANCE)
    person(session, key, role=BuyingRole.USER)
    person(session, small, role=BuyingRole.DECISION_MAKER)

    early = cycle.run(session, date(2026, 3, 31), SETTINGS)
    result = cycle.run(session, date(2026, 4, 3), SETTINGS)
    again = cycle.run(session, date(2026, 4, 3), SETTINGS)

    assert early.schedules_run == 0
    assert (result.schedules_run, result.sent, again.schedules_run) == (1, 2, 0)
    found = invitations(session, campaign_id=quarterly.id)
    assert {i.contact_id for i in found} == {boss.id, payer.id}
    assert {i.event_ref for i in found} == {"schedule:2026-04-01"}
    assert {i.touchpoint_kind for i in found} == {None}
    session.refresh(quarterly)
    assert quarterly.next_run_on == date(2026, 7, 1)


def test_the_result_says_what_the_run_did(session: Session) -> None:
    only_campaigns(session, "CSAT after delivery")
    customer = account(session)
    person(session, customer)
    delivered(session, customer, DAY)

    shape = cycle.run(session, DAY + timedelta(days=2), SETTINGS).as_dict()

    assert {k: v for k, v in shape.items() if k != "seconds"} == {
        "as_of": "2026-03-04",
        "planned": 1,
        "planned_by_trigger": {"order_delivered": 1},
        "no_contact": 0,
        "schedules_run": 0,
        "sent": 1,
        "skipped": 0,
        "skipped_by_reason": {},
        "deferred": 0,
        "reminded": 0,
        "expired": 0,
    }
    assert set(shape["seconds"]) == {"plan", "expire", "send", "remind"}


# ---------------------------------------------------------------- the promoter's thank-you


def _answer(
    session: Session, invitation: SurveyInvitation, score: int, kind: str
) -> SurveyResponse:
    from flywheel.feedback.surveys import band

    response = SurveyResponse(
        invitation_id=invitation.id,
        survey_id=invitation.survey_id,
        campaign_id=invitation.campaign_id,
        customer_id=invitation.customer_id,
        contact_id=invitation.contact_id,
        kind=kind,
        score=score,
        scale_min=0 if kind == SurveyKind.NPS else 1,
        scale_max=10 if kind == SurveyKind.NPS else 5,
        band=band(kind, score).value,
        answers={},
        language=invitation.language,
        answered_at=invitation.sent_at or invitation.created_at,
    )
    session.add(response)
    session.flush()
    return response


def test_a_promoter_is_thanked_once_and_asked_for_a_referral_at_most_every_so_many_days(
    session: Session,
) -> None:
    only_campaigns(session, "CSAT after delivery")
    customer = account(session)
    wang = person(session, customer)
    for day in (
        DAY,
        DAY + timedelta(days=100),
        DAY + timedelta(days=200),
        DAY + timedelta(days=300),
    ):
        delivered(session, customer, day)
        cycle.run(session, day + timedelta(days=2), SETTINGS)
    sent = [i for i in invitations(session, contact_id=wang.id) if i.sent_at is not None]
    assert len(sent) == 4
    first, second, third, fourth = (_answer(session, i, 5, SurveyKind.CSAT) for i in sent)
    moment = {r.id: sent[n].sent_at for n, r in enumerate((first, second, third, fourth))}

    assert messages.thank_promoter(session, first, SETTINGS, now=moment[first.id]) is True
    assert messages.thank_promoter(session, first, SETTINGS, now=moment[first.id]) is False
    assert messages.thank_promoter(session, second, SETTINGS, now=moment[second.id]) is True
    assert messages.thank_promoter(session, third, SETTINGS, now=moment[third.id]) is True

    assert (first.referral_asked, second.referral_asked, third.referral_asked) == (
        True,
        False,  # 100 days after the ask
        True,  # 200 days after it
    )
    assert first.thanked_at == moment[first.id]
    rows = {m.dedupe_key: m for m in outbox_rows(session, "survey-thanks:")}
    assert set(rows) == {f"survey-thanks:{r.id}" for r in (first, second, third)}
    assert "推荐" in rows[f"survey-thanks:{first.id}"].body
    assert "推荐" not in rows[f"survey-thanks:{second.id}"].body
    never = settings_of(referral_ask_days=0)
    assert messages.thank_promoter(session, fourth, never, now=moment[fourth.id]) is True
    assert fourth.referral_asked is False


def test_a_detractor_or_a_contact_without_e_mail_gets_no_thank_you(session: Session) -> None:
    only_campaigns(session, "CSAT after delivery")
    customer = account(session)
    wang = person(session, customer)
    delivered(session, customer, DAY)
    cycle.run(session, DAY + timedelta(days=2), SETTINGS)
    [invitation] = invitations(session, contact_id=wang.id)
    unhappy = _answer(session, invitation, 2, SurveyKind.CSAT)
    assert unhappy.band == ScoreBand.NEGATIVE

    assert messages.thank_promoter(session, unhappy, SETTINGS) is False
    unhappy.band = ScoreBand.POSITIVE.value
    wang.email = None
    session.flush()
    assert messages.thank_promoter(session, unhappy, SETTINGS) is False
    assert unhappy.thanked_at is None
    assert session.scalar(select(func.count()).where(SurveyInvitation.id == invitation.id)) == 1
    assert outbox_rows(session, "survey-thanks:") == []
