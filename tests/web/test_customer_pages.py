"""The customer pages: the list (search in Chinese and English, filters, sorting, paging, the
live search), the customer 360 (figures, invoices, payments, contacts, related accounts, the
timeline and its pages, panel slots), logging a touchpoint (success, errors at the fields,
denials that change nothing) and a bounded number of statements per page."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jinja2 import ChoiceLoader, DictLoader
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.customers import service as customers
from flywheel.customers.schemas import CustomerChanges, TouchpointIn
from flywheel.models.audit import AuditEvent
from flywheel.models.customers import Contact, Customer, Touchpoint
from flywheel.models.enums import BuyingRole, CustomerStatus, Tier, TouchpointKind
from flywheel.web import pages, panels
from tests.factories import TESTER, make_contact, make_customer, make_invoice, make_payment
from tests.web.customer_world import World, world_fixture  # noqa: F401  (the fixture "world")
from tests.web.pages import audit_count, sign_in

AS_OF = "2026-03-15"


def listed(text: str) -> list[str]:
    """The account codes of a list page's rows, in order."""
    return re.findall(r'<tr data-code="([^"]+)"', text)


def text_of(fragment: str) -> str:
    """A fragment of a page as plain text with single spaces."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def section(page: str, element_id: str) -> str:
    """The HTML of the card with ``id``, from its id to its end."""
    start = page.index(f'id="{element_id}"')
    return page[start : page.index("</section>", start)]


def timeline_entries(page: str) -> list[tuple[str, str, str]]:
    """(kind, action or touchpoint kind, HTML) of each entry of the page's timeline."""
    timeline = page[page.index('id="timeline"') :]
    timeline = timeline[: timeline.index("</ol>")]
    pattern = r'<li class="(audit|touchpoint)" data-entry="[a-z]+" data-action="([a-z_.]+)">'
    parts = re.split(pattern, timeline)[1:]
    return [(parts[i], parts[i + 1], parts[i + 2]) for i in range(0, len(parts), 3)]


def touchpoint_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Touchpoint)) or 0


# ---------------------------------------------------------------- the list


def test_the_list_needs_a_sign_in(client: TestClient) -> None:
    answer = client.get("/customers?tier=key", follow_redirects=False)

    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in?next=%2Fcustomers%3Ftier%3Dkey"


@pytest.fixture
def directory(session: Session, world: World) -> None:
    sh = make_customer(session, code="SH-001", name="上海华东机械有限公司", owner=world.rep)
    ac = make_customer(session, code="AC-002", name="Acme Industrial Ltd", owner=world.other_rep)
    bj = make_customer(session, code="BJ-003", name="北京精密仪器", owner=world.rep)
    make_customer(session, code="PCT-004", name="100% Cotton")
    make_contact(session, customer=bj, name="John Smith")
    make_contact(session, customer=ac, name="李娜")
    make_contact(session, customer=sh, name="王经理")


@pytest.mark.parametrize(
    ("search", "codes"),
    [
        ("华东机械", ["SH-001"]),
        ("北京", ["BJ-003"]),
        ("李娜", ["AC-002"]),
        ("acme", ["AC-002"]),
        ("ACME industrial", ["AC-002"]),
        ("smith", ["BJ-003"]),
        ("bj-0", ["BJ-003"]),
        ("100%", ["PCT-004"]),
        ("nothing like it", []),
    ],
)
def test_search_finds_code_name_or_contact_in_chinese_and_english(
    client: TestClient, directory: None, search: str, codes: list[str]
) -> None:
    sign_in(client, "admin.li")

    answer = client.get("/customers", params={"search": search})

    assert answer.status_code == 200
    assert listed(answer.text) == codes
    assert f'value="{html.escape(search)}"' in answer.text


def test_a_search_without_matches_says_so_and_offers_the_whole_list(
    client: TestClient, directory: None
) -> None:
    sign_in(client, "admin.li")

    answer = client.get("/customers", params={"search": "nothing like it"})

    assert "No account matches these filters." in answer.text
    assert '<a href="/customers">Show all accounts</a>' in answer.text


def test_the_live_search_answers_with_the_results_only(client: TestClient, directory: None) -> None:
    sign_in(client, "admin.li")

    answer = client.get(
        "/customers",
        params={"search": "华东", "tier": "", "owner": "", "sort": "code", "order": "asc"},
        headers={"HX-Request": "true", "HX-Target": "customer-results"},
    )

    assert answer.status_code == 200
    assert "<html" not in answer.text
    assert 'id="customer-filters"' not in answer.text
    assert listed(answer.text) == ["SH-001"]
    assert "1–1 of 1" in answer.text
    # The address bar gets the list's own link, without the form's empty fields.
    assert answer.headers["HX-Push-Url"] == "/customers?search=%E5%8D%8E%E4%B8%9C"


def test_the_search_box_is_wired_for_live_search_and_works_as_a_plain_form(
    client: TestClient, directory: None
) -> None:
    sign_in(client, "admin.li")

    page = client.get("/customers").text

    search_box = re.search(r'<input type="search" name="search"[^>]*>', page, re.S)
    assert search_box is not None
    assert 'hx-get="/customers"' in search_box.group(0)
    assert 'hx-trigger="input changed delay:300ms, search"' in search_box.group(0)
    assert 'hx-target="#customer-results"' in search_box.group(0)
    assert '<form method="get" action="/customers"' in page
    assert '<div id="customer-results"' in page


def test_blank_filters_of_a_plain_form_submit_mean_any(client: TestClient, directory: None) -> None:
    sign_in(client, "admin.li")

    answer = client.get("/customers?search=&tier=&owner=&region=&status=&sort=code&order=asc")

    assert answer.status_code == 200
    assert listed(answer.text) == ["AC-002", "BJ-003", "PCT-004", "SH-001"]


@pytest.fixture
def segments(session: Session, world: World) -> None:
    make_customer(session, code="F-1", tier=Tier.KEY, region="华东", owner=world.rep)
    make_customer(session, code="F-2", tier=Tier.KEY, region="华南", owner=world.other_rep)
    make_customer(session, code="F-3", tier=Tier.GROWTH, region="华东", owner=world.rep)
    dormant = make_customer(session, code="F-4", region="华北")
    dormant.status = CustomerStatus.INACTIVE.value
    session.flush()


@pytest.mark.parametrize(
    ("params", "codes"),
    [
        ({"tier": "key"}, ["F-1", "F-2"]),
        ({"tier": "growth"}, ["F-3"]),
        ({"region": "华东"}, ["F-1", "F-3"]),
        ({"owner": "wang.rep"}, ["F-1", "F-3"]),
        ({"owner": "zhao.rep"}, ["F-2"]),
        ({"owner": "nobody"}, []),
        ({"status": "inactive"}, ["F-4"]),
        ({"status": "active", "region": "华东", "tier": "growth"}, ["F-3"]),
    ],
)
def test_each_filter(
    client: TestClient, segments: None, params: dict[str, str], codes: list[str]
) -> None:
    sign_in(client, "admin.li")

    answer = client.get("/customers", params=params)

    assert answer.status_code == 200
    assert listed(answer.text) == codes


def test_the_filters_offer_the_owners_and_regions_in_scope(
    client: TestClient, segments: None
) -> None:
    sign_in(client, "admin.li")

    page = client.get("/customers", params={"owner": "zhao.rep"}).text

    owner_select = re.search(r'<select name="owner">(.*?)</select>', page, re.S)
    assert owner_select is not None
    assert re.findall(r'<option value="([^"]*)"', owner_select.group(1)) == [
        "",
        "wang.rep",
        "zhao.rep",
    ]
    assert '<option value="zhao.rep" selected>' in owner_select.group(1)
    region_select = re.search(r'<select name="region">(.*?)</select>', page, re.S)
    assert region_select is not None
    assert re.findall(r'<option value="([^"]*)"', region_select.group(1)) == [
        "",
        "华东",
        "华北",
        "华南",
    ]


def test_a_sales_rep_sees_his_own_accounts_and_no_owner_filter(
    client: TestClient, segments: None
) -> None:
    sign_in(client, "wang.rep")

    page = client.get("/customers")
    filtered = client.get("/customers", params={"owner": "zhao.rep"})
    regions = re.search(r'<select name="region">(.*?)</select>', page.text, re.S)

    assert listed(page.text) == ["F-1", "F-3"]
    assert '<select name="owner">' not in page.text
    assert listed(filtered.text) == []
    assert regions is not None
    assert re.findall(r'<option value="([^"]*)"', regions.group(1)) == ["", "华东"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"tier": "gold"}, "tier must be one of key, growth, standard"),
        ({"status": "deleted"}, "status must be one of"),
        ({"sort": "owner"}, "sort must be one of code, name, created_on"),
        ({"order": "up"}, "order must be one of asc, desc"),
        ({"page": "0"}, "the request is not valid"),
        ({"page_size": "201"}, "the request is not valid"),
    ],
)
def test_bad_list_parameters_get_an_error_page(
    client: TestClient, world: World, params: dict[str, str], message: str
) -> None:
    sign_in(client, "admin.li")

    answer = client.get("/customers", params=params)

    assert answer.status_code == 422
    assert message in html.unescape(answer.text)


@pytest.fixture
def sortable(session: Session, world: World) -> None:
    make_customer(session, code="C-1", name="Delta", created_on=date(2024, 3, 1))
    make_customer(session, code="C-2", name="Alpha", created_on=date(2024, 1, 1))
    make_customer(session, code="C-3", name="Charlie", created_on=date(2024, 3, 1))
    make_customer(session, code="C-4", name="Bravo", created_on=date(2023, 12, 31))


@pytest.mark.parametrize(
    ("sort", "order", "codes"),
    [
        ("code", "asc", ["C-1", "C-2", "C-3", "C-4"]),
        ("code", "desc", ["C-4", "C-3", "C-2", "C-1"]),
        ("name", "asc", ["C-2", "C-4", "C-3", "C-1"]),
        ("name", "desc", ["C-1", "C-3", "C-4", "C-2"]),
        ("created_on", "asc", ["C-4", "C-2", "C-1", "C-3"]),
        ("created_on", "desc", ["C-3", "C-1", "C-2", "C-4"]),
    ],
)
def test_sorting(
    client: TestClient, sortable: None, sort: str, order: str, codes: list[str]
) -> None:
    sign_in(client, "admin.li")

    answer = client.get("/customers", params={"sort": sort, "order": order})

    assert listed(answer.text) == codes


def test_sort_links_flip_the_order_of_the_sorted_column_and_keep_the_filters(
    client: TestClient, sortable: None
) -> None:
    sign_in(client, "admin.li")

    page = client.get("/customers", params={"search": "C-", "sort": "name"}).text

    assert 'href="/customers?search=C-&amp;sort=name&amp;order=desc"' in page
    assert 'href="/customers?search=C-"' in page  # by code, ascending: the default
    assert 'href="/customers?search=C-&amp;sort=created_on"' in page


def test_pagination_shows_the_range_and_moves_between_pages(
    client: TestClient, session: Session, world: World
) -> None:
    for n in range(1, 8):
        make_customer(session, code=f"P-{n}")
    sign_in(client, "admin.li")

    pages_seen = [
        client.get("/customers", params={"page": page, "page_size": 3}).text for page in (1, 2, 3)
    ]

    assert [listed(p) for p in pages_seen] == [
        ["P-1", "P-2", "P-3"],
        ["P-4", "P-5", "P-6"],
        ["P-7"],
    ]
    assert "1–3 of 7" in pages_seen[0]
    assert "4–6 of 7" in pages_seen[1]
    assert "7–7 of 7" in pages_seen[2]
    assert 'href="/customers?page=3&amp;page_size=3"' in pages_seen[1]
    assert 'href="/customers?page_size=3" hx-get="/customers?page_size=3"' in pages_seen[1]
    assert "Page 2 of 3" in pages_seen[1]
    assert 'rel="next"' not in pages_seen[2]


def test_a_page_past_the_end_says_so(client: TestClient, session: Session, world: World) -> None:
    make_customer(session, code="P-1")
    sign_in(client, "admin.li")

    answer = client.get("/customers", params={"page": 5})

    assert listed(answer.text) == []
    assert "This page is past the end of the list." in answer.text


def test_the_list_defaults_to_50_a_page(client: TestClient, session: Session, world: World) -> None:
    for n in range(55):
        make_customer(session, code=f"D-{n:03d}")
    sign_in(client, "admin.li")

    page = client.get("/customers").text

    assert len(listed(page)) == 50
    assert "1–50 of 55" in page


def test_the_list_shows_each_accounts_open_and_overdue_balance(
    client: TestClient, session: Session, world: World
) -> None:
    late = make_customer(session, code="B-1", name="Late payer", tier=Tier.KEY, owner=world.rep)
    make_invoice(session, customer=late, amount="1000.00", due=date(2026, 3, 1))
    make_invoice(session, customer=late, amount="250.50", due=date(2026, 4, 1))
    make_invoice(session, customer=late, amount="80.00", due=date(2026, 2, 1), currency="USD")
    make_payment(session, customer=late, amount="200.00", received=date(2026, 2, 20))
    make_customer(session, code="B-2", name="Nothing open")
    sign_in(client, "admin.li")

    page = client.get("/customers", params={"as_of": AS_OF}).text

    row = re.search(r'<tr data-code="B-1">(.*?)</tr>', page, re.S)
    empty = re.search(r'<tr data-code="B-2">(.*?)</tr>', page, re.S)
    assert row is not None
    assert empty is not None
    assert text_of(row.group(1)) == (
        "B-1 Late payer Key 华东 Wang Wei Active CN¥1,050.50 $80.00 CN¥800.00 $80.00 2025-01-01"
    )
    assert text_of(empty.group(1)) == "B-2 Nothing open Standard 华东 Active – – 2025-01-01"


# ---------------------------------------------------------------- the 360


@pytest.fixture
def account(session: Session, world: World) -> Customer:
    """ACC-1 of the rep "wang.rep": in the group GRP (owned by the other rep), referred by REF
    (his own); two invoices, one with two installments; a payment; contacts; a touchpoint."""
    parent = make_customer(session, code="GRP", name="集团总部", owner=world.other_rep)
    referrer = make_customer(session, code="REF", name="推荐客户", owner=world.rep)
    customer = make_customer(
        session, code="ACC-1", name="华东分公司", tier=Tier.KEY, owner=world.rep
    )
    customer.parent_id = parent.id
    customer.referred_by_id = referrer.id
    customer.industry = "机械"
    session.flush()
    boss = make_contact(session, customer=customer, name="王总", email="wang@example.cn")
    boss.buying_role = BuyingRole.DECISION_MAKER.value
    boss.title = "总经理"
    boss.phone = "+86 21 5555 0101"
    make_contact(session, customer=customer, name="Alice Finance")
    session.flush()
    make_invoice(
        session,
        customer=customer,
        number="INV-A",
        amount="1000.00",
        issued=date(2026, 1, 1),
        due=date(2026, 3, 1),
    )
    make_invoice(
        session,
        customer=customer,
        number="INV-B",
        amount="600.00",
        issued=date(2026, 2, 1),
        installments=[(date(2026, 3, 10), "300.00"), (date(2026, 4, 10), "300.00")],
    )
    make_payment(
        session, customer=customer, amount="200.00", received=date(2026, 2, 15), reference="PAY-1"
    )
    customers.log_touchpoint(
        session,
        actor=TESTER,
        data=TouchpointIn(
            customer_id=customer.id,
            contact_id=boss.id,
            user_id=world.rep.id,
            kind=TouchpointKind.VISIT,
            occurred_at=datetime(2026, 2, 20, 9, 30, tzinfo=UTC),
            summary="季度回顾：续约意向强",
            satisfaction=4,
        ),
    )
    return customer


def test_the_360_shows_the_key_figures(client: TestClient, account: Customer) -> None:
    sign_in(client, "wang.rep")

    page = client.get("/customers/ACC-1", params={"as_of": AS_OF})

    assert page.status_code == 200
    figures = {
        kpi: text_of(body)
        for kpi, body in re.findall(r'data-kpi="([a-z_]+)">(.*?)</div>\s*</div>', page.text, re.S)
    }
    assert figures == {
        "open_balance": "Open balance CN¥1,400.00",
        "overdue_balance": "Overdue balance CN¥1,100.00",
        "open_invoices": "Open invoices 2",
        "oldest_overdue": "Oldest overdue 14 days",
        "last_payment": "Last payment 2026-02-15 28 days ago",
    }


def test_the_360_shows_the_profile_with_the_group_named_but_not_linked_out_of_scope(
    client: TestClient, account: Customer
) -> None:
    sign_in(client, "wang.rep")

    profile = section(client.get("/customers/ACC-1", params={"as_of": AS_OF}).text, "profile")

    assert text_of(profile).startswith(
        'id="profile"> Profile Code ACC-1 Name 华东分公司 Tier Key Industry 机械 Region 华东 '
        "Owner Wang Wei wang.rep Parent account 集团总部 GRP Referred by 推荐客户 REF "
        "Currency CNY Payment terms NET30 Status Active Customer since Jan 1, 2025"
    )
    # GRP belongs to another rep: named, not linked (its 360 would be "not found").
    assert 'href="/customers/GRP"' not in profile
    assert '<a href="/customers/REF">推荐客户</a>' in profile


def test_for_a_manager_the_group_account_is_a_link(client: TestClient, account: Customer) -> None:
    sign_in(client, "admin.li")

    profile = section(client.get("/customers/ACC-1").text, "profile")

    assert '<a href="/customers/GRP">集团总部</a>' in profile


def test_the_360_lists_contacts_with_their_buying_roles(
    client: TestClient, account: Customer
) -> None:
    sign_in(client, "wang.rep")

    contacts = section(client.get("/customers/ACC-1").text, "contacts")

    assert text_of(contacts) == (
        'id="contacts"> Contacts 2 王总 总经理 Decision maker wang@example.cn · '
        "+86 21 5555 0101 Alice Finance"
    )
    assert 'href="mailto:wang@example.cn"' in contacts


def test_the_360_lists_open_installments_with_days_overdue_and_links(
    client: TestClient, account: Customer
) -> None:
    sign_in(client, "wang.rep")

    invoices = section(
        client.get("/customers/ACC-1", params={"as_of": AS_OF}).text, "open-invoices"
    )

    rows = re.findall(r'<tr data-invoice="[^"]+" data-installment="\d+">(.*?)</tr>', invoices, re.S)
    assert [text_of(r) for r in rows] == [
        "INV-A – 2026-01-01 2026-03-01 CN¥1,000.00 CN¥800.00 14",
        "INV-B 1 of 2 2026-02-01 2026-03-10 CN¥300.00 CN¥300.00 5",
        "INV-B 2 of 2 2026-02-01 2026-04-10 CN¥300.00 CN¥300.00 0",
    ]
    assert '<a href="/invoices/INV-A">INV-A</a>' in invoices


def test_the_360_lists_recent_payments_with_where_they_went(
    client: TestClient, session: Session, account: Customer
) -> None:
    make_payment(
        session, customer=account, amount="900.00", received=date(2026, 3, 5), reference="PAY-2"
    )
    sign_in(client, "wang.rep")

    payments = section(client.get("/customers/ACC-1", params={"as_of": AS_OF}).text, "payments")

    rows = re.findall(r'<tr data-payment="[^"]+">(.*?)</tr>', payments, re.S)
    assert [text_of(r) for r in rows] == [
        "PAY-2 2026-03-05 Bank transfer CN¥900.00 INV-A CN¥800.00 INV-B CN¥100.00 –",
        "PAY-1 2026-02-15 Bank transfer CN¥200.00 INV-A CN¥200.00 –",
    ]


def test_the_chart_gets_twelve_months_of_invoiced_and_received_from_one_statement(
    client: TestClient, account: Customer
) -> None:
    sign_in(client, "wang.rep")

    page = client.get("/customers/ACC-1", params={"as_of": AS_OF}).text

    data = re.search(r'<script type="application/json" id="activity-data">(.*?)</script>', page)
    assert data is not None
    chart = json.loads(data.group(1))
    assert chart["months"][0] == "2025-04"
    assert chart["months"][-1] == "2026-03"
    assert chart["invoiced"][-3:] == [1000.0, 600.0, 0.0]
    assert chart["received"][-3:] == [0.0, 200.0, 0.0]
    assert sum(chart["invoiced"]) == 1600.0
    assert chart["labels"] == {"invoiced": "Invoiced", "received": "Received"}
    assert "/static/vendor/echarts.min.js" in page


def test_an_account_without_history_has_empty_states(
    client: TestClient, session: Session, world: World
) -> None:
    make_customer(session, code="NEW-1", name="Brand new", owner=world.rep)
    sign_in(client, "wang.rep")

    page = client.get("/customers/NEW-1").text

    assert "Nothing is open: every invoice is settled." in page
    assert "No payment received yet." in page
    assert "No contacts yet." in page
    assert "echarts.min.js" not in page
    assert "Nothing invoiced or received in CNY in the last 12 months." in page


@pytest.mark.parametrize(
    "path", ["/customers/GRP", "/customers/NO-SUCH", "/customers/GRP/timeline"]
)
def test_a_sales_rep_gets_not_found_for_another_reps_account(
    client: TestClient, account: Customer, path: str
) -> None:
    sign_in(client, "wang.rep")

    answer = client.get(path)

    assert answer.status_code == 404
    assert "集团总部" not in answer.text


# ---------------------------------------------------------------- the timeline


def _set_times(session: Session, times: dict[str, datetime]) -> None:
    """Pin the audit events of each action to a moment, for a predictable order."""
    for action, moment in times.items():
        session.execute(
            update(AuditEvent).where(AuditEvent.action == action).values(occurred_at=moment)
        )
    session.flush()


def test_the_timeline_merges_audit_events_and_touchpoints_newest_first(
    client: TestClient, session: Session, world: World
) -> None:
    customer = make_customer(session, code="T-1", name="时间线客户", owner=world.rep)
    contact = make_contact(session, customer=customer, name="李娜")
    make_invoice(session, customer=customer, number="INV-T", amount="500.00", due=date(2026, 2, 1))
    customers.edit_customer(
        session,
        actor=Actor.for_user(world.admin),
        code="T-1",
        data=CustomerChanges(tier=Tier.KEY, region="华南"),
    )
    _set_times(
        session,
        {
            "customer.created": datetime(2026, 1, 1, 8, 0, tzinfo=UTC),
            "contact.created": datetime(2026, 1, 2, 8, 0, tzinfo=UTC),
            "invoice.created": datetime(2026, 1, 5, 8, 0, tzinfo=UTC),
            "customer.updated": datetime(2026, 1, 20, 8, 0, tzinfo=UTC),
        },
    )
    customers.log_touchpoint(
        session,
        actor=Actor.for_user(world.rep),
        data=TouchpointIn(
            customer_id=customer.id,
            contact_id=contact.id,
            user_id=world.rep.id,
            kind=TouchpointKind.CALL,
            occurred_at=datetime(2026, 1, 10, 3, 15, tzinfo=UTC),
            summary="Asked for a discount",
            satisfaction=2,
        ),
    )
    sign_in(client, "wang.rep")

    page = client.get("/customers/T-1").text

    items = timeline_entries(page)
    assert [(kind, action) for kind, action, _body in items] == [
        ("audit", "customer.updated"),
        ("touchpoint", "call"),
        ("audit", "invoice.created"),
        ("audit", "contact.created"),
        ("audit", "customer.created"),
    ]
    bodies = [text_of(body) for _kind, _action, body in items]
    assert bodies[0] == (
        "2026-01-20 08:00 UTC · admin.li Account changed Tier : Standard → Key Region : 华东 → 华南"
    )
    assert bodies[1] == (
        "2026-01-10 03:15 UTC · Wang Wei Call with 李娜 Satisfaction 2/5 Asked for a discount"
    )
    assert bodies[2].startswith("2026-01-05 08:00 UTC · tests Invoice issued Number : INV-T ")
    assert "Amount : CN¥500.00" in bodies[2]
    assert "Installments : Feb 1, 2026 CN¥500.00" in bodies[2]
    assert bodies[3].startswith("2026-01-02 08:00 UTC · tests Contact added Name : 李娜")
    assert bodies[4].startswith(
        "2026-01-01 08:00 UTC · tests Account created Code : T-1 Name : 时间线客户 Tier : Standard"
    )
    assert "Owner : Wang Wei" in bodies[4]
    # The touchpoint is shown once: its "logged" audit event would only repeat it.
    assert page.count('data-entry="touchpoint"') == 1


def test_the_timeline_loads_more_a_page_at_a_time_without_gaps_or_repeats(
    client: TestClient, session: Session, world: World
) -> None:
    customer = make_customer(session, code="T-2", owner=world.rep)
    _set_times(session, {"customer.created": datetime(2025, 12, 31, tzinfo=UTC)})
    start = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    for n in range(25):
        customers.log_touchpoint(
            session,
            actor=TESTER,
            data=TouchpointIn(
                customer_id=customer.id,
                kind=TouchpointKind.EMAIL,
                # Two touchpoints share every moment: the cursor must split the tie.
                occurred_at=start + timedelta(hours=n // 2),
                summary=f"mail {n:02d}",
            ),
        )
    sign_in(client, "wang.rep")

    first = client.get("/customers/T-2").text
    token = re.search(r'data-more="([^"]+)"', first)
    assert token is not None
    more = client.get(
        "/customers/T-2/timeline", params={"before": token.group(1)}, headers={"HX-Request": "true"}
    )

    first_summaries = re.findall(r"mail (\d\d)", section(first, "timeline-card"))
    more_summaries = re.findall(r"mail (\d\d)", more.text)
    assert len(first_summaries) == 20
    assert first_summaries[:4] == ["24", "23", "22", "21"]
    assert sorted(first_summaries + more_summaries, reverse=True) == [
        f"{n:02d}" for n in range(24, -1, -1)
    ]
    assert len(set(first_summaries + more_summaries)) == 25
    # The last page ends with the account's creation and offers no more.
    assert "Account created" in more.text
    assert "data-more" not in more.text
    assert "<html" not in more.text


def test_without_javascript_load_more_is_a_page_of_its_own(
    client: TestClient, session: Session, world: World
) -> None:
    customer = make_customer(session, code="T-3", name="无脚本", owner=world.rep)
    _set_times(session, {"customer.created": datetime(2025, 12, 31, tzinfo=UTC)})
    for n in range(21):
        customers.log_touchpoint(
            session,
            actor=TESTER,
            data=TouchpointIn(
                customer_id=customer.id,
                kind=TouchpointKind.CALL,
                occurred_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=n),
                summary=f"call {n:02d}",
            ),
        )
    sign_in(client, "wang.rep")
    token = re.search(r'data-more="([^"]+)"', client.get("/customers/T-3").text)
    assert token is not None

    page = client.get(f"/customers/T-3/timeline?before={token.group(1)}")

    assert page.status_code == 200
    assert "<html" in page.text
    assert re.findall(r"call (\d\d)", page.text) == ["00"]
    assert '<a href="/customers/T-3">无脚本</a>' in page.text


@pytest.mark.parametrize("token", ["x", "1.2.3", "1.0", "99999999999999999999999.0.1", "1.0.-4"])
def test_a_bad_timeline_position_is_a_validation_error(
    client: TestClient, account: Customer, token: str
) -> None:
    sign_in(client, "wang.rep")

    answer = client.get("/customers/ACC-1/timeline", params={"before": token})

    assert answer.status_code == 422


# ---------------------------------------------------------------- logging a touchpoint


def _touchpoint_form(**changes: str) -> dict[str, str]:
    form = {
        "kind": "meeting",
        "contact_id": "",
        "occurred_at": "2026-03-01T09:30",
        "tz": "Asia/Shanghai",
        "summary": "谈了付款计划",
        "satisfaction": "5",
    }
    form.update(changes)
    return form


def test_logging_a_touchpoint_with_htmx_returns_a_fresh_form_and_the_new_timeline(
    client: TestClient, session: Session, account: Customer
) -> None:
    token = sign_in(client, "wang.rep")
    boss = session.scalars(select(Contact).where(Contact.name == "王总")).one()
    before_events = audit_count(session)

    answer = client.post(
        "/customers/ACC-1/touchpoints",
        data=_touchpoint_form(contact_id=str(boss.id)),
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )

    assert answer.status_code == 200
    assert "Touchpoint logged." in answer.text
    assert '<ol class="timeline" id="timeline" hx-swap-oob="true">' in answer.text
    timeline = answer.text[answer.text.index('id="timeline"') :]
    first = re.search(r"<li class=\"(\w+)\".*?</li>", timeline, re.S)
    assert first is not None
    assert "谈了付款计划" in timeline
    assert "with 王总" in timeline
    assert 'value="2026-03-01T09:30"' not in answer.text  # the form is fresh
    logged = session.scalars(
        select(Touchpoint)
        .where(Touchpoint.customer_id == account.id)
        .order_by(Touchpoint.id.desc())
    ).first()
    assert logged is not None
    assert (
        logged.kind,
        logged.contact_id,
        logged.user_id,
        logged.occurred_at,
        logged.summary,
        logged.satisfaction,
    ) == (
        "meeting",
        boss.id,
        account.owner_id,
        datetime(2026, 3, 1, 1, 30, tzinfo=UTC),  # 09:30 in Shanghai
        "谈了付款计划",
        5,
    )
    assert audit_count(session) == before_events + 1


def test_logging_a_touchpoint_with_a_plain_form_redirects_to_the_360(
    client: TestClient, session: Session, account: Customer
) -> None:
    token = sign_in(client, "wang.rep")
    before = touchpoint_count(session)

    answer = client.post(
        "/customers/ACC-1/touchpoints",
        data={**_touchpoint_form(tz="UTC", satisfaction=""), "csrf_token": token},
        follow_redirects=False,
    )

    assert answer.status_code == 303
    assert answer.headers["location"] == "/customers/ACC-1#timeline"
    assert touchpoint_count(session) == before + 1
    page = client.get("/customers/ACC-1").text
    assert "Touchpoint logged." in page
    assert "2026-03-01 09:30 UTC" in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"kind": "telepathy"}, "kind", "Choose what kind of touchpoint it was."),
        ({"occurred_at": "yesterday"}, "occurred_at", "Enter the date and time it happened"),
        ({"occurred_at": ""}, "occurred_at", "Enter the date and time it happened"),
        ({"occurred_at": "3026-01-01T10:00"}, "occurred_at", "The time is in the future"),
        ({"satisfaction": "7"}, "satisfaction", "Satisfaction is a score from 1 to 5"),
        ({"satisfaction": "great"}, "satisfaction", "Satisfaction is a score from 1 to 5"),
        ({"contact_id": "abc"}, "contact_id", "Choose one of this account’s contacts"),
        ({"summary": "x" * 10_001}, "summary", "The summary can be at most 10,000 characters."),
    ],
)
def test_a_bad_touchpoint_is_shown_again_with_the_message_at_the_field(
    client: TestClient,
    session: Session,
    account: Customer,
    changes: dict[str, str],
    field: str,
    message: str,
) -> None:
    token = sign_in(client, "wang.rep")
    before = (touchpoint_count(session), audit_count(session))

    answer = client.post(
        "/customers/ACC-1/touchpoints",
        data=_touchpoint_form(**changes),
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )

    assert answer.status_code == 422
    error = re.search(
        rf'<span class="field-error" id="{field}-error" role="alert">(.*?)</span>', answer.text
    )
    assert error is not None
    assert html.unescape(error.group(1)).startswith(message)
    assert 'aria-invalid="true"' in answer.text
    assert (touchpoint_count(session), audit_count(session)) == before
    if field != "summary":
        assert ">谈了付款计划</textarea>" in answer.text  # what he typed is kept


def test_a_contact_of_another_account_is_refused_at_the_field(
    client: TestClient, session: Session, account: Customer
) -> None:
    stranger = make_customer(session, code="OTHER")
    outsider = make_contact(session, customer=stranger, name="Outsider")
    token = sign_in(client, "wang.rep")
    before = (touchpoint_count(session), audit_count(session))

    answer = client.post(
        "/customers/ACC-1/touchpoints",
        data={**_touchpoint_form(contact_id=str(outsider.id)), "csrf_token": token},
    )

    assert answer.status_code == 422
    assert "<html" in answer.text  # the whole 360 again, without JavaScript
    assert 'id="contact_id-error"' in answer.text
    assert "Choose one of this account’s contacts, or nobody." in html.unescape(answer.text)
    assert (touchpoint_count(session), audit_count(session)) == before


def test_the_same_touchpoint_twice_is_refused_once_logged(
    client: TestClient, session: Session, account: Customer
) -> None:
    token = sign_in(client, "wang.rep")
    headers = {"HX-Request": "true", "X-CSRF-Token": token}
    client.post("/customers/ACC-1/touchpoints", data=_touchpoint_form(), headers=headers)
    before = (touchpoint_count(session), audit_count(session))

    again = client.post("/customers/ACC-1/touchpoints", data=_touchpoint_form(), headers=headers)

    assert again.status_code == 422
    assert "This touchpoint is already on the timeline." in again.text
    assert (touchpoint_count(session), audit_count(session)) == before


def test_a_viewer_sees_no_form_and_may_not_post(
    client: TestClient, session: Session, account: Customer
) -> None:
    token = sign_in(client, "viewer.chen")
    page = client.get("/customers/ACC-1")
    before = (touchpoint_count(session), audit_count(session))

    answer = client.post(
        "/customers/ACC-1/touchpoints", data={**_touchpoint_form(), "csrf_token": token}
    )

    assert page.status_code == 200
    assert "Log a touchpoint" not in page.text
    assert '<form method="post" action="/customers/ACC-1/touchpoints"' not in page.text
    assert answer.status_code == 403
    assert (touchpoint_count(session), audit_count(session)) == before


def test_a_sales_rep_cannot_log_on_another_reps_account(
    client: TestClient, session: Session, account: Customer
) -> None:
    token = sign_in(client, "zhao.rep")
    before = (touchpoint_count(session), audit_count(session))

    answer = client.post(
        "/customers/ACC-1/touchpoints", data={**_touchpoint_form(), "csrf_token": token}
    )

    assert answer.status_code == 404
    assert (touchpoint_count(session), audit_count(session)) == before


def test_a_post_without_the_csrf_token_changes_nothing(
    client: TestClient, session: Session, account: Customer
) -> None:
    sign_in(client, "wang.rep")
    before = (touchpoint_count(session), audit_count(session))

    answer = client.post("/customers/ACC-1/touchpoints", data=_touchpoint_form())

    assert answer.status_code == 403
    assert (touchpoint_count(session), audit_count(session)) == before


def test_a_collector_may_log_on_any_account(
    client: TestClient, session: Session, account: Customer
) -> None:
    token = sign_in(client, "collector.sun")
    before = touchpoint_count(session)

    page = client.get("/customers/ACC-1")
    answer = client.post(
        "/customers/ACC-1/touchpoints",
        data={**_touchpoint_form(kind="call"), "csrf_token": token},
        follow_redirects=False,
    )

    assert "Log a touchpoint" in page.text
    assert answer.status_code == 303
    assert touchpoint_count(session) == before + 1


# ---------------------------------------------------------------- panel slots


@pytest.fixture
def panel_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    loader = ChoiceLoader(
        [
            DictLoader(
                {
                    "tests/grade_panel.html": '<p class="grade">Grade {{ data.grade }} for '
                    "{{ customer.code }}</p>"
                }
            ),
            pages.templates.loader,  # type: ignore[list-item]
        ]
    )
    monkeypatch.setattr(pages.templates, "loader", loader)
    pages.templates.cache.clear()  # type: ignore[union-attr]


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """An empty panel registry for the test (the capabilities' own panels are set aside), so
    what a test registers is all there is."""
    monkeypatch.setattr(panels, "_registry", {slot: [] for slot in panels.SLOTS})
    names: list[str] = []
    yield names
    for name in names:
        panels.unregister(name)


def _register(
    names: list[str], slot: str, name: str, loader: Any, permission: Permission | None = None
) -> None:
    panels.register(
        slot,
        panels.Panel(
            name=name,
            label="Credit grade",
            template="tests/grade_panel.html",
            loader=loader,
            permission=permission,
        ),
    )
    names.append(name)


def test_a_registered_panel_is_rendered_in_its_slot_with_its_loaders_data(
    client: TestClient,
    account: Customer,
    panel_templates: None,
    registered: list[str],
) -> None:
    calls: list[tuple[str, str, date]] = []

    def load(session: Session, actor: Actor, customer: Customer, as_of: date) -> dict[str, str]:
        calls.append((actor.name, customer.code, as_of))
        return {"grade": "B"}

    _register(registered, "credit", "tests.grade", load)
    sign_in(client, "wang.rep")

    page = client.get("/customers/ACC-1", params={"as_of": AS_OF}).text

    slot = re.search(
        r'<div class="panel-slot" data-slot="credit">(.*?)</div>\s*<div class="layout-360">',
        page,
        re.S,
    )
    assert slot is not None
    assert '<section class="card panel" data-panel="tests.grade">' in slot.group(1)
    assert "<h2>Credit grade</h2>" in slot.group(1)
    assert '<p class="grade">Grade B for ACC-1</p>' in slot.group(1)
    assert calls == [("wang.rep", "ACC-1", date(2026, 3, 15))]
    assert page.count('class="panel-slot"') == 1  # the other slots are empty: nothing at all


def test_a_panel_needing_a_permission_is_left_out_for_others(
    client: TestClient,
    account: Customer,
    panel_templates: None,
    registered: list[str],
) -> None:
    _register(
        registered,
        "collections",
        "tests.collect",
        lambda *_: {"grade": "C"},
        permission=Permission.RECORD_PAYMENTS,
    )
    sign_in(client, "wang.rep")
    for_sales = client.get("/customers/ACC-1").text
    sign_in(client, "collector.sun")
    for_collector = client.get("/customers/ACC-1").text

    assert 'data-slot="collections"' not in for_sales
    assert 'data-slot="collections"' in for_collector
    assert "Grade C for ACC-1" in for_collector


def test_a_loader_with_nothing_to_show_leaves_the_slot_empty(
    client: TestClient, account: Customer, panel_templates: None, registered: list[str]
) -> None:
    _register(registered, "loyalty", "tests.nothing", lambda *_: None)
    sign_in(client, "wang.rep")

    page = client.get("/customers/ACC-1").text

    assert 'data-slot="loyalty"' not in page
    assert "tests.nothing" not in page


def test_the_registry_refuses_unknown_slots_and_taken_names(registered: list[str]) -> None:
    _register(registered, "feedback", "tests.once", lambda *_: {})

    with pytest.raises(ValueError, match="unknown panel slot 'sidebar'"):
        _register(registered, "sidebar", "tests.other", lambda *_: {})
    with pytest.raises(ValueError, match="already registered"):
        _register(registered, "loyalty", "tests.once", lambda *_: {})
    assert [p.name for p in panels.registered("feedback")] == ["tests.once"]
    assert panels.SLOTS == ("credit", "collections", "feedback", "loyalty", "key_account")


# ---------------------------------------------------------------- statements per page


class StatementCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *args: Any) -> None:
        self.count += 1


@pytest.fixture
def statements(session: Session) -> Iterator[StatementCounter]:
    counter = StatementCounter()
    connection = session.connection()
    event.listen(connection, "before_cursor_execute", counter)
    yield counter
    event.remove(connection, "before_cursor_execute", counter)


def _statements_for(
    client: TestClient, session: Session, statements: StatementCounter, url: str
) -> int:
    # Start from an empty identity map so nothing is answered from memory by chance.
    session.expunge_all()
    statements.count = 0
    response = client.get(url)
    assert response.status_code == 200, response.text
    return statements.count


def test_the_list_costs_the_same_for_10_or_60_accounts(
    client: TestClient, session: Session, world: World, statements: StatementCounter
) -> None:
    def add(n: int) -> None:
        customer = make_customer(session, code=f"Q-{n:03d}", owner=world.rep)
        make_contact(session, customer=customer, name=f"联系人 {n}")
        make_invoice(session, customer=customer, amount="100.00", due=date(2026, 2, 1))

    for n in range(10):
        add(n)
    sign_in(client, "admin.li")
    url = f"/customers?as_of={AS_OF}"

    few = _statements_for(client, session, statements, url)
    for n in range(10, 60):
        add(n)
    many = _statements_for(client, session, statements, url)

    assert len(listed(client.get(url).text)) == 50
    assert few == many
    assert many <= 8


def test_the_360_costs_the_same_for_2_or_20_of_everything(
    client: TestClient, session: Session, world: World, statements: StatementCounter
) -> None:
    parent = make_customer(session, code="Q-GRP", owner=world.other_rep)
    customer = make_customer(session, code="Q-ACC", owner=world.rep)
    customer.parent_id = parent.id
    session.flush()

    def add(n: int) -> None:
        contact = make_contact(session, customer=customer, name=f"联系人 {n}")
        make_invoice(
            session,
            customer=customer,
            amount="200.00",
            installments=[(date(2026, 3, 1), "100.00"), (date(2026, 4, 1), "100.00")],
        )
        make_payment(session, customer=customer, amount="10.00", received=date(2026, 2, n % 28 + 1))
        customers.log_touchpoint(
            session,
            actor=TESTER,
            data=TouchpointIn(
                customer_id=customer.id,
                contact_id=contact.id,
                user_id=world.rep.id,
                kind=TouchpointKind.CALL,
                occurred_at=datetime(2026, 2, 1, tzinfo=UTC) + timedelta(hours=n),
                summary=f"call {n}",
            ),
        )

    for n in range(2):
        add(n)
    sign_in(client, "wang.rep")
    url = f"/customers/Q-ACC?as_of={AS_OF}"

    small = _statements_for(client, session, statements, url)
    for n in range(2, 20):
        add(n)
    large = _statements_for(client, session, statements, url)

    page = client.get(url).text
    # Twenty payments of 10.00 settled the two oldest installments of 100.00.
    assert page.count("<tr data-invoice=") == 38
    assert large <= small
    # The page's own reads plus the credit, collections, statements, loyalty and key-account
    # panels' few each (the key-account panel asks its six parts: plan, map, needs, deals,
    # negotiations and contracts, and prices the account's terms).
    assert large <= 43


def test_a_timeline_page_costs_the_same_however_long_the_history(
    client: TestClient, session: Session, world: World, statements: StatementCounter
) -> None:
    customer = make_customer(session, code="Q-TL", owner=world.rep)
    for n in range(30):
        make_contact(session, customer=customer, name=f"联系人 {n}")
    sign_in(client, "wang.rep")
    first = client.get("/customers/Q-TL").text
    token = re.search(r'data-more="([^"]+)"', first)
    assert token is not None
    url = f"/customers/Q-TL/timeline?before={token.group(1)}"

    short = _statements_for(client, session, statements, url)
    for n in range(30, 200):
        make_contact(session, customer=customer, name=f"联系人 {n}")
    long = _statements_for(client, session, statements, url)

    assert short == long
