"""``flywheel accounts terms-cost``: what payment terms cost for one customer, from the terminal."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer
from rich.table import Table

from flywheel.analytics.terms_cost import MAX_TERMS_DAYS, STANDARD_TERMS
from flywheel.auth.actor import CLI
from flywheel.cli import JsonFlag, console, fail, print_json
from flywheel.db import unit_of_work
from flywheel.errors import FlywheelError, InvalidAmount, ValidationFailed
from flywheel.keyaccounts import terms
from flywheel.keyaccounts.cli import app
from flywheel.keyaccounts.terms_schemas import TermsQuoteOut

__all__ = ["app"]


def today() -> date:
    """The day the terminal means: today in UTC."""
    return datetime.now(UTC).date()


def _amount(text: str, field: str) -> Decimal:
    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        raise InvalidAmount(f"{field}: not an amount: {text!r}", field=field) from None
    return terms.check_amount(value, field=field)


def _days_list(text: str | None) -> list[int]:
    if text is None:
        return list(STANDARD_TERMS)
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValidationFailed(
            f"compare: days separated by commas, e.g. 30,60,90: {text!r}", field="compare"
        ) from None


def _or_dash(value: object) -> str:
    return "—" if value is None else str(value)


@app.command("terms-cost")
def terms_cost_command(
    code: Annotated[str, typer.Argument(help="The customer's code.")],
    amount: Annotated[str, typer.Option(help="The sale, in the account's currency.")],
    terms_days: Annotated[
        int, typer.Option("--terms", min=0, max=MAX_TERMS_DAYS, help="Proposed terms (days).")
    ],
    price: Annotated[
        str | None, typer.Option(help="A unit price to translate to other terms.")
    ] = None,
    compare: Annotated[
        str | None, typer.Option(help="Terms to compare, e.g. 30,60,90 (default 0–120).")
    ] = None,
    as_of: Annotated[str | None, typer.Option(help="Known on this day (default: today).")] = None,
    json_output: JsonFlag = False,
) -> None:
    """The cost of the credit given on these terms (financing days × cost of capital + the
    grade's expected loss), the equivalent amount on other terms, and the policy's verdict."""
    try:
        day = today()
        if as_of is not None:
            try:
                day = date.fromisoformat(as_of)
            except ValueError:
                raise ValidationFailed(
                    f"as_of: not a date (YYYY-MM-DD): {as_of!r}", field="as_of"
                ) from None
        with unit_of_work() as session:
            quote = terms.quote(
                session,
                CLI,
                code=code,
                amount=_amount(amount, "amount"),
                terms_days=terms_days,
                price=None if price is None else _amount(price, "price"),
                compare=_days_list(compare),
                as_of=day,
            )
            out = TermsQuoteOut.of(quote).model_dump(mode="json")
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from exc
    if json_output:
        print_json(out)
        return
    credit, cost, currency = out["credit"], out["cost"], out["currency"]
    grade = credit["grade"] or f"none (priced as {credit['priced_as']})"
    console.print(
        f"{out['code']} {out['name']} · grade {grade} · predicted delay "
        f"{credit['predicted_delay_days']} days ({credit['delay_source']}) · max terms "
        f"{_or_dash(credit['max_terms_days'])} days · current terms {out['current_terms']}"
    )
    console.print(
        f"{cost['amount']} {currency} on {cost['terms_days']} days: {cost['financing_days']} "
        f"financing days → financing {cost['financing_cost']} + expected loss "
        f"{cost['expected_loss']} = {cost['total_cost']} ({cost['cost_percent']}%)"
        + ("" if cost["allowed"] else " · NOT ALLOWED by the credit policy for this grade")
    )
    table = Table(title="Other terms (same net value)")
    for column in ("terms", "days financed", "cost", "cost %", "vs proposed", "equivalent"):
        table.add_column(column, justify="right")
    if out["price"] is not None:
        table.add_column("unit price", justify="right")
    table.add_column("policy")
    for row in out["options"]:
        change = row["price_change_percent"]
        cells = [
            str(row["terms_days"]),
            str(row["financing_days"]),
            row["total_cost"],
            row["cost_percent"],
            row["extra_cost"],
            _or_dash(row["equivalent_amount"])
            + ("" if change is None else f" ({Decimal(change):+.2f}%)"),
        ]
        if out["price"] is not None:
            cells.append(_or_dash(row["equivalent_price"]))
        cells.append("ok" if row["allowed"] else "not allowed")
        table.add_row(*cells)
    console.print(table)
