"""What the health factors, bands, trends and churn bases are called, and how a factor's value
reads, in the user's language."""

from __future__ import annotations

from flywheel.analytics.health import GRADE_LETTERS
from flywheel.kit import i18n
from flywheel.kit.i18n import N_
from flywheel.models.enums import ChurnBasis, HealthBand, Trend

FACTOR_LABELS: dict[str, str] = {
    "nps": N_("Account NPS (12 months)"),
    "csat": N_("CSAT, average answer (12 months)"),
    "purchase_recency": N_("Expected purchases missed since the last one"),
    "spend_trend": N_("Spend, last 12 months vs the 12 before"),
    "credit_grade": N_("Credit grade"),
    "days_beyond_terms": N_("Average days beyond terms (12 months)"),
    "open_issues": N_("Open follow-ups and disputes"),
    "engagement": N_("Touchpoints in the last 90 days"),
    "support_load": N_("Support load (× normal, 90 days)"),
}

BAND_LABELS: dict[str, str] = {
    HealthBand.GREEN: N_("Healthy"),
    HealthBand.YELLOW: N_("Watch"),
    HealthBand.RED: N_("Poor health"),
}

TREND_LABELS: dict[str, str] = {
    Trend.UP: N_("Rising"),
    Trend.DOWN: N_("Falling"),
    Trend.FLAT: N_("Flat"),
}
TREND_ARROWS: dict[str, str] = {Trend.UP: "↑", Trend.DOWN: "↓", Trend.FLAT: "→"}

BASIS_LABELS: dict[str, str] = {
    ChurnBasis.P_ALIVE: N_("1 − probability alive"),
    ChurnBasis.RENEWAL: N_("Renewal risk from health"),
    ChurnBasis.CLASSIFIER: N_("Churn model trained on lost customers"),
    ChurnBasis.NO_HISTORY: N_("No purchases yet: the company's average"),
    ChurnBasis.MARKED_LOST: N_("Marked as lost"),
}

NEUTRAL_NOTE = N_(
    "A factor without data scores half its weight, so a new account is neither rewarded nor "
    "punished for what has not been measured yet."
)


def factor_label(factor: str) -> str:
    return i18n.gettext(FACTOR_LABELS.get(factor, factor))


def factor_value(factor: str, value: float | None) -> str:
    """``+20%``, ``B``, ``6 days``, ``4.5 / 5``…; "no data" when nothing was measured."""
    if value is None:
        return i18n.gettext("no data")
    if factor == "credit_grade":
        return GRADE_LETTERS.get(round(value), "–")
    if factor == "spend_trend":
        sign = "+" if value > 0 else ""
        return sign + i18n.percent(value, decimals=0)
    if factor == "csat":
        return f"{i18n.number(value, decimals=1)} / 5"
    if factor == "days_beyond_terms":
        days = round(value)
        return i18n.ngettext("%(num)s day", "%(num)s days", days)
    if factor in ("open_issues", "engagement"):
        return i18n.number(round(value))
    if factor == "support_load":
        return f"{i18n.number(value, decimals=1)}×"
    return i18n.number(value, decimals=1)
