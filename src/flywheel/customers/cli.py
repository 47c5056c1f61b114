"""``flywheel customers list`` and ``flywheel customers show CODE``: the terminal customer 360."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

import typer
from rich.columns import Columns
from rich.panel import Panel
from rich.table import Table

from flywheel.auth.actor import CLI
from flywheel.cli import JsonFlag, console, fail, print_json
from flywheel.customers import service
from flywheel.customers.repository import CustomerFilter
from flywheel.customers.schemas import Customer360Out
from flywheel.db import unit_of_work
from flywheel.errors import FlywheelError

app = typer.Typer(
    help="Accounts: search the list, or show one customer's 360.", no_args_is_help=True
)

AsOf = Annotated[
    datetime | None,
    typer.Option(
        "--as-of", formats=["%Y-%m-%d"], help="Business date for days overdue (default: today)."
    ),
]


def _as_of(value: datetime | None) -> date:
    return value.date() if value else datetime.now(UTC).date()


def _money(amount: Any) -> str:
    return f"{amount:,.2f}"


@app.command("list")
def list_customers(
    search: Annotated[
        str | None, typer.Option("--search", "-s", help="Code, name or contact name.")
    ] = None,
    tier: Annotated[str | None, typer.Option(help="key, growth or standard.")] = None,
    owner: Annotated[str | None, typer.Option(help="Owner's username.")] = None,
    region: Annotated[str | None, typer.Option(help="Region, e.g. 华东.")] = None,
    status: Annotated[
        str | None, typer.Option(help="active, inactive, prospect or churned.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    json_output: JsonFlag = False,
) -> None:
    """List accounts matching the filters, ordered by code."""
    flt = CustomerFilter(search=search, tier=tier, owner=owner, region=region, status=status)
    with unit_of_work() as session:
        rows, total = service.list_customers(session, flt, actor=CLI, limit=limit, offset=offset)
        items = [
            {
                "code": c.code,
                "name": c.name,
                "tier": c.tier,
                "region": c.region,
                "industry": c.industry,
                "status": c.status,
                "currency": c.currency,
                "payment_terms": c.payment_terms,
            }
            for c, _owner in rows
        ]
    if json_output:
        print_json({"total": total, "limit": limit, "offset": offset, "customers": items})
        return
    table = Table(title=f"customers {offset + 1}–{offset + len(items)} of {total:,}")
    for column in ("code", "name", "tier", "region", "industry", "status", "terms"):
        table.add_column(column)
    for item in items:
        table.add_row(
            item["code"],
            item["name"],
            item["tier"],
            item["region"] or "",
            item["industry"] or "",
            item["status"],
            item["payment_terms"],
        )
    console.print(table)


@app.command("show")
def show(
    code: Annotated[str, typer.Argument(help="Customer code.")],
    as_of: AsOf = None,
    recent: Annotated[
        int, typer.Option(min=1, max=100, help="How many payments and touchpoints.")
    ] = 5,
    json_output: JsonFlag = False,
) -> None:
    """The customer 360: profile, contacts, open invoices with days overdue, payments, touchpoints."""
    day = _as_of(as_of)
    try:
        with unit_of_work() as session:
            view = service.customer_360(session, code, actor=CLI, as_of=day, recent=recent)
            data = Customer360Out.of(view).model_dump(mode="json")
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from None
    if json_output:
        print_json(data)
        return
    _render(data)


def _render(data: dict[str, Any]) -> None:
    c = data["customer"]
    profile = "\n".join(
        f"[dim]{label}[/] {value}"
        for label, value in (
            ("tier", c["tier"]),
            ("status", c["status"]),
            ("industry", c["industry"] or "—"),
            ("region", c["region"] or "—"),
            ("owner", c["owner"] or "—"),
            ("terms", c["payment_terms"]),
            ("since", c["created_on"]),
            ("parent", c["parent"] or "—"),
            ("referred by", c["referred_by"] or "—"),
        )
    )
    balance = data["balance"]
    money = (
        f"[dim]open[/] {c['currency']} {float(balance['open']):,.2f}\n"
        f"[dim]overdue[/] [bold red]{c['currency']} {float(balance['overdue']):,.2f}[/]\n"
        f"[dim]as of[/] {data['as_of']}"
    )
    console.print(
        Columns(
            [Panel(profile, title=f"{c['code']} · {c['name']}"), Panel(money, title="receivables")]
        )
    )
    contacts = Table(title="contacts")
    for col in ("name", "title", "role", "email", "phone", "lang"):
        contacts.add_column(col)
    for k in data["contacts"]:
        contacts.add_row(
            k["name"],
            k["title"] or "",
            k["buying_role"] or "",
            k["email"] or "",
            k["phone"] or "",
            k["language"],
        )
    console.print(contacts)
    invoices = Table(title="open invoices")
    for col in ("invoice", "inst.", "issued", "due", "amount", "open", "days overdue"):
        invoices.add_column(
            col, justify="right" if col in {"amount", "open", "days overdue"} else "left"
        )
    for i in data["open_invoices"]:
        overdue = i["days_overdue"]
        invoices.add_row(
            i["invoice"],
            f"{i['installment']}/{i['installments']}",
            i["issue_date"],
            i["due_date"],
            f"{float(i['amount']):,.2f}",
            f"{float(i['open_amount']):,.2f}",
            f"[red]{overdue}[/]" if overdue > 0 else "—",
        )
    console.print(invoices)
    payments = Table(title="last payments")
    for col in ("reference", "received", "amount", "method", "unallocated"):
        payments.add_column(col, no_wrap=True)
    for p in data["payments"]:
        payments.add_row(
            p["reference"],
            p["received_on"],
            f"{float(p['amount']):,.2f}",
            p["method"],
            f"{float(p['unallocated']):,.2f}",
        )
    console.print(payments)
    touchpoints = Table(title="last touchpoints")
    for col in ("when", "kind", "sat.", "summary"):
        touchpoints.add_column(col)
    for t in data["touchpoints"]:
        touchpoints.add_row(
            t["occurred_at"][:16].replace("T", " "),
            t["kind"],
            str(t["satisfaction"] or ""),
            (t["summary"] or "")[:80],
        )
    console.print(touchpoints)
