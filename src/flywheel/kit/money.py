"""Money as Decimal: parsing, rounding to cents, splitting without losing a cent."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def to_money(value: Decimal | int | str) -> Decimal:
    """Exact conversion to a cent-quantized Decimal. Floats are refused: they are not money."""
    if isinstance(value, float):
        raise TypeError("money must not be a float; pass a str or Decimal")
    try:
        return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc


def split_evenly(total: Decimal, parts: int) -> list[Decimal]:
    """Split ``total`` into ``parts`` cent amounts that add up exactly; the last takes the rest."""
    if parts < 1:
        raise ValueError("parts must be at least 1")
    share = (total / parts).quantize(CENT, rounding=ROUND_HALF_UP)
    amounts = [share] * (parts - 1)
    amounts.append(total - share * (parts - 1))
    return amounts


def format_money(amount: Decimal, currency: str = "CNY") -> str:
    return f"{currency} {amount:,.2f}"


def from_float(value: float) -> Decimal:
    """An analytics figure (float64) as money: to the cent, half up, via its shortest repr
    (so 0.1 + 0.2 becomes 0.30, not 0.30000000000000004 rounded)."""
    return Decimal(repr(float(value))).quantize(CENT, rounding=ROUND_HALF_UP)
