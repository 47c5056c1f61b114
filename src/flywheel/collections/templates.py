"""Message and letter templates: rendering in a sandbox, the user's edits, samples to preview.

A template is a subject and a plain-text body in Jinja, per key (``template_defaults.KEYS``) and
language (zh, en). The shipped default applies until a user saves an edit (a ``MessageTemplate``
row); ``reset`` removes the edit. Templates run in Jinja's immutable sandbox with strict
undefined names, so a typo or an attempt to reach Python internals fails with a clear
``ValidationFailed`` instead of sending a broken message. The context every template gets:

    company, customer {code, name}, contact {name, email} | None, owner {name} | None, as_of,
    language, currency, items [{invoice, sequence, issue_date, due_date, amount, open_amount,
    days_overdue}], total_open, total_overdue, max_days_overdue,
    promise {amount, promised_on} | None, statement_url | None

and the filters ``money(currency)``, ``date`` and ``overdue`` (a days-overdue number in words),
written in the template's language.
"""

from __future__ import annotations

import html
import operator
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from babel.numbers import get_currency_precision
from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.audit import service as audit
from flywheel.auth.actor import Actor
from flywheel.collections.template_defaults import DEFAULTS, KEYS, LANGUAGES, DefaultTemplate
from flywheel.config import get_settings
from flywheel.errors import NotFound, ValidationFailed
from flywheel.kit import i18n
from flywheel.kit.i18n import N_
from flywheel.models.base import utcnow
from flywheel.models.collections import MessageTemplate

DEFAULT_LANGUAGE = "zh"
MAX_SUBJECT = 300
MAX_BODY = 20_000
# What one rendered message may grow to; a template multiplying strings past it is refused.
MAX_OUTPUT = 200_000
ZERO = Decimal("0.00")

# What each template is called and when it is used, for the template pages and step editors.
KEY_LABELS: dict[str, str] = {
    "friendly_reminder": N_("Friendly reminder"),
    "due_reminder": N_("Due reminder"),
    "overdue_notice": N_("Overdue notice"),
    "final_notice": N_("Final notice"),
    "formal_letter": N_("Formal collection letter"),
    "broken_promise": N_("Broken promise follow-up"),
    "thank_you": N_("Thank-you note"),
    "statement": N_("Statement e-mail"),
    "team_alert": N_("Team alert"),
}
KEY_PURPOSES: dict[str, str] = {
    "friendly_reminder": N_("A friendly note a few days before the due date."),
    "due_reminder": N_("On the due date or just after it."),
    "overdue_notice": N_("Firm: the items are past due."),
    "final_notice": N_("The last demand before legal steps."),
    "formal_letter": N_(
        "A printed letter on letterhead (HTML and PDF), with the schedule of open items."
    ),
    "broken_promise": N_("The customer missed a promise to pay."),
    "thank_you": N_("An overdue customer paid in full."),
    "statement": N_("The cover e-mail of a statement, with the link to confirm or dispute it."),
    "team_alert": N_("A short Markdown message to the team's chat robot."),
}


class TemplateInvalid(ValidationFailed):
    """A template that cannot be compiled or rendered; ``details`` name the key, the language,
    the part (subject or body) and, for syntax errors, the line."""

    code = "template_invalid"


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class TemplateSource:
    key: str
    language: str
    subject: str
    body: str
    customised: bool
    updated_at: datetime | None = None
    updated_by_id: int | None = None


# ---------------------------------------------------------------- formatting in the sandbox

_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _as_decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None


def format_money(value: Any, currency: str, language: str) -> str:
    """``¥1,234.50`` in Chinese, ``CNY 1,234.50`` in English (the form business letters use)."""
    amount = _as_decimal(value)
    if amount is None:
        return ""
    if language == "zh":
        with i18n.use_language("zh"):
            return i18n.money(amount, currency)
    digits = get_currency_precision(currency)
    rounded = amount.quantize(Decimal(1).scaleb(-digits))
    sign = "-" if rounded < 0 else ""
    return f"{sign}{currency} {abs(rounded):,.{digits}f}"


def _as_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def format_date(value: Any, language: str) -> str:
    """``2026年12月5日`` / ``5 Dec 2026``: unambiguous in both languages."""
    day = _as_date(value)
    if day is None:
        return ""
    if language == "zh":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {_EN_MONTHS[day.month - 1]} {day.year}"


def format_overdue(days: Any, language: str) -> str:
    """``已逾期 12 天`` / ``12 days overdue``; ``今日到期`` / ``due today``; before due,
    ``还有 5 天到期`` / ``due in 5 days``."""
    n = int(days or 0)
    if language == "zh":
        if n > 0:
            return f"已逾期 {n} 天"
        return "今日到期" if n == 0 else f"还有 {-n} 天到期"
    if n > 0:
        return f"{n} day overdue" if n == 1 else f"{n} days overdue"
    if n == 0:
        return "due today"
    return "due in 1 day" if n == -1 else f"due in {-n} days"


class _MessageSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, also refusing string and list products or powers large enough to
    exhaust memory (``{{ 'x' * 10**9 }}``)."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator_: str, left: Any, right: Any) -> Any:
        if operator_ == "**":
            if isinstance(right, int | float | Decimal) and abs(float(right)) > 100:
                raise SecurityError("exponents above 100 are not allowed in templates")
            return operator.pow(left, right)
        size = 0
        if isinstance(left, str | list | tuple) and isinstance(right, int):
            size = len(left) * right
        elif isinstance(right, str | list | tuple) and isinstance(left, int):
            size = len(right) * left
        if size > MAX_OUTPUT:
            raise SecurityError("the template makes a value too large to send")
        return operator.mul(left, right)


def _finalize(value: Any) -> Any:
    return "" if value is None else value


@lru_cache(maxsize=2)
def _environment(language: str) -> ImmutableSandboxedEnvironment:
    env = _MessageSandbox(
        autoescape=False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )
    env.filters["money"] = lambda value, currency="CNY": format_money(value, currency, language)
    env.filters["date"] = lambda value: format_date(value, language)
    env.filters["overdue"] = lambda days: format_overdue(days, language)
    return env


@lru_cache(maxsize=512)
def _compile(language: str, source: str) -> Any:
    return _environment(language).from_string(source)


def _render_part(
    key: str, language: str, part: str, source: str, context: Mapping[str, Any]
) -> str:
    details = {"key": key, "language": language, "part": part}
    try:
        template = _compile(language, source)
    except TemplateSyntaxError as exc:
        raise TemplateInvalid(
            f"the {part} of template {key} ({language}) has a syntax error on line "
            f"{exc.lineno}: {exc.message}",
            line=exc.lineno,
            **details,
        ) from None
    try:
        text = str(template.render(**context))
    except SecurityError as exc:
        raise TemplateInvalid(
            f"the {part} of template {key} ({language}) uses something templates may not: {exc}",
            **details,
        ) from None
    except TemplateError as exc:
        raise TemplateInvalid(
            f"the {part} of template {key} ({language}) cannot be rendered: {exc}", **details
        ) from None
    except (ArithmeticError, LookupError, TypeError, ValueError, AttributeError) as exc:
        raise TemplateInvalid(
            f"the {part} of template {key} ({language}) cannot be rendered: {exc}", **details
        ) from None
    if len(text) > MAX_OUTPUT:
        raise TemplateInvalid(
            f"template {key} ({language}) renders a {part} too long to send", **details
        )
    return text


# ---------------------------------------------------------------- plain text → HTML

# ASCII URL characters only, so Chinese punctuation right after a link stays out of it; a
# trailing full stop or comma ends the sentence, not the link.
_URL = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&*+,;=%]+[A-Za-z0-9\-_~/#=%&;]")


def text_to_html(text: str, *, language: str) -> str:
    """The rendered text as a simple HTML e-mail: escaped, paragraphs kept, links clickable.
    What the customer reads is exactly the text the user wrote."""
    escaped = html.escape(text)
    linked = _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
    lang = "zh-CN" if language == "zh" else "en"
    font = (
        "'PingFang SC','Microsoft YaHei','Noto Sans CJK SC',sans-serif"
        if language == "zh"
        else "Arial,Helvetica,sans-serif"
    )
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"></head>'
        f'<body style="margin:0;padding:24px;background:#f6f7f9;">'
        f'<div style="max-width:680px;margin:0 auto;padding:24px 28px;background:#ffffff;'
        f"border:1px solid #e3e6ea;border-radius:6px;font-family:{font};font-size:14px;"
        f'line-height:1.7;color:#1f2933;white-space:pre-wrap;">{linked}</div>'
        f"</body></html>"
    )


# ---------------------------------------------------------------- sources: defaults and edits


def normalize_language(language: str | None) -> str:
    """``zh``/``en`` (``zh-CN``, ``en_US`` … too); anything else falls back to Chinese."""
    return i18n.normalize(language) or DEFAULT_LANGUAGE


def check_key(key: str) -> str:
    if key not in DEFAULTS:
        raise NotFound(f"no message template {key!r}; the templates are {', '.join(KEYS)}", key=key)
    return key


def _check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise ValidationFailed(
            f"templates exist in {', '.join(LANGUAGES)}, not {language!r}", language=language
        )
    return language


def default_of(key: str, language: str) -> DefaultTemplate:
    return DEFAULTS[check_key(key)][normalize_language(language)]


def _row(session: Session, key: str, language: str) -> MessageTemplate | None:
    return session.scalar(
        select(MessageTemplate).where(
            MessageTemplate.key == key, MessageTemplate.language == language
        )
    )


def source_of(session: Session, key: str, language: str) -> TemplateSource:
    """The template in use for ``key`` and ``language``: the user's edit, else the default."""
    check_key(key)
    language = normalize_language(language)
    row = _row(session, key, language)
    if row is not None:
        return TemplateSource(
            key, language, row.subject, row.body, True, row.updated_at, row.updated_by_id
        )
    default = DEFAULTS[key][language]
    return TemplateSource(key, language, default.subject, default.body, False)


def list_templates(session: Session) -> list[TemplateSource]:
    """Every key × language in the order of ``KEYS``, each saying whether a user edited it."""
    rows = {(r.key, r.language): r for r in session.scalars(select(MessageTemplate))}
    listed: list[TemplateSource] = []
    for key in KEYS:
        for language in LANGUAGES:
            row = rows.get((key, language))
            if row is not None:
                listed.append(
                    TemplateSource(
                        key,
                        language,
                        row.subject,
                        row.body,
                        True,
                        row.updated_at,
                        row.updated_by_id,
                    )
                )
            else:
                default = DEFAULTS[key][language]
                listed.append(TemplateSource(key, language, default.subject, default.body, False))
    return listed


# ---------------------------------------------------------------- rendering


def render_source(
    key: str, language: str, subject: str, body: str, context: Mapping[str, Any]
) -> Rendered:
    """Render a subject and body (saved or being edited) with ``context``."""
    language = normalize_language(language)
    values = {"language": language, **context}
    rendered_subject = _render_part(key, language, "subject", subject, values)
    text = _render_part(key, language, "body", body, values).strip("\n") + "\n"
    # A subject is one line, however the template wrapped it.
    one_line = " ".join(rendered_subject.split())
    return Rendered(
        subject=one_line[:MAX_SUBJECT], text=text, html=text_to_html(text, language=language)
    )


class Renderer:
    """Renders many messages with the edits read once (the daily cycle sends thousands)."""

    def __init__(self, session: Session) -> None:
        self._edits = {(r.key, r.language): r for r in session.scalars(select(MessageTemplate))}

    def source(self, key: str, language: str) -> tuple[str, str]:
        check_key(key)
        row = self._edits.get((key, language))
        if row is not None:
            return row.subject, row.body
        default = DEFAULTS[key][language]
        return default.subject, default.body

    def render(self, key: str, language: str | None, context: Mapping[str, Any]) -> Rendered:
        lang = normalize_language(language)
        subject, body = self.source(key, lang)
        return render_source(key, lang, subject, body, {**context, "language": lang})


def render(
    session: Session, key: str, language: str | None, context: Mapping[str, Any]
) -> Rendered:
    """Template ``key`` in ``language`` (Chinese when it is neither zh nor en) with ``context``;
    ``TemplateInvalid`` when the template in use cannot render it."""
    lang = normalize_language(language)
    source = source_of(session, key, lang)
    return render_source(key, lang, source.subject, source.body, {**context, "language": lang})


# ---------------------------------------------------------------- context


def item_of(
    *,
    invoice: str,
    sequence: int,
    issue_date: date,
    due_date: date,
    amount: Decimal,
    open_amount: Decimal,
    as_of: date,
) -> dict[str, Any]:
    return {
        "invoice": invoice,
        "sequence": sequence,
        "issue_date": issue_date,
        "due_date": due_date,
        "amount": amount,
        "open_amount": open_amount,
        "days_overdue": (as_of - due_date).days,
    }


def build_context(
    *,
    company: str,
    customer: Mapping[str, Any],
    as_of: date,
    language: str,
    currency: str,
    items: Sequence[Mapping[str, Any]],
    contact: Mapping[str, Any] | None = None,
    owner: Mapping[str, Any] | None = None,
    promise: Mapping[str, Any] | None = None,
    statement_url: str | None = None,
) -> dict[str, Any]:
    """The context of a message, totals computed from ``items``."""
    listed = [dict(i) for i in items]
    overdue = [i for i in listed if int(i["days_overdue"]) > 0]
    return {
        "company": company,
        "customer": dict(customer),
        "contact": dict(contact) if contact is not None else None,
        "owner": dict(owner) if owner is not None else None,
        "as_of": as_of,
        "language": normalize_language(language),
        "currency": currency,
        "items": listed,
        "total_open": sum((Decimal(i["open_amount"]) for i in listed), ZERO),
        "total_overdue": sum((Decimal(i["open_amount"]) for i in overdue), ZERO),
        "max_days_overdue": max((int(i["days_overdue"]) for i in overdue), default=0),
        "promise": dict(promise) if promise is not None else None,
        "statement_url": statement_url,
    }


_SAMPLE_AS_OF = date(2026, 12, 5)


def sample_context(key: str, language: str, *, as_of: date | None = None) -> dict[str, Any]:
    """Realistic data to preview and check a template with: a Chinese customer for zh, an
    English one for en, three items (one not yet due; all of them for ``friendly_reminder``)."""
    check_key(key)
    language = normalize_language(language)
    day = as_of or _SAMPLE_AS_OF
    if language == "zh":
        customer = {"code": "C-10086", "name": "上海华东精密机械有限公司"}
        contact = {"name": "王丽", "email": "wangli@hdjm.example.cn"}
        owner = {"name": "张伟"}
        prefix = "FP2026"
    else:
        customer = {"code": "C-20417", "name": "Northwind Precision Parts Ltd."}
        contact = {"name": "Emily Carter", "email": "emily.carter@northwind.example.com"}
        owner = {"name": "David Chen"}
        prefix = "INV-2026-"
    # (days overdue, amount, open amount, sequence)
    shape = [
        (45, "36800.00", "36800.00", 1),
        (12, "12500.00", "8250.50", 2),
        (-10, "4980.00", "4980.00", 1),
    ]
    if key == "friendly_reminder":
        shape = [
            (-3, "36800.00", "36800.00", 1),
            (-3, "12500.00", "8250.50", 2),
            (-10, "4980.00", "4980.00", 1),
        ]
    items = [
        item_of(
            invoice=f"{prefix}{1051 + n:04d}",
            sequence=sequence,
            issue_date=day - timedelta(days=overdue + 30),
            due_date=day - timedelta(days=overdue),
            amount=Decimal(amount),
            open_amount=Decimal(open_amount),
            as_of=day,
        )
        for n, (overdue, amount, open_amount, sequence) in enumerate(shape)
    ]
    promise = None
    if key == "broken_promise":
        promise = {"amount": Decimal("20000.00"), "promised_on": day - timedelta(days=4)}
    statement_url = None
    if key == "statement":
        statement_url = get_settings().public_url.rstrip("/") + "/statement/SAMPLE-TOKEN"
    return build_context(
        company=get_settings().company_name,
        customer=customer,
        contact=contact,
        owner=owner,
        as_of=day,
        language=language,
        currency="CNY",
        items=items,
        promise=promise,
        statement_url=statement_url,
    )


def preview(
    key: str, language: str, subject: str, body: str, *, as_of: date | None = None
) -> Rendered:
    """A draft rendered with the sample data, nothing saved."""
    check_key(key)
    language = _check_language(normalize_language(language))
    _check_lengths(subject, body)
    return render_source(key, language, subject, body, sample_context(key, language, as_of=as_of))


# ---------------------------------------------------------------- edits


def _check_lengths(subject: str, body: str) -> None:
    if not subject.strip():
        raise ValidationFailed("the subject cannot be empty", field="subject")
    if len(subject) > MAX_SUBJECT:
        raise ValidationFailed(
            f"the subject is longer than {MAX_SUBJECT} characters", field="subject"
        )
    if not body.strip():
        raise ValidationFailed("the body cannot be empty", field="body")
    if len(body) > MAX_BODY:
        raise ValidationFailed(f"the body is longer than {MAX_BODY} characters", field="body")


def _audit_shape(subject: str, body: str, customised: bool) -> dict[str, Any]:
    return {"subject": subject, "body": body, "customised": customised}


def save(
    session: Session, *, actor: Actor, key: str, language: str, subject: str, body: str
) -> MessageTemplate:
    """Store the user's version of ``key`` in ``language`` once it renders the sample data;
    a template that does not is refused (``TemplateInvalid``) and nothing is written."""
    check_key(key)
    language = _check_language(language)
    subject = subject.strip()
    body = body.replace("\r\n", "\n")
    _check_lengths(subject, body)
    render_source(key, language, subject, body, sample_context(key, language))
    before = source_of(session, key, language)
    row = _row(session, key, language)
    if row is None:
        row = MessageTemplate(key=key, language=language, subject=subject, body=body)
        session.add(row)
    row.subject = subject
    row.body = body
    row.updated_by_id = actor.user_id
    row.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor,
        "template.changed",
        subject_type="message_template",
        subject_id=row.id,
        customer_id=None,
        before=_audit_shape(before.subject, before.body, before.customised)
        | {"key": key, "language": language},
        after=_audit_shape(subject, body, True) | {"key": key, "language": language},
    )
    return row


def reset(session: Session, *, actor: Actor, key: str, language: str) -> bool:
    """Go back to the shipped default; False (and nothing written) when it was not edited."""
    check_key(key)
    language = _check_language(language)
    row = _row(session, key, language)
    if row is None:
        return False
    default = DEFAULTS[key][language]
    audit.record(
        session,
        actor,
        "template.reset",
        subject_type="message_template",
        subject_id=row.id,
        customer_id=None,
        before=_audit_shape(row.subject, row.body, True) | {"key": key, "language": language},
        after=_audit_shape(default.subject, default.body, False)
        | {"key": key, "language": language},
    )
    session.delete(row)
    session.flush()
    return True
