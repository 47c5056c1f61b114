"""Template, statement and letter pages: the template editor with its preview, save and reset;
a customer's statement for staff (HTML, PDF, send); the public token page where the customer
confirms or disputes without signing in; the printable letter of a letter action."""

from __future__ import annotations

import base64
import contextlib
import re
import zlib
from datetime import timedelta
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.collections import statements
from flywheel.customers import service as customers
from flywheel.customers.schemas import ContactIn
from flywheel.models.collections import (
    CollectionAction,
    CollectionActionItem,
    Dispute,
    MessageTemplate,
    OutboxMessage,
    Statement,
)
from flywheel.models.customers import Customer
from flywheel.models.enums import Language, Role
from flywheel.models.receivables import Installment
from flywheel.web.contract import today
from tests.factories import TESTER, make_customer, make_invoice
from tests.web.pages import make_person, sign_in


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def pdf_text(content: bytes) -> str:
    """The content streams of a PDF decoded (ASCII85, then Flate, as reportlab writes them),
    as text: enough to find the Latin strings a page shows."""
    assert content.startswith(b"%PDF-")
    assert content.rstrip().endswith(b"%%EOF")
    parts: list[str] = []
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", content, re.S):
        raw = match.group(1).strip()
        if raw.endswith(b"~>"):
            raw = base64.a85decode(raw[:-2])
        with contextlib.suppress(zlib.error):
            raw = zlib.decompress(raw)
        parts.append(raw.decode("latin-1"))
    return "\n".join(parts)


def customer_with_items(
    session: Session, *, owner_name: str | None = None, language: Language = Language.EN
) -> Customer:
    """Two open items (one overdue, one not yet due) as of today, and a contact with e-mail."""
    owner = None
    if owner_name:
        owner = make_person(session, owner_name, role=Role.SALES)
    customer = make_customer(session, name="Northwind Precision Parts Ltd.", owner=owner)
    day = today()
    make_invoice(
        session,
        customer=customer,
        amount="1200.00",
        issued=day - timedelta(days=50),
        due=day - timedelta(days=20),
        number=f"W-{customer.code}-1",
    )
    make_invoice(
        session,
        customer=customer,
        amount="300.50",
        issued=day - timedelta(days=5),
        due=day + timedelta(days=25),
        number=f"W-{customer.code}-2",
    )
    customers.add_contact(
        session,
        actor=TESTER,
        data=ContactIn(
            customer_id=customer.id, name="Emily Carter", email="ap@example.com", language=language
        ),
    )
    session.flush()
    return customer


# ---------------------------------------------------------------- templates


def test_every_staff_role_sees_the_template_list(client: TestClient, session: Session) -> None:
    make_person(session, "viewer.t", role=Role.VIEWER)
    sign_in(client, "viewer.t")

    page = client.get("/collections/templates")

    assert page.status_code == 200
    assert 'data-key="friendly_reminder"' in page.text
    assert page.text.count('data-language="zh"') == 9
    assert "Customised" not in page.text.split('data-testid="templates"')[1].split("</table>")[0]


def test_a_collector_edits_previews_and_saves_a_template(
    client: TestClient, session: Session
) -> None:
    make_person(session, "collector.t", role=Role.COLLECTOR)
    csrf = sign_in(client, "collector.t")
    editor = client.get("/collections/templates/due_reminder/en")
    assert editor.status_code == 200
    assert "Payment reminder: invoices now due for Northwind Precision Parts Ltd." in editor.text

    preview = client.post(
        "/collections/templates/due_reminder/en/preview",
        data={
            "subject": "Hi {{ customer.name }}",
            "body": "Owed: {{ total_open|money(currency) }}",
        },
        headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
    )
    saved = client.post(
        "/collections/templates/due_reminder/en",
        data={
            "subject": "Hi {{ customer.name }}",
            "body": "Owed: {{ total_open|money(currency) }}",
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )

    assert preview.status_code == 200
    assert "<html" not in preview.text
    assert "Hi Northwind Precision Parts Ltd." in preview.text
    assert "Owed: CNY 50,030.50" in preview.text
    assert saved.status_code == 303
    row = session.scalars(select(MessageTemplate)).one()
    assert (row.key, row.language, row.subject) == ("due_reminder", "en", "Hi {{ customer.name }}")
    listing = client.get("/collections/templates").text
    row_html = listing.split('data-key="due_reminder"')[1].split("</tr>")[0]
    assert 'data-testid="customised"' in row_html

    reset = client.post(
        "/collections/templates/due_reminder/en/reset",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert reset.status_code == 303
    assert count(session, MessageTemplate) == 0


def test_a_broken_template_is_shown_back_with_the_error_and_not_saved(
    client: TestClient, session: Session
) -> None:
    make_person(session, "finance.t", role=Role.FINANCE)
    csrf = sign_in(client, "finance.t")

    answer = client.post(
        "/collections/templates/overdue_notice/zh",
        data={"subject": "逾期", "body": "{{ ''.__class__ }}", "csrf_token": csrf},
    )

    assert answer.status_code == 422
    assert 'data-testid="template-error"' in answer.text
    assert "{{ &#39;&#39;.__class__ }}" in answer.text  # the text as typed, kept for fixing
    assert count(session, MessageTemplate) == 0


def test_a_sales_rep_may_look_but_not_change_templates(
    client: TestClient, session: Session
) -> None:
    make_person(session, "rep.t", role=Role.SALES)
    csrf = sign_in(client, "rep.t")

    page = client.get("/collections/templates/final_notice/zh")
    refused = client.post(
        "/collections/templates/final_notice/zh",
        data={"subject": "x", "body": "y", "csrf_token": csrf},
    )

    assert page.status_code == 200
    assert "readonly" in page.text
    assert refused.status_code == 403
    assert count(session, MessageTemplate) == 0


def test_an_unknown_template_or_language_is_not_found(client: TestClient, session: Session) -> None:
    make_person(session, "viewer.t2", role=Role.VIEWER)
    sign_in(client, "viewer.t2")

    assert client.get("/collections/templates/nope/zh").status_code == 404
    assert client.get("/collections/templates/final_notice/fr").status_code == 404


# ---------------------------------------------------------------- staff statement pages


def test_staff_preview_the_statement_and_its_pdf(client: TestClient, session: Session) -> None:
    customer = customer_with_items(session)
    make_person(session, "collector.s", role=Role.COLLECTOR)
    sign_in(client, "collector.s")

    page = client.get(f"/customers/{customer.code}/statement")
    pdf = client.get(f"/customers/{customer.code}/statement.pdf")

    assert page.status_code == 200
    assert f"W-{customer.code}-1" in page.text
    assert "CNY 1,500.50" in page.text  # the total, written as the English statement writes it
    assert 'data-testid="send-statement"' in page.text
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert f"W-{customer.code}-1" in text
    assert "Statement of account" in text


def test_a_chinese_statement_pdf_uses_the_cid_font(client: TestClient, session: Session) -> None:
    customer = customer_with_items(session, language=Language.ZH)
    make_person(session, "collector.zh", role=Role.COLLECTOR)
    sign_in(client, "collector.zh")

    pdf = client.get(f"/customers/{customer.code}/statement.pdf")

    assert pdf.status_code == 200
    assert b"STSong-Light" in pdf.content
    assert len(pdf.content) > 1000


def test_sending_a_statement_queues_the_email_and_goes_back_to_the_360(
    client: TestClient, session: Session
) -> None:
    customer = customer_with_items(session)
    make_person(session, "collector.send", role=Role.COLLECTOR)
    csrf = sign_in(client, "collector.send")

    answer = client.post(
        f"/customers/{customer.code}/statements",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )

    assert answer.status_code == 303
    assert answer.headers["location"] == f"/customers/{customer.code}"
    message = session.scalars(select(OutboxMessage)).one()
    assert message.recipient == "ap@example.com"
    assert "/statement/" in message.body
    page = client.get(f"/customers/{customer.code}")
    assert "Statement sent to Emily Carter" in page.text
    assert 'data-panel="collections.statements"' in page.text
    assert 'data-status="sent"' in page.text
    assert "Waiting for the customer" in page.text


def test_a_rep_cannot_reach_another_reps_customer_statement(
    client: TestClient, session: Session
) -> None:
    other = customer_with_items(session, owner_name="someone.else")
    make_person(session, "rep.s", role=Role.SALES)
    csrf = sign_in(client, "rep.s")

    assert client.get(f"/customers/{other.code}/statement").status_code == 404
    assert client.get(f"/customers/{other.code}/statement.pdf").status_code == 404
    sent = client.post(f"/customers/{other.code}/statements", data={"csrf_token": csrf})
    assert sent.status_code == 404
    assert count(session, Statement) == 0


def test_a_viewer_cannot_send_a_statement(client: TestClient, session: Session) -> None:
    customer = customer_with_items(session)
    make_person(session, "viewer.s", role=Role.VIEWER)
    csrf = sign_in(client, "viewer.s")

    refused = client.post(f"/customers/{customer.code}/statements", data={"csrf_token": csrf})

    assert refused.status_code == 403
    assert count(session, OutboxMessage) == 0


# ---------------------------------------------------------------- public statement pages


def sent(session: Session, *, language: Language = Language.EN) -> tuple[Customer, Statement, str]:
    customer = customer_with_items(session, language=language)
    statement, token = statements.create_statement(
        session, actor=TESTER, customer=customer, as_of=today()
    )
    session.flush()
    return customer, statement, token


def test_the_customer_opens_the_link_and_confirms_without_signing_in(
    client: TestClient, session: Session
) -> None:
    customer, statement, token = sent(session)

    page = client.get(f"/statement/{token}")
    confirmed = client.post(
        f"/statement/{token}/confirm", data={"note": "Agreed."}, follow_redirects=False
    )
    after = client.get(confirmed.headers["location"])

    assert page.status_code == 200
    assert 'data-testid="confirm-form"' in page.text
    assert f"W-{customer.code}-1" in page.text
    assert 'class="mainnav"' not in page.text
    assert confirmed.status_code == 303
    assert statement.status == "confirmed"
    assert statement.answer_note == "Agreed."
    assert 'data-testid="statement-answered"' in after.text
    assert 'data-testid="confirm-form"' not in after.text
    assert "Balance confirmed" in after.text


def test_the_public_page_speaks_the_statements_language(
    client: TestClient, session: Session
) -> None:
    _customer, _statement, token = sent(session, language=Language.ZH)

    page = client.get(f"/statement/{token}", headers={"Accept-Language": "en"})

    assert page.status_code == 200
    assert 'lang="zh-CN"' in page.text
    assert "对账单" in page.text
    assert "¥1,500.50" in page.text


def test_the_customer_disputes_lines(client: TestClient, session: Session) -> None:
    customer, statement, token = sent(session)
    overdue = statement.lines[0]["installment_id"]

    answer = client.post(
        f"/statement/{token}/dispute",
        data={
            "dispute": [str(overdue)],
            f"reason_{overdue}": "price",
            f"amount_{overdue}": "200",
            f"note_{overdue}": "Unit price should be 10.00",
            "note": "Please check",
        },
        follow_redirects=False,
    )

    assert answer.status_code == 303
    assert statement.status == "disputed"
    dispute = session.scalars(select(Dispute)).one()
    assert (dispute.customer_id, dispute.installment_id) == (customer.id, overdue)
    assert (dispute.reason, dispute.amount, dispute.source) == (
        "price",
        Decimal("200.00"),
        "statement",
    )
    page = client.get(answer.headers["location"])
    assert "Lines disputed" in page.text
    assert "In dispute" in page.text


def test_a_bad_dispute_is_shown_back_and_changes_nothing(
    client: TestClient, session: Session
) -> None:
    _customer, statement, token = sent(session)
    first, second = (line["installment_id"] for line in statement.lines)

    answer = client.post(
        f"/statement/{token}/dispute",
        data={
            "dispute": [str(first), str(second)],
            f"reason_{first}": "quality",
            f"reason_{second}": "price",
            f"amount_{second}": "999999",
        },
    )

    assert answer.status_code == 422
    assert 'data-testid="statement-notice"' in answer.text
    assert count(session, Dispute) == 0
    assert statement.status == "sent"


def test_answering_twice_is_refused(client: TestClient, session: Session) -> None:
    _customer, _statement, token = sent(session)
    client.post(f"/statement/{token}/confirm", data={}, follow_redirects=False)

    again = client.post(f"/statement/{token}/confirm", data={})

    assert again.status_code == 409
    assert "already answered" in again.text


def test_an_unknown_token_is_not_found(client: TestClient, session: Session) -> None:
    sent(session)

    assert client.get("/statement/nope-not-a-token").status_code == 404
    assert client.post("/statement/nope-not-a-token/confirm", data={}).status_code == 404
    assert client.get("/statement/nope-not-a-token.pdf").status_code == 404


def test_the_customer_downloads_the_pdf(client: TestClient, session: Session) -> None:
    customer, _statement, token = sent(session)

    pdf = client.get(f"/statement/{token}.pdf")

    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert f"W-{customer.code}-2" in pdf_text(pdf.content)


# ---------------------------------------------------------------- letters


def letter_action(session: Session, customer: Customer) -> CollectionAction:
    day = today()
    installments = session.scalars(
        select(Installment).where(Installment.customer_id == customer.id)
    ).all()
    action = CollectionAction(
        customer_id=customer.id,
        due_on=day,
        kind="reminder",
        channel="letter",
        status="open",
        dedupe_key=f"letter-test:{customer.id}",
        template="formal_letter",
        language="zh",
        currency="CNY",
        items=[
            CollectionActionItem(
                customer_id=customer.id,
                installment_id=i.id,
                due_on=i.due_date,
                day_offset=(day - i.due_date).days,
                open_amount=i.open_amount,
            )
            for i in installments
        ],
    )
    session.add(action)
    session.flush()
    return action


def test_a_letter_action_prints_as_html_and_pdf(client: TestClient, session: Session) -> None:
    customer = customer_with_items(session)
    action = letter_action(session, customer)
    make_person(session, "collector.l", role=Role.COLLECTOR)
    sign_in(client, "collector.l")

    page = client.get(f"/collections/actions/{action.id}/letter")
    pdf = client.get(f"/collections/actions/{action.id}/letter.pdf")

    assert page.status_code == 200
    assert "<h1>催款函</h1>" in page.text
    assert "尊敬的Emily Carter：" in page.text
    assert f"W-{customer.code}-1" in page.text
    assert "¥1,500.50" in page.text
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF-")
    assert b"STSong-Light" in pdf.content


def test_a_rep_cannot_print_another_reps_letter(client: TestClient, session: Session) -> None:
    customer = customer_with_items(session, owner_name="other.owner")
    action = letter_action(session, customer)
    make_person(session, "rep.l", role=Role.SALES)
    sign_in(client, "rep.l")

    assert client.get(f"/collections/actions/{action.id}/letter").status_code == 404
    assert client.get(f"/collections/actions/{action.id}/letter.pdf").status_code == 404


def test_a_disputed_line_needs_a_reason(client: TestClient, session: Session) -> None:
    _customer, statement, token = sent(session)
    line = statement.lines[0]["installment_id"]

    answer = client.post(
        f"/statement/{token}/dispute", data={"dispute": [str(line)], f"reason_{line}": ""}
    )

    assert answer.status_code == 422
    assert "Choose a reason for each line you dispute." in answer.text
    assert count(session, Dispute) == 0
