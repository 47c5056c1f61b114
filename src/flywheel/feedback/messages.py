"""The feedback e-mails, in the contact's language (zh-CN or English): the survey invitation,
its one reminder, and the thank-you to a promoter that, within the loyalty rules, asks for a
referral or a reference."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.collections import outbox
from flywheel.config import Settings
from flywheel.feedback.surveys import is_good
from flywheel.models.base import utcnow
from flywheel.models.customers import Contact
from flywheel.models.feedback import SurveyResponse


@dataclass(frozen=True, slots=True)
class Email:
    subject: str
    text: str
    html: str


def language_of(value: str | None) -> str:
    """The two languages e-mails are written in: Chinese unless the contact reads English."""
    return "en" if (value or "").lower().startswith("en") else "zh"


def _html(
    paragraphs: list[str], *, link: str | None, button: str, footer: str, sign: str = ""
) -> str:
    """Plain, inline-styled HTML that mail clients show as written."""
    parts = [f'<p style="margin:0 0 12px">{escape(p)}</p>' for p in paragraphs]
    if link:
        parts.append(
            '<p style="margin:20px 0"><a href="'
            + escape(link)
            + '" style="background:#1f6feb;color:#ffffff;padding:10px 18px;'
            'border-radius:6px;text-decoration:none;display:inline-block">'
            + escape(button)
            + "</a></p>"
            + f'<p style="margin:0 0 12px;font-size:12px;color:#57606a">{escape(link)}</p>'
        )
    if sign:
        parts.append(f'<p style="margin:16px 0 0">{escape(sign)}</p>')
    parts.append(f'<p style="margin:16px 0 0;font-size:12px;color:#57606a">{escape(footer)}</p>')
    return (
        '<div style="font-family:-apple-system,Segoe UI,PingFang SC,Microsoft YaHei,sans-serif;'
        'font-size:15px;line-height:1.6;color:#1f2328;max-width:560px">' + "".join(parts) + "</div>"
    )


def invitation(
    *,
    language: str,
    company: str,
    contact_name: str | None,
    survey_name: str,
    question: str,
    url: str,
    expires_at: datetime | None,
    reminder: bool = False,
) -> Email:
    """The invitation (or, with ``reminder``, the one reminder) with the survey link."""
    until = expires_at.date().isoformat() if expires_at else None
    if language_of(language) == "zh":
        greeting = f"{contact_name}您好：" if contact_name else "您好："
        subject = (
            f"提醒：{company}邀请您完成「{survey_name}」（约 1 分钟）"
            if reminder
            else f"{company}邀请您参与「{survey_name}」"
        )
        lead = (
            "几天前我们向您发送了一份简短的问卷，您可能还没来得及作答。您的意见对我们非常重要。"
            if reminder
            else f"感谢您选择{company}。我们想听听您的意见：{question}"
        )
        paragraphs = [
            greeting,
            lead,
            "请点击下面的链接作答，约需 1 分钟：",
        ]
        tail = [f"链接有效期至 {until}。" if until else "", "此链接仅供您本人使用，请勿转发。"]
        footer = "如不希望再收到此类调查，可在问卷页面底部选择退订。"
        button = "开始作答"
        sign = company
    else:
        greeting = f"Dear {contact_name}," if contact_name else "Hello,"
        subject = (
            f"Reminder: {survey_name} — {company} would value your feedback"
            if reminder
            else f"{company} would like your feedback: {survey_name}"
        )
        lead = (
            "A few days ago we sent you a short survey that you may not have had time to "
            "answer yet. Your opinion matters a great deal to us."
            if reminder
            else f"Thank you for working with {company}. We would like to hear from you: {question}"
        )
        paragraphs = [greeting, lead, "Please answer through the link below; it takes a minute:"]
        tail = [
            f"The link works until {until}." if until else "",
            "The link is yours alone; please do not forward it.",
        ]
        footer = (
            "If you would rather not receive surveys like this, the survey page lets you opt "
            "out at the bottom."
        )
        button = "Answer the survey"
        sign = company
    space = "" if language_of(language) == "zh" else " "
    note = space.join(t for t in tail if t)
    text = "\n\n".join([*paragraphs, url, note, footer, sign]) + "\n"
    html = _html(paragraphs, link=url, button=button, footer=f"{note}{space}{footer}", sign=sign)
    return Email(subject=subject, text=text, html=html)


def thank_you(
    *, language: str, company: str, contact_name: str | None, ask_referral: bool
) -> Email:
    """The thank-you to a promoter (or a satisfied CSAT/CES answer), with the referral ask."""
    if language_of(language) == "zh":
        greeting = f"{contact_name}您好：" if contact_name else "您好："
        subject = f"感谢您的评价 — {company}"
        paragraphs = [
            greeting,
            "感谢您抽出时间参与我们的调查，很高兴听到您对我们的认可。我们会继续努力，不辜负您的信任。",
        ]
        if ask_referral:
            paragraphs.append(
                "如果您身边有同事或合作伙伴也可能需要我们的产品与服务，欢迎将我们推荐给他们；"
                "如您愿意作为我们的参考客户（例如接受潜在客户的简短电话交流），请直接回复本邮件，"
                "您的客户经理会与您联系。"
            )
        footer = "此邮件由系统自动发送。"
    else:
        greeting = f"Dear {contact_name}," if contact_name else "Hello,"
        subject = f"Thank you for your feedback — {company}"
        paragraphs = [
            greeting,
            "Thank you for taking the time to answer our survey; we are glad to hear you are "
            "happy with us, and we will keep working to deserve it.",
        ]
        if ask_referral:
            paragraphs.append(
                "If a colleague or business partner could use what we offer, we would be grateful "
                "for an introduction. And if you would be willing to act as a reference (a short "
                "call with a prospective customer, for instance), simply reply to this e-mail and "
                "your account manager will be in touch."
            )
        footer = "This e-mail was sent automatically."
    text = "\n\n".join([*paragraphs, company]) + "\n"
    html = _html([*paragraphs, company], link=None, button="", footer=footer)
    return Email(subject=subject, text=text, html=html)


def thank_key(response_id: int) -> str:
    return f"survey-thanks:{response_id}"


def thank_promoter(
    session: Session, response: SurveyResponse, settings: Settings, *, now: datetime | None = None
) -> bool:
    """Queue the thank-you to a promoter (or a satisfied CSAT/CES answer) once per response;
    it asks for a referral or a reference unless the contact was asked within
    ``referral_ask_days`` (0: never ask). False when nothing was queued: not a good answer,
    thanked already, or no contact with an e-mail address."""
    if response.thanked_at is not None or not is_good(response.band):
        return False
    if response.contact_id is None:
        return False
    contact = session.get(Contact, response.contact_id)
    if contact is None or not (contact.email or "").strip():
        return False
    moment = now or utcnow()
    ask = False
    if settings.referral_ask_days > 0:
        since = moment - timedelta(days=settings.referral_ask_days)
        asked_lately = session.scalar(
            select(SurveyResponse.id).where(
                SurveyResponse.contact_id == contact.id,
                SurveyResponse.referral_asked.is_(True),
                SurveyResponse.thanked_at >= since,
                SurveyResponse.id != response.id,
            )
        )
        ask = asked_lately is None
    language = language_of(contact.language)
    email = thank_you(
        language=language,
        company=settings.company_name,
        contact_name=contact.name,
        ask_referral=ask,
    )
    queued = outbox.enqueue_email(
        session,
        dedupe_key=thank_key(response.id),
        to=contact.email.strip() if contact.email else "",
        subject=email.subject,
        body=email.text,
        body_html=email.html,
        language=language,
        customer_id=response.customer_id,
    )
    if queued is None:
        return False
    response.thanked_at = moment
    response.referral_asked = ask
    session.flush()
    return True
