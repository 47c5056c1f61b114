"""What the credit factors are called and how their values read, in the user's language."""

from __future__ import annotations

from flywheel.kit import i18n
from flywheel.kit.i18n import N_

FACTOR_LABELS: dict[str, str] = {
    "days_beyond_terms": N_("Average days beyond terms (12 months, by amount)"),
    "days_beyond_terms_trend": N_("Change in days beyond terms (last 3 months vs 9 before)"),
    "late_share": N_("Share of installments paid late (12 months)"),
    "worst_days_overdue": N_("Worst days overdue (12 months)"),
    "overdue_share": N_("Share of the open balance overdue"),
    "limit_utilisation": N_("Credit limit used"),
    "tenure_months": N_("Customer for"),
    "open_disputes": N_("Open disputes"),
    "broken_promises": N_("Broken promises to pay (12 months)"),
    "history_depth": N_("Installments settled (12 months)"),
}

GRADE_MEANINGS: dict[str, str] = {
    "A": N_("Excellent: pays on time"),
    "B": N_("Good: occasional small delays"),
    "C": N_("Average, or too little history to judge"),
    "D": N_("Weak: often late"),
    "E": N_("Poor: seriously late; hold new orders"),
}

MODEL_LABELS: dict[str, str] = {
    "expert": N_("Expert scorecard"),
    "trained": N_("Scorecard trained on our history"),
}


def factor_label(factor: str) -> str:
    return i18n.gettext(FACTOR_LABELS.get(factor, factor))


def factor_value(factor: str, value: float | None) -> str:
    """``42 days``, ``35%``, ``18 months``…; "no data" when there was nothing to measure."""
    if value is None:
        return i18n.gettext("no data")
    if factor in ("late_share", "overdue_share", "limit_utilisation"):
        return i18n.percent(value)
    if factor in ("days_beyond_terms", "worst_days_overdue"):
        return i18n.gettext("%(days)s days", days=i18n.number(value, decimals=0))
    if factor == "days_beyond_terms_trend":
        whole = round(value) or 0  # never "-0"
        sign = "+" if whole > 0 else ""
        return i18n.gettext("%(days)s days", days=sign + i18n.number(whole, decimals=0))
    if factor == "tenure_months":
        return i18n.gettext("%(months)s months", months=i18n.number(value, decimals=0))
    return i18n.number(value, decimals=0)
