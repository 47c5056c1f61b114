"""The dashboard's words: the name and one-line definition of every figure (``figures.KPIS``),
of the flywheel's stages and of force and friction, its units, and which figures the wheel
shows for each stage. Message ids are marked with ``N_()`` and translated where shown."""

from __future__ import annotations

from flywheel.kit.i18n import N_

STAGE_LABELS: dict[str, str] = {
    "attract": N_("Attract"),
    "engage": N_("Engage"),
    "delight": N_("Delight"),
    "loyalty": N_("Loyalty"),
    "cash": N_("Cash"),
    "force": N_("Force"),
    "friction": N_("Friction"),
}

STAGE_DEFINITIONS: dict[str, str] = {
    "attract": N_("Win new accounts: new customers, referrals and the pipeline they bring."),
    "engage": N_("Turn interest into business: deals won, the sales cycle, key-account plans."),
    "delight": N_(
        "Make customers glad they bought: NPS, CSAT and closing the loop with detractors."
    ),
    "loyalty": N_("Keep them buying: repeat purchase, retention, NRR, lifetime value, health."),
    "cash": N_("Get paid and keep the customer: DSO, CEI, overdue, promises to pay."),
    "force": N_("What speeds the wheel up: promoters, referrals, expansions and kept promises."),
    "friction": N_(
        "What slows it down: detractors, churn risk, disputes, overdue accounts and broken "
        "promises."
    ),
}

KPI_LABELS: dict[str, str] = {
    "new_customers": N_("New customers"),
    "referred_share": N_("New customers from referrals"),
    "pipeline_created": N_("Pipeline created"),
    "win_rate": N_("Win rate"),
    "sales_cycle": N_("Sales cycle"),
    "plan_coverage": N_("Account plan coverage"),
    "nps": N_("NPS"),
    "csat": N_("CSAT"),
    "loops_in_sla": N_("Loops closed within SLA"),
    "time_to_close": N_("Time to close a loop"),
    "repeat_rate": N_("Repeat-purchase rate"),
    "retention": N_("Retention"),
    "nrr": N_("NRR"),
    "average_clv": N_("Average CLV"),
    "healthy_share": N_("Healthy accounts"),
    "dso": N_("DSO"),
    "cei": N_("CEI"),
    "overdue_share": N_("Overdue share"),
    "promise_keeping": N_("Promise-keeping rate"),
    "collected": N_("Cash collected"),
    "promoters": N_("Promoters"),
    "referrals": N_("Referrals"),
    "expansions": N_("Expansions"),
    "promises_kept": N_("Kept promises"),
    "detractors": N_("Detractors"),
    "churn_risk": N_("High churn risk"),
    "disputes": N_("Disputes"),
    "overdue": N_("Overdue accounts"),
    "promises_broken": N_("Broken promises"),
}

KPI_DEFINITIONS: dict[str, str] = {
    "new_customers": N_("Accounts created in the period."),
    "referred_share": N_("The share of the period's new customers that came through a referral."),
    "pipeline_created": N_("The value of the deals created in the period."),
    "win_rate": N_("Deals won out of the deals won or lost in the period."),
    "sales_cycle": N_("Average days from a deal's creation to its win, over the deals won."),
    "plan_coverage": N_("The share of key accounts with an active account plan at the end."),
    "nps": N_("Promoters minus detractors, per 100 NPS answers of the period (−100 to 100)."),
    "csat": N_("The share of the period's CSAT answers that were satisfied."),
    "loops_in_sla": N_(
        "The share of follow-up loops (detractors, low scores, negative or urgent comments) closed in the period within their SLA."
    ),
    "time_to_close": N_("Average hours from opening a follow-up loop to closing it."),
    "repeat_rate": N_(
        "Of the accounts that bought in the last twelve months, the share that bought again."
    ),
    "retention": N_(
        "Of the accounts that bought in the twelve months before the last twelve, the share "
        "that bought again in the last twelve."
    ),
    "nrr": N_(
        "Net revenue retention: those accounts' revenue of the last twelve months against "
        "their revenue of the twelve before."
    ),
    "average_clv": N_("Customer lifetime value per account that has one, at the end."),
    "healthy_share": N_("The share of scored accounts whose health is green at the end."),
    "dso": N_("Days sales outstanding: receivables at the end against the last 90 days' sales."),
    "cei": N_(
        "Collection effectiveness over the last 90 days: what was collected of what could be."
    ),
    "overdue_share": N_("The share of the receivables that is past due at the end."),
    "promise_keeping": N_("Promises to pay kept out of those kept or broken in the period."),
    "collected": N_("Payments received in the period."),
    "promoters": N_("NPS answers of 9 or 10 in the period."),
    "referrals": N_("Referrals made in the period."),
    "expansions": N_(
        "Accounts that bought more in the last twelve months than in the twelve before."
    ),
    "promises_kept": N_("Promises to pay kept in the period."),
    "detractors": N_("NPS answers of 0 to 6 in the period."),
    "churn_risk": N_("Accounts with a high risk of churning at the end."),
    "disputes": N_("Disputes opened in the period."),
    "overdue": N_("Accounts with an overdue balance at the end."),
    "promises_broken": N_("Promises to pay broken in the period."),
}

UNIT_LABELS: dict[str, str] = {
    "count": N_("count"),
    "percent": N_("percent"),
    "score": N_("score"),
    "money": N_("amount"),
    "days": N_("days"),
    "hours": N_("hours"),
}

# The figures the wheel shows on each stage (every figure of a stage is on its card).
KEY_FIGURES: dict[str, tuple[str, ...]] = {
    "attract": ("new_customers", "referred_share"),
    "engage": ("win_rate", "sales_cycle"),
    "delight": ("nps", "loops_in_sla"),
    "loyalty": ("retention", "nrr"),
    "cash": ("dso", "overdue_share"),
}


def kpi_label(code: str) -> str:
    """The message id of a figure's name (its code when it has none)."""
    return KPI_LABELS.get(code, code)
