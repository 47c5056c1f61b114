"""Importing customers, contacts, orders, touchpoints, payments and credit notes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.models.audit import AuditEvent
from flywheel.models.customers import Contact, Customer, Touchpoint
from flywheel.models.receivables import CreditNote, Invoice, Payment
from flywheel.models.sales import Order
from flywheel.models.users import User
from flywheel.receivables.consistency import check_ledger
from tests.factories import make_customer, make_invoice
from tests.importers.conftest import ImportFn, write_csv

CUSTOMER_HEADER = [
    "客户编号",
    "客户名称",
    "客户等级",
    "区域",
    "客户经理",
    "上级客户",
    "账期",
    "推荐人",
    "建档日期",
]


def test_customers_with_chinese_headers_owners_and_forward_parent_links(
    session: Session, run_import: ImportFn, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "customers.csv",
        [
            CUSTOMER_HEADER,
            [
                "SUB-1",
                "华信电子（苏州）有限公司",
                "成长",
                "华东",
                "zhang.wei",
                "GRP-1",
                "月结60天",
                "",
                "2024-05-01",
            ],
            ["GRP-1", "华信集团", "大客户", "华东", "zhang.wei", "", "NET45", "", "2023/1/1"],
            ["REF-1", "Acme Trading Ltd", "standard", "海外", "li.na", "", "30天", "GRP-1", ""],
            ["BAD-1", "坏数据", "钻石", "华南", "", "", "NET30", "", ""],
            ["ORP-1", "孤儿公司", "", "", "", "NOPE", "", "", ""],
        ],
        encoding="gbk",
    )

    result = run_import("customers", path)

    assert (result.inserted, result.rejected) == (3, 2)
    assert result.users_created == ["zhang.wei", "li.na"]
    sub = session.scalars(select(Customer).where(Customer.code == "SUB-1")).one()
    group = session.scalars(select(Customer).where(Customer.code == "GRP-1")).one()
    ref = session.scalars(select(Customer).where(Customer.code == "REF-1")).one()
    assert (sub.parent_id, sub.tier, sub.payment_terms) == (group.id, "growth", "EOM60")
    assert (group.tier, group.created_on) == ("key", date(2023, 1, 1))
    assert ref.referred_by_id == group.id
    assert ref.created_on == date(2026, 6, 30)  # no date given: the import's business day
    reasons = {e.row: (e.column, e.reason) for e in result.errors}
    assert reasons[5][0] == "客户等级"
    assert "unknown value '钻石'" in reasons[5][1]
    assert reasons[6] == ("上级客户", "unknown customer NOPE")
    owner = session.scalars(select(User).where(User.username == "zhang.wei")).one()
    assert owner.role == "sales"
    assert sub.owner_id == owner.id

    again = run_import("customers", path)

    assert (again.inserted, again.updated, again.unchanged, again.rejected) == (0, 0, 3, 2)
    assert again.users_created == []


def test_customer_update_records_only_what_changed(
    session: Session, run_import: ImportFn, tmp_path: Path
) -> None:
    header = ["code", "name", "region"]
    path = write_csv(tmp_path / "c.csv", [header, ["U-1", "Old name", "华北"]])
    run_import("customers", path)
    write_csv(path, [header, ["U-1", "New name", ""]])  # blank region keeps the current one

    result = run_import("customers", path)

    assert result.updated == 1
    customer = session.scalars(select(Customer).where(Customer.code == "U-1")).one()
    assert (customer.name, customer.region) == ("New name", "华北")
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "customer.updated")).one()
    assert event.before == {"name": "Old name"}
    assert event.after == {"name": "New name"}


def test_customer_cycle_is_rejected(session: Session, run_import: ImportFn, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "cycle.csv",
        [["code", "name", "parent"], ["A", "a", "B"], ["B", "b", "A"], ["C", "c", ""]],
    )

    result = run_import("customers", path)

    assert result.inserted == 1
    assert result.rejected == 2
    assert any("cycle" in e.reason for e in result.errors)


def test_contacts_orders_touchpoints_from_xlsx(
    session: Session, run_import: ImportFn, tmp_path: Path
) -> None:
    make_customer(session, code="X1")
    contacts = tmp_path / "contacts.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["客户编号", "联系人", "职务", "角色", "邮箱", "电话", "语言"])
    sheet.append(
        ["X1", "王芳", "采购总监", "决策人", "Wang.Fang@Example.cn", "13800000000", "中文"]
    )
    sheet.append(["X1", "John Smith", "CFO", "finance", "john@example.com", "", "English"])
    sheet.append(["X1", "无邮箱", "", "把关人", "", "", ""])
    sheet.append(["X9", "Nobody", "", "", "", "", ""])
    book.save(contacts)

    result = run_import("contacts", contacts)

    assert (result.inserted, result.rejected) == (3, 1)
    wang = session.scalars(select(Contact).where(Contact.name == "王芳")).one()
    assert (wang.email, wang.buying_role, wang.language, wang.phone) == (
        "wang.fang@example.cn",
        "decision_maker",
        "zh",
        "13800000000",
    )
    assert run_import("contacts", contacts).unchanged == 3

    orders = write_csv(
        tmp_path / "orders.csv",
        [
            ["订单号", "客户编号", "订单日期", "订单金额", "状态", "交付日期"],
            ["SO-1", "X1", "2026-03-01", "¥12,000.00", "已发货", "2026-03-05"],
            ["SO-2", "X1", "2026-03-02", "-5", "", ""],
        ],
    )
    result = run_import("orders", orders)
    assert (result.inserted, result.rejected) == (1, 1)
    order = session.scalars(select(Order).where(Order.number == "SO-1")).one()
    assert (order.amount, order.status, order.delivered_on) == (
        Decimal("12000.00"),
        "delivered",
        date(2026, 3, 5),
    )

    touchpoints = write_csv(
        tmp_path / "tp.csv",
        [
            ["客户编号", "类型", "时间", "联系人", "跟进人", "内容", "满意度"],
            [
                "X1",
                "拜访",
                "2026-03-10 14:30",
                "王芳",
                "zhao.lei",
                "季度拜访，客户对交付很满意",
                "5",
            ],
            ["X1", "电话", "2026-03-11", "john@example.com", "", "Called about invoice", "3"],
            ["X1", "电话", "2026-03-12", "陌生人", "", "", ""],
            ["X1", "传真", "2026-03-12", "", "", "", "9"],
        ],
    )
    result = run_import("touchpoints", touchpoints)
    assert (result.inserted, result.rejected) == (2, 2)
    visit = session.scalars(select(Touchpoint).where(Touchpoint.kind == "visit")).one()
    # 14:30 in China is 06:30 UTC
    assert visit.occurred_at == datetime(2026, 3, 10, 6, 30, tzinfo=UTC)
    assert visit.contact_id == wang.id
    assert visit.satisfaction == 5
    assert result.users_created == ["zhao.lei"]
    assert run_import("touchpoints", touchpoints).unchanged == 2


def test_payments_allocate_and_reimport_is_unchanged(
    session: Session, run_import: ImportFn, tmp_path: Path
) -> None:
    customer = make_customer(session, code="P1")
    first = make_invoice(
        session, customer=customer, amount="100.00", number="PI-1", due=date(2026, 2, 1)
    )
    second = make_invoice(
        session, customer=customer, amount="100.00", number="PI-2", due=date(2026, 3, 1)
    )
    path = write_csv(
        tmp_path / "pay.csv",
        [
            ["流水号", "客户编号", "到账日期", "到账金额", "对应发票"],
            ["B-1", "P1", "2026-02-10", "120.00", "PI-2"],
            ["B-2", "P1", "2026-02-11", "0", ""],
            ["B-1", "P1", "2026-02-10", "120.00", "PI-2"],
        ],
    )

    result = run_import("payments", path)

    assert (result.inserted, result.rejected) == (1, 2)
    assert (second.status, first.open_amount) == ("paid", Decimal("80.00"))
    again = run_import("payments", path)
    assert (again.inserted, again.unchanged, again.rejected) == (0, 1, 2)
    payment = session.scalars(select(Payment).where(Payment.reference == "B-1")).one()
    assert payment.allocated_amount == Decimal("120.00")
    assert check_ledger(session) == []


def test_credit_notes_accept_negative_amounts_and_do_not_change_once_issued(
    session: Session, run_import: ImportFn, tmp_path: Path
) -> None:
    customer = make_customer(session, code="N1")
    make_invoice(session, customer=customer, amount="500.00", number="NI-1")
    header = ["红字发票号", "原发票号", "日期", "金额", "原因"]
    path = write_csv(
        tmp_path / "cn.csv", [header, ["CN-1", "NI-1", "2026-02-01", "(200.00)", "质量折让"]]
    )

    assert run_import("credit-notes", path).inserted == 1
    assert run_import("credit-notes", path).unchanged == 1
    write_csv(path, [header, ["CN-1", "NI-1", "2026-02-01", "-250.00", "质量折让"]])
    changed = run_import("credit-notes", path)

    assert changed.rejected == 1
    note = session.scalars(select(CreditNote).where(CreditNote.number == "CN-1")).one()
    assert note.amount == Decimal("200.00")
    invoice = session.scalars(select(Invoice).where(Invoice.number == "NI-1")).one()
    assert invoice.open_amount == Decimal("300.00")
