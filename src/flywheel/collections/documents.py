"""Printable documents: the customer statement and the formal collection letter, as HTML (the
house templates under ``collections/``) and PDF (reportlab, with the built-in CID font
STSong-Light for Chinese, so no font file has to be installed).

Each document is written in its own language (the statement's, the letter action's), whatever
the language of the person printing it.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from io import BytesIO
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.collections import statements
from flywheel.collections import templates as message_templates
from flywheel.collections.statements import StatementData, StatementLine
from flywheel.config import Settings, get_settings
from flywheel.errors import NotFound, ValidationFailed
from flywheel.kit import i18n
from flywheel.kit.i18n import N_
from flywheel.models.collections import CollectionAction, CollectionActionItem
from flywheel.models.customers import Contact, Customer
from flywheel.models.enums import CollectionChannel, DisputeReason, StatementStatus
from flywheel.models.receivables import Installment, Invoice
from flywheel.models.users import User

CJK_FONT = "STSong-Light"
LATIN_FONT = "Helvetica"
LATIN_BOLD = "Helvetica-Bold"
LETTER_TEMPLATE = "formal_letter"

# What a customer may say is wrong with a line, in his words.
REASON_LABELS: dict[str, str] = {
    DisputeReason.PRICE: N_("Price differs from what was agreed"),
    DisputeReason.QUANTITY: N_("Quantity differs from what was delivered"),
    DisputeReason.QUALITY: N_("Quality problem"),
    DisputeReason.DELIVERY: N_("Not delivered, or delivered late"),
    DisputeReason.MISSING_DOCUMENTS: N_("Invoice or documents missing"),
    DisputeReason.DUPLICATE_INVOICE: N_("Invoice billed twice"),
    DisputeReason.OTHER: N_("Other reason"),
}

STATUS_LABELS: dict[str, str] = {
    StatementStatus.SENT: N_("Waiting for the customer"),
    StatementStatus.CONFIRMED: N_("Balance confirmed"),
    StatementStatus.DISPUTED: N_("Lines disputed"),
}


def bucket_labels() -> list[str]:
    """The aging headings in the current language: Current, 1–30 days … Over 90 days."""
    labels = [i18n.gettext("Current")]
    low = 1
    for edge in statements.BUCKETS.edges:
        labels.append(i18n.gettext("%(low)s–%(high)s days") % {"low": low, "high": edge})
        low = edge + 1
    labels.append(i18n.gettext("Over %(days)s days") % {"days": low - 1})
    return labels


@cache
def _cjk_font() -> str:
    pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    return CJK_FONT


def _needs_cjk(texts: Sequence[str]) -> bool:
    try:
        for text in texts:
            text.encode("latin-1")
    except UnicodeEncodeError:
        return True
    return False


def _fonts(language: str, texts: Sequence[str]) -> tuple[str, str, str]:
    """(regular, bold, word wrap): Helvetica when every text is Latin, else STSong-Light."""
    if language == "zh" or _needs_cjk(texts):
        font = _cjk_font()
        return font, font, "CJK"
    return LATIN_FONT, LATIN_BOLD, "LTR"


class _Formats:
    """Money and dates written as the document's language writes them."""

    def __init__(self, language: str, currency: str) -> None:
        self.language = language
        self.currency = currency

    def money(self, value: Decimal | None) -> str:
        return message_templates.format_money(value, self.currency, self.language)

    def day(self, value: date | None) -> str:
        return message_templates.format_date(value, self.language)

    def overdue(self, days: int) -> str:
        return message_templates.format_overdue(days, self.language)


def _render_page(template: str, language: str, values: dict[str, Any]) -> str:
    from flywheel.web.pages import templates

    with i18n.use_language(language) as lang:
        return str(
            templates.get_template(template).render(
                {"lang": lang, "html_lang": "zh-CN" if lang == "zh" else "en", **values}
            )
        )


# ---------------------------------------------------------------- statement


def statement_context(data: StatementData) -> dict[str, Any]:
    """What the statement templates show (``collections/statement_document.html``)."""
    with i18n.use_language(data.language):
        labels = bucket_labels()
    return {
        "doc": data,
        "fmt": _Formats(data.language, data.currency),
        "bucket_labels": labels,
        "aging": list(zip(labels, data.aging, strict=True)),
    }


def statement_fragment(data: StatementData) -> str:
    """The statement document alone (no page around it), in the statement's language: the
    staff preview shows exactly what the customer will read."""
    return _render_page(
        "collections/statement_document.html", data.language, statement_context(data)
    )


def statement_html(data: StatementData) -> str:
    """The statement as a standalone printable page."""
    return _render_page("collections/statement_print.html", data.language, statement_context(data))


def _styles(font: str, bold: str, wrap: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=font, fontSize=9.5, leading=14, wordWrap=wrap)
    return {
        "base": base,
        "small": ParagraphStyle(
            "small", parent=base, fontSize=8, leading=11, textColor=colors.grey
        ),
        "title": ParagraphStyle(
            "title", parent=base, fontName=bold, fontSize=16, leading=22, alignment=TA_CENTER
        ),
        "head": ParagraphStyle("head", parent=base, fontName=bold, fontSize=11, leading=16),
        "company": ParagraphStyle("company", parent=base, fontName=bold, fontSize=14, leading=20),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=11),
        "cell_right": ParagraphStyle(
            "cell_right", parent=base, fontSize=8.5, leading=11, alignment=TA_RIGHT
        ),
    }


def _label(text: str) -> str:
    """``Label: `` with the colon the language writes (full-width in Chinese)."""
    colon = "：" if i18n.current_language() == "zh" else ": "
    return i18n.gettext(text) + colon


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(html.escape(text).replace("\n", "<br/>"), style)


_GRID = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#b8bec6")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f4")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
)


def _lines_table(
    lines: Sequence[StatementLine],
    fmt: _Formats,
    styles: dict[str, ParagraphStyle],
    total: Decimal,
) -> Table:
    c, r = styles["cell"], styles["cell_right"]
    rows: list[list[Any]] = [
        [
            _p(i18n.gettext("Invoice"), c),
            _p(i18n.gettext("Issued"), c),
            _p(i18n.gettext("Due"), c),
            _p(i18n.gettext("Amount"), r),
            _p(i18n.gettext("Open"), r),
            _p(i18n.gettext("Status"), c),
        ]
    ]
    for line in lines:
        invoice = line.invoice + (f" / {line.sequence}" if line.sequence > 1 else "")
        rows.append(
            [
                _p(invoice, c),
                _p(line.issue_date.isoformat(), c),
                _p(line.due_date.isoformat(), c),
                _p(fmt.money(line.amount), r),
                _p(fmt.money(line.open_amount), r),
                _p(fmt.overdue(line.days_overdue), c),
            ]
        )
    rows.append(["", "", "", _p(i18n.gettext("Total open"), r), _p(fmt.money(total), r), ""])
    widths = [38 * mm, 22 * mm, 22 * mm, 30 * mm, 30 * mm, 32 * mm]
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(_GRID)
    return table


def statement_pdf(data: StatementData) -> bytes:
    """The statement as an A4 PDF in the statement's language."""
    fmt = _Formats(data.language, data.currency)
    with i18n.use_language(data.language):
        font, bold, wrap = _fonts(
            data.language, [data.company, data.customer_name, data.contact_name or ""]
        )
        styles = _styles(font, bold, wrap)
        labels = bucket_labels()
        story: list[Any] = [
            _p(data.company, styles["company"]),
            Spacer(1, 2 * mm),
            _p(i18n.gettext("Statement of account"), styles["title"]),
            Spacer(1, 4 * mm),
            _p(
                f"{_label(N_('Customer'))}{data.customer_name} ({data.customer_code})",
                styles["base"],
            ),
        ]
        if data.contact_name:
            story.append(_p(f"{_label(N_('Attention'))}{data.contact_name}", styles["base"]))
        story += [
            _p(f"{_label(N_('As of'))}{fmt.day(data.as_of)}", styles["base"]),
            _p(f"{_label(N_('Currency'))}{data.currency}", styles["base"]),
            Spacer(1, 5 * mm),
            _p(i18n.gettext("Aging summary"), styles["head"]),
            Spacer(1, 2 * mm),
        ]
        aging = Table(
            [
                [_p(label, styles["cell_right"]) for label in labels]
                + [_p(i18n.gettext("Total open"), styles["cell_right"])],
                [_p(fmt.money(amount), styles["cell_right"]) for amount in data.aging]
                + [_p(fmt.money(data.total), styles["cell_right"])],
            ],
            colWidths=[29 * mm] * (len(labels) + 1),
        )
        aging.setStyle(_GRID)
        story += [
            aging,
            Spacer(1, 2 * mm),
            _p(f"{_label(N_('Overdue'))}{fmt.money(data.overdue)}", styles["base"]),
            Spacer(1, 5 * mm),
            _p(i18n.gettext("Open items"), styles["head"]),
            Spacer(1, 2 * mm),
        ]
        if data.lines:
            story.append(_lines_table(data.lines, fmt, styles, data.total))
        else:
            story.append(_p(i18n.gettext("No open items: nothing is owed."), styles["base"]))
        story += [
            Spacer(1, 6 * mm),
            _p(
                i18n.gettext(
                    "Please check these items against your records and confirm the balance, or "
                    "tell us which items you disagree with. If you have paid already, thank you; "
                    "please send us the remittance advice."
                ),
                styles["small"],
            ),
        ]
        return _build_pdf(story, title=i18n.gettext("Statement of account"), author=data.company)


def _build_pdf(story: list[Any], *, title: str, author: str) -> bytes:
    out = BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=title,
        author=author,
    )
    doc.build(story)
    return out.getvalue()


# ---------------------------------------------------------------- formal letter


@dataclass(frozen=True, slots=True)
class Letter:
    action: CollectionAction
    company: str
    customer_code: str
    customer_name: str
    contact_name: str | None
    language: str
    currency: str
    as_of: date
    subject: str
    body: str
    lines: list[StatementLine]
    total: Decimal
    overdue: Decimal


def letter_of(
    session: Session, action: CollectionAction, *, settings: Settings | None = None
) -> Letter:
    """The letter of a ``letter`` action: its template (``formal_letter`` unless the step named
    another) rendered in the action's language with the items it is about."""
    if action.channel != CollectionChannel.LETTER.value:
        raise ValidationFailed(
            f"action {action.id} is a {action.channel} action, not a letter", action_id=action.id
        )
    settings = settings or get_settings()
    customer = session.get(Customer, action.customer_id)
    if customer is None:
        raise NotFound(f"action {action.id} not found")
    contact = session.get(Contact, action.contact_id) if action.contact_id else None
    if contact is None:
        contact = statements.pick_contact(session, customer, required=False)
    language = message_templates.normalize_language(
        action.language or (contact.language if contact else None)
    )
    as_of = action.due_on
    rows = session.execute(
        select(CollectionActionItem, Installment, Invoice)
        .join(Installment, Installment.id == CollectionActionItem.installment_id)
        .join(Invoice, Invoice.id == Installment.invoice_id)
        .where(CollectionActionItem.action_id == action.id)
        .order_by(CollectionActionItem.due_on, Invoice.number, Installment.sequence)
    ).all()
    lines = [
        StatementLine(
            installment_id=installment.id,
            invoice=invoice.number,
            sequence=installment.sequence,
            issue_date=invoice.issue_date,
            due_date=item.due_on,
            amount=installment.amount,
            open_amount=item.open_amount,
            days_overdue=(as_of - item.due_on).days,
        )
        for item, installment, invoice in rows
    ]
    currency = action.currency or customer.currency
    owner = session.get(User, customer.owner_id) if customer.owner_id else None
    context = message_templates.build_context(
        company=settings.company_name,
        customer={"code": customer.code, "name": customer.name},
        contact={"name": contact.name, "email": contact.email} if contact else None,
        owner={"name": owner.display_name} if owner else None,
        as_of=as_of,
        language=language,
        currency=currency,
        items=[line.as_item() for line in lines],
    )
    message = message_templates.render(
        session, action.template or LETTER_TEMPLATE, language, context
    )
    return Letter(
        action=action,
        company=settings.company_name,
        customer_code=customer.code,
        customer_name=customer.name,
        contact_name=contact.name if contact else None,
        language=language,
        currency=currency,
        as_of=as_of,
        subject=message.subject,
        body=message.text,
        lines=lines,
        total=context["total_open"],
        overdue=context["total_overdue"],
    )


def letter_reference(action: CollectionAction) -> str:
    return f"COL-{action.due_on:%Y%m%d}-{action.id}"


def letter_html(session: Session, action: CollectionAction) -> str:
    letter = letter_of(session, action)
    return _render_page(
        "collections/letter_print.html",
        letter.language,
        {
            "letter": letter,
            "fmt": _Formats(letter.language, letter.currency),
            "reference": letter_reference(action),
            "paragraphs": _paragraphs(letter.body),
        },
    )


def _paragraphs(text: str) -> list[str]:
    return [block.strip("\n") for block in text.split("\n\n") if block.strip()]


def letter_pdf(session: Session, action: CollectionAction) -> bytes:
    letter = letter_of(session, action)
    fmt = _Formats(letter.language, letter.currency)
    with i18n.use_language(letter.language):
        font, bold, wrap = _fonts(
            letter.language,
            [
                letter.company,
                letter.customer_name,
                letter.contact_name or "",
                letter.body,
                letter.subject,
            ],
        )
        styles = _styles(font, bold, wrap)
        head = Table(
            [[_p(letter.company, styles["company"]), _p(fmt.day(letter.as_of), styles["right"])]],
            colWidths=[120 * mm, 54 * mm],
        )
        head.setStyle(
            TableStyle(
                [
                    ("LINEBELOW", (0, 0), (-1, 0), 1.2, colors.HexColor("#1f2933")),
                    ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
                ]
            )
        )
        story: list[Any] = [
            head,
            Spacer(1, 3 * mm),
            _p(f"{_label(N_('Reference'))}{letter_reference(action)}", styles["small"]),
            Spacer(1, 5 * mm),
            _p(f"{letter.customer_name} ({letter.customer_code})", styles["base"]),
        ]
        if letter.contact_name:
            story.append(_p(f"{_label(N_('Attention'))}{letter.contact_name}", styles["base"]))
        story += [Spacer(1, 6 * mm), _p(letter.subject, styles["title"]), Spacer(1, 5 * mm)]
        for paragraph in _paragraphs(letter.body):
            story += [_p(paragraph, styles["base"]), Spacer(1, 3 * mm)]
        if letter.lines:
            story += [
                Spacer(1, 4 * mm),
                _p(i18n.gettext("Schedule of open items"), styles["head"]),
                Spacer(1, 2 * mm),
                _lines_table(letter.lines, fmt, styles, letter.total),
            ]
        return _build_pdf(story, title=letter.subject, author=letter.company)
