"""Message templates: every default renders its sample in both languages, a user's edit is what
gets rendered, a broken or unsafe edit is refused with a clear message and nothing saved, and
every change is audited."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.collections import templates
from flywheel.collections.template_defaults import DEFAULTS, KEYS, LANGUAGES
from flywheel.errors import NotFound, ValidationFailed
from flywheel.models.audit import AuditEvent
from flywheel.models.collections import MessageTemplate
from tests.factories import TESTER


def template_rows(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(MessageTemplate)) or 0


def audit_events(session: Session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("key", KEYS)
def test_every_default_renders_its_sample(session: Session, key: str, language: str) -> None:
    context = templates.sample_context(key, language)

    rendered = templates.render(session, key, language, context)

    assert rendered.subject
    assert "\n" not in rendered.subject
    assert "{{" not in rendered.text
    assert "{%" not in rendered.text
    whole = rendered.subject + rendered.text
    assert context["customer"]["name"] in whole or context["contact"]["name"] in whole
    if key not in ("thank_you", "formal_letter"):
        # The items are listed, with their open amount written for the language.
        first = context["items"][0]
        assert first["invoice"] in rendered.text
        money = "¥36,800.00" if language == "zh" else "CNY 36,800.00"
        assert money in rendered.text
    assert rendered.html.startswith("<!DOCTYPE html>")


def test_the_sample_is_a_chinese_company_in_chinese_and_an_english_one_in_english() -> None:
    zh = templates.sample_context("overdue_notice", "zh")
    en = templates.sample_context("overdue_notice", "en")

    assert zh["customer"]["name"] == "上海华东精密机械有限公司"
    assert en["customer"]["name"] == "Northwind Precision Parts Ltd."
    assert len(zh["items"]) == 3
    assert [i["days_overdue"] > 0 for i in zh["items"]] == [True, True, False]
    assert zh["total_open"] == Decimal("50030.50")
    assert zh["total_overdue"] == Decimal("45050.50")
    assert zh["max_days_overdue"] == 45


def test_chinese_reads_like_a_finance_clerk_and_english_is_polite(session: Session) -> None:
    zh = templates.render(
        session, "friendly_reminder", "zh", templates.sample_context("friendly_reminder", "zh")
    )
    en = templates.render(
        session, "final_notice", "en", templates.sample_context("final_notice", "en")
    )

    assert zh.text.startswith("尊敬的王丽：")
    assert "贵司" in zh.text
    assert "请忽略本邮件" in zh.text
    assert "2026年12月8日" in zh.text
    assert en.text.startswith("Dear Emily Carter,")
    assert "7 days" in en.text
    assert "disregard" in en.text
    assert "21 Oct 2026" in en.text


def test_filters_write_money_dates_and_days_for_the_language() -> None:
    assert templates.format_money(Decimal("1234.5"), "CNY", "zh") == "¥1,234.50"
    assert templates.format_money(Decimal("1234.5"), "CNY", "en") == "CNY 1,234.50"
    assert templates.format_money("-12", "USD", "en") == "-USD 12.00"
    assert templates.format_date(date(2026, 12, 5), "zh") == "2026年12月5日"
    assert templates.format_date(date(2026, 12, 5), "en") == "5 Dec 2026"
    assert templates.format_overdue(3, "zh") == "已逾期 3 天"
    assert templates.format_overdue(-1, "en") == "due in 1 day"
    assert templates.format_overdue(0, "en") == "due today"


def test_an_unknown_language_falls_back_to_chinese(session: Session) -> None:
    context = templates.sample_context("due_reminder", "zh")

    rendered = templates.render(session, "due_reminder", "fr", context)

    assert rendered.subject.startswith("【付款提醒】")


def test_an_unknown_key_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound, match="no message template"):
        templates.render(session, "love_letter", "zh", {})


def test_a_saved_edit_is_used_until_it_is_reset(session: Session) -> None:
    row = templates.save(
        session,
        actor=TESTER,
        key="due_reminder",
        language="en",
        subject="Hello {{ customer.name }}",
        body="You owe {{ total_open|money(currency) }}.\n",
    )
    context = templates.sample_context("due_reminder", "en")

    rendered = templates.render(session, "due_reminder", "en", context)

    assert row.id is not None
    assert rendered.subject == "Hello Northwind Precision Parts Ltd."
    assert rendered.text == "You owe CNY 50,030.50.\n"
    # The other language keeps its default.
    other = templates.render(
        session, "due_reminder", "zh", templates.sample_context("due_reminder", "zh")
    )
    assert other.subject.startswith("【付款提醒】")
    listed = {(t.key, t.language): t.customised for t in templates.list_templates(session)}
    assert len(listed) == len(KEYS) * len(LANGUAGES)
    assert listed[("due_reminder", "en")] is True
    assert listed[("due_reminder", "zh")] is False

    assert templates.reset(session, actor=TESTER, key="due_reminder", language="en") is True
    again = templates.render(session, "due_reminder", "en", context)
    assert again.subject == "Payment reminder: invoices now due for Northwind Precision Parts Ltd."
    assert templates.reset(session, actor=TESTER, key="due_reminder", language="en") is False


def test_saving_and_resetting_are_audited_with_before_and_after(session: Session) -> None:
    templates.save(
        session,
        actor=TESTER,
        key="thank_you",
        language="zh",
        subject="谢谢 {{ customer.name }}",
        body="已收到付款。",
    )
    templates.reset(session, actor=TESTER, key="thank_you", language="zh")
    session.flush()

    (changed,) = audit_events(session, "template.changed")
    (reset,) = audit_events(session, "template.reset")

    assert changed.before is not None
    assert changed.after is not None
    assert changed.before["subject"] == DEFAULTS["thank_you"]["zh"].subject
    assert changed.before["customised"] is False
    assert changed.after["subject"] == "谢谢 {{ customer.name }}"
    assert changed.after["key"] == "thank_you"
    assert reset.before is not None
    assert reset.before["body"] == "已收到付款。"
    assert reset.after is not None
    assert reset.after["customised"] is False


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("Dear {{ customer.name }", "syntax error on line 1"),
        ("{% for item in items %}{{ item.invoice }}", "syntax error"),
        ("{{ customer.vat_number }}", "cannot be rendered"),
        ("{{ nonsense }}", "'nonsense' is undefined"),
        ("{{ ''.__class__ }}", "may not"),
        ("{{ items.__class__.__mro__ }}", "may not"),
        ("{{ items.append(1) }}", "may not"),
        ("{{ 'x' * 1000000 }}", "too large"),
        ("{{ total_open|money(currency) + 1 }}", "cannot be rendered"),
    ],
)
def test_a_broken_or_unsafe_template_is_refused_and_nothing_saved(
    session: Session, body: str, message: str
) -> None:
    before = audit_events(session, "template.changed")

    with pytest.raises(ValidationFailed, match=message) as refused:
        templates.save(
            session, actor=TESTER, key="overdue_notice", language="en", subject="Hi", body=body
        )

    assert refused.value.code == "template_invalid"
    assert refused.value.details["key"] == "overdue_notice"
    assert template_rows(session) == 0
    assert audit_events(session, "template.changed") == before


def test_a_broken_subject_is_refused_too(session: Session) -> None:
    with pytest.raises(ValidationFailed, match="the subject of template statement"):
        templates.save(
            session,
            actor=TESTER,
            key="statement",
            language="zh",
            subject="{{ customer.name",
            body="ok",
        )
    assert template_rows(session) == 0


def test_a_promise_used_outside_the_promise_template_is_caught_on_save(session: Session) -> None:
    # The samples carry a promise only for broken_promise, as real messages do.
    with pytest.raises(ValidationFailed, match="cannot be rendered"):
        templates.save(
            session,
            actor=TESTER,
            key="due_reminder",
            language="zh",
            subject="提醒",
            body="{{ promise.amount }}",
        )


def test_empty_and_oversized_edits_are_refused(session: Session) -> None:
    with pytest.raises(ValidationFailed, match="subject cannot be empty"):
        templates.save(
            session, actor=TESTER, key="due_reminder", language="zh", subject=" ", body="x"
        )
    with pytest.raises(ValidationFailed, match="body cannot be empty"):
        templates.save(
            session, actor=TESTER, key="due_reminder", language="zh", subject="x", body=""
        )
    with pytest.raises(ValidationFailed, match="not 'fr'"):
        templates.save(
            session, actor=TESTER, key="due_reminder", language="fr", subject="x", body="y"
        )
    assert template_rows(session) == 0


def test_a_saved_template_that_breaks_on_real_data_raises_a_clear_error(session: Session) -> None:
    templates.save(
        session,
        actor=TESTER,
        key="due_reminder",
        language="zh",
        subject="提醒",
        body="{{ items[0].invoice }}",
    )
    context = templates.sample_context("due_reminder", "zh") | {"items": []}

    with pytest.raises(ValidationFailed, match="template due_reminder \\(zh\\) cannot be rendered"):
        templates.render(session, "due_reminder", "zh", context)


def test_the_html_version_is_the_escaped_text_with_links(session: Session) -> None:
    templates.save(
        session,
        actor=TESTER,
        key="statement",
        language="en",
        subject="Statement",
        body="<b>{{ customer.name }}</b> & co: {{ statement_url }}",
    )

    rendered = templates.render(
        session, "statement", "en", templates.sample_context("statement", "en")
    )

    assert "&lt;b&gt;Northwind Precision Parts Ltd.&lt;/b&gt; &amp; co" in rendered.html
    assert '<a href="http://127.0.0.1:8000/statement/SAMPLE-TOKEN">' in rendered.html


def test_the_renderer_reads_the_edits_once_and_renders_like_render(session: Session) -> None:
    templates.save(
        session,
        actor=TESTER,
        key="team_alert",
        language="en",
        subject="S",
        body="B {{ customer.code }}",
    )
    renderer = templates.Renderer(session)
    context = templates.sample_context("team_alert", "en")

    assert renderer.render("team_alert", "en", context) == templates.render(
        session, "team_alert", "en", context
    )
    assert renderer.render("team_alert", "en", context).text == "B C-20417\n"


def test_preview_renders_a_draft_without_saving(session: Session) -> None:
    rendered = templates.preview("final_notice", "zh", "最后通知", "{{ customer.name }}")

    assert rendered.text == "上海华东精密机械有限公司\n"
    assert template_rows(session) == 0


def test_a_link_ends_before_chinese_punctuation_and_a_full_stop() -> None:
    html = templates.text_to_html(
        "请点击 https://ar.example.com/statement/T0k-3n_x，谢谢。See it.", language="zh"
    )

    assert '<a href="https://ar.example.com/statement/T0k-3n_x">' in html
    assert "T0k-3n_x</a>，谢谢" in html
