"""The management report as an A4 PDF (reportlab) in the reader's language, laid out from the
same display model as the e-mail and the page. Chinese is set in the built-in CID font
STSong-Light, as the statements are (``collections.documents``), so no font file is needed."""

from __future__ import annotations

import html
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from io import BytesIO
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from sqlalchemy.orm import Session

from flywheel.collections.attachments import AttachmentMissing, File
from flywheel.collections.documents import CJK_FONT, LATIN_BOLD, LATIN_FONT
from flywheel.config import get_settings
from flywheel.insights import report_display
from flywheel.kit import i18n
from flywheel.models.insights import InsightReport

_ = i18n.gettext
WIDTH = A4[0] - 36 * mm
TONES = {"good": "#1e7b34", "bad": "#b3261e", "": None}
_GRID = [
    ("LINEBELOW", (0, 0), (-1, -1), 0.3, colors.HexColor("#d5dae0")),
    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f4")),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("TOPPADDING", (0, 0), (-1, -1), 2),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
]


@cache
def _cjk_font() -> str:
    pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    return CJK_FONT


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _texts(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _texts(item)


def _fonts(language: str, view: Mapping[str, Any]) -> tuple[str, str, str]:
    """(regular, bold, word wrap): Helvetica when every text is Latin (an English report on
    accounts with Latin names), else STSong-Light for the whole document."""
    try:
        if language != "zh":
            for text in _texts(view):
                text.encode("latin-1")
            return LATIN_FONT, LATIN_BOLD, "LTR"
    except UnicodeEncodeError:
        pass
    font = _cjk_font()
    return font, font, "CJK"


class _Styles:
    def __init__(self, font: str, bold: str, wrap: str) -> None:
        self.base = ParagraphStyle("base", fontName=font, fontSize=9, leading=12, wordWrap=wrap)
        self.small = ParagraphStyle(
            "small", parent=self.base, fontSize=7.5, leading=10, textColor=colors.grey
        )
        self.title = ParagraphStyle(
            "title", parent=self.base, fontName=bold, fontSize=16, leading=21
        )
        self.h2 = ParagraphStyle(
            "h2",
            parent=self.base,
            fontName=bold,
            fontSize=11.5,
            leading=15,
            spaceBefore=8,
            spaceAfter=3,
            textColor=colors.HexColor("#1f2d3d"),
        )
        self.h3 = ParagraphStyle(
            "h3", parent=self.base, fontName=bold, fontSize=9.5, leading=13, spaceBefore=5
        )
        self.cell = ParagraphStyle("cell", parent=self.base, fontSize=8, leading=10)
        self.head = ParagraphStyle("head", parent=self.cell, textColor=colors.HexColor("#5b6570"))
        self.num = ParagraphStyle("num", parent=self.cell, alignment=TA_RIGHT)
        self.num_head = ParagraphStyle("num_head", parent=self.head, alignment=TA_RIGHT)
        self.stage = ParagraphStyle("stage", parent=self.cell, fontName=bold)


# Characters the built-in CJK font (STSong-Light) lacks, and what to print instead.
_PLAIN = str.maketrans({"\u2212": "-", "\u2014": "-", "\u2013": "-"})


def _p(text: str, style: ParagraphStyle, *, tone: str = "", bold: bool = False) -> Paragraph:
    markup = html.escape(text.translate(_PLAIN))
    if bold:
        markup = f"<b>{markup}</b>"
    color = TONES.get(tone)
    if color:
        markup = f'<font color="{color}">{markup}</font>'
    return Paragraph(markup, style)


def _table(header: Sequence[Paragraph], rows: list[list[Any]], widths: Sequence[float]) -> Table:
    table = Table([list(header), *rows], colWidths=[w * WIDTH for w in widths], repeatRows=1)
    table.setStyle(TableStyle(_GRID))
    return table


def _figures(view: Mapping[str, Any], s: _Styles) -> list[Any]:
    part = view["figures"]
    story: list[Any] = [
        _p(_("The flywheel's figures"), s.h2),
        _p(part["heading"], s.small),
        Spacer(1, 2 * mm),
        _p(
            f"{_('Force')} {part['force']} ({part['force_previous']})    "
            f"{_('Friction')} {part['friction']} ({part['friction_previous']})",
            s.base,
            bold=True,
        ),
        Spacer(1, 2 * mm),
    ]
    header = [
        _p(_("Figure"), s.head),
        _p(_("In the period"), s.num_head),
        _p(_("Previous period"), s.num_head),
        _p(_("Change"), s.num_head),
        _p(_("Target value"), s.num_head),
    ]
    rows: list[list[Any]] = []
    spans: list[tuple[Any, ...]] = []
    for stage in part["stages"]:
        spans.append(("SPAN", (0, len(rows) + 1), (-1, len(rows) + 1)))
        spans.append(
            ("BACKGROUND", (0, len(rows) + 1), (-1, len(rows) + 1), colors.HexColor("#f7f8fa"))
        )
        rows.append([_p(stage["label"], s.stage), "", "", "", ""])
        for row in stage["rows"]:
            rows.append(
                [
                    _p(row["label"], s.cell),
                    _p(row["value"], s.num, bold=True),
                    _p(row["previous"], s.num),
                    _p(row["change"], s.num, tone=row["tone"]),
                    _p(row["target"], s.num, tone=row["target_tone"]),
                ]
            )
    table = _table(header, rows, (0.28, 0.19, 0.19, 0.19, 0.15))
    table.setStyle(TableStyle(spans))
    story.append(table)
    return story


def _week(view: Mapping[str, Any], s: _Styles) -> list[Any]:
    week = view["week"]
    if not week:
        return []
    header = [
        _p(_("Event"), s.head),
        _p(_("This week"), s.num_head),
        _p(_("Week before"), s.num_head),
        _p(_("Change"), s.num_head),
    ]
    rows = [
        [
            _p(row["label"], s.cell),
            _p(row["value"], s.num, bold=True),
            _p(row["previous"], s.num),
            _p(row["change"], s.num, tone=row["tone"]),
        ]
        for row in week["rows"]
    ]
    return [_p(week["heading"], s.h2), _table(header, rows, (0.40, 0.22, 0.22, 0.16))]


def _movers(moves: list[Mapping[str, str]], s: _Styles, tone: str, empty: str) -> list[Any]:
    if not moves:
        return [_p(empty, s.small)]
    return [
        _p(
            f"{m['label']}  {m['relative']}  ({m['value']}; {m['basis']} {m['previous']})",
            s.base,
            tone=tone,
        )
        for m in moves
    ]


def _drops(title: str, drops: Mapping[str, Any], s: _Styles) -> list[Any]:
    story: list[Any] = [_p(f"{title} ({drops['count']})", s.h3)]
    if not drops["rows"]:
        return [*story, _p(_("None."), s.small)]
    header = [
        _p(_("Customer"), s.head),
        _p(_("Was"), s.head),
        _p(_("Now"), s.head),
        _p(_("Owner"), s.head),
        _p(_("Revenue, last 12 months"), s.num_head),
    ]
    rows = [
        [
            _p(f"{a['code']} {a['name']}", s.cell),
            _p(a["from"], s.cell),
            _p(a["to"], s.cell, tone="bad"),
            _p(a["owner"], s.cell),
            _p(a["revenue"], s.num),
        ]
        for a in drops["rows"]
    ]
    return [*story, _table(header, rows, (0.36, 0.14, 0.14, 0.16, 0.20))]


def _movements(view: Mapping[str, Any], s: _Styles) -> list[Any]:
    part = view["movements"]
    return [
        _p(_("Biggest movements"), s.h2),
        _p(_("Improved most"), s.h3),
        *_movers(part["improved"], s, "good", _("Nothing improved.")),
        _p(_("Declined most"), s.h3),
        *_movers(part["declined"], s, "bad", _("Nothing declined.")),
        *_drops(_("Accounts whose health dropped"), part["health"], s),
        *_drops(_("Accounts that fell to a worse segment"), part["segment"], s),
    ]


def _actions(view: Mapping[str, Any], s: _Styles) -> list[Any]:
    part = view["actions"]
    story: list[Any] = [_p(_("Top actions"), s.h2), _p(_("Next best actions ranked highest"), s.h3)]
    if part["next_actions"]:
        header = [
            _p("#", s.head),
            _p(_("Customer"), s.head),
            _p(_("Action"), s.head),
            _p(_("Owner"), s.head),
            _p(_("Due"), s.head),
        ]
        rows = [
            [
                _p(str(n), s.cell),
                _p(f"{a['code']} {a['name']}", s.cell),
                _p(f"{a['title']} ({a['kind']})", s.cell),
                _p(a["owner"], s.cell),
                _p(a["due"], s.cell),
            ]
            for n, a in enumerate(part["next_actions"], start=1)
        ]
        story.append(_table(header, rows, (0.05, 0.33, 0.32, 0.15, 0.15)))
    else:
        story.append(_p(_("None."), s.small))
    story.append(_p(_("Largest overdue accounts"), s.h3))
    if part["overdue_accounts"]:
        header = [
            _p(_("Customer"), s.head),
            _p(_("Overdue"), s.num_head),
            _p(_("Total open"), s.num_head),
        ]
        rows = [
            [
                _p(f"{a['code']} {a['name']}", s.cell),
                _p(a["overdue"], s.num, tone="bad"),
                _p(a["total"], s.num),
            ]
            for a in part["overdue_accounts"]
        ]
        story.append(_table(header, rows, (0.56, 0.22, 0.22)))
    else:
        story.append(_p(_("None."), s.small))
    story.append(_p(_("Follow-ups past their SLA"), s.h3))
    if part["late_loops"]:
        header = [
            _p(_("Customer"), s.head),
            _p(_("Reason"), s.head),
            _p(_("Owner"), s.head),
            _p(_("Due"), s.head),
            _p(_("Late by"), s.num_head),
        ]
        rows = [
            [
                _p(f"{loop['code']} {loop['name']}", s.cell),
                _p(loop["reason"], s.cell),
                _p(loop["owner"], s.cell),
                _p(loop["due"], s.cell),
                _p(loop["late"], s.num, tone="bad"),
            ]
            for loop in part["late_loops"]
        ]
        story.append(_table(header, rows, (0.33, 0.17, 0.15, 0.20, 0.15)))
    else:
        story.append(_p(_("None."), s.small))
    return story


def report_pdf(report: InsightReport, language: str, *, company: str | None = None) -> bytes:
    """The report in ``language`` as an A4 PDF."""
    company = company or get_settings().company_name
    view = report_display.display(report, language, company=company)
    with i18n.use_language(view["lang"]):
        font, bold, wrap = _fonts(view["lang"], view)
        s = _Styles(font, bold, wrap)
        story: list[Any] = [
            _p(company, s.small),
            _p(view["heading"], s.title),
            _p(view["period"], s.base, bold=True),
            _p(f"{_('As of')} {view['as_of']}", s.small),
            *[_p(note, s.base, tone="bad") for note in view["notes"]],
            *_figures(view, s),
            *_week(view, s),
            *_movements(view, s),
            *_actions(view, s),
        ]
        footer = f"{view['title']} - {company}"

        def on_page(canvas: Canvas, doc: Any) -> None:
            canvas.saveState()
            canvas.setFont(font, 7)
            canvas.setFillColor(colors.grey)
            canvas.drawString(18 * mm, 10 * mm, footer.translate(_PLAIN))
            canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, str(doc.page))
            canvas.restoreState()

        out = BytesIO()
        doc = SimpleDocTemplate(
            out,
            pagesize=A4,
            leftMargin=18 * mm,
            rightMargin=18 * mm,
            topMargin=16 * mm,
            bottomMargin=18 * mm,
            title=view["title"],
            author=company,
        )
        doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
        return out.getvalue()


def filename(report: InsightReport, language: str) -> str:
    return f"flywheel-{report.kind}-report-{report.period_start.isoformat()}-{language}.pdf"


def attachment(session: Session, spec: Mapping[str, Any]) -> File:
    """The worker's renderer of ``{"kind": "insight_report", "id": …, "language": …}``."""
    report = session.get(InsightReport, int(spec["id"]))
    if report is None:
        raise AttachmentMissing(f"management report {spec['id']} no longer exists")
    language = i18n.normalize(str(spec.get("language") or "")) or i18n.DEFAULT_LANGUAGE
    return File(
        filename=filename(report, language),
        content_type="application/pdf",
        data=report_pdf(report, language),
    )
