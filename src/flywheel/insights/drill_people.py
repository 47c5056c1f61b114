"""The lists behind the people figures of the dashboard (attract, engage, delight, and the
promoters, referrals and detractors of force and friction): each lists the items its figure
counts, with the same definitions as ``insights.sources.attract``, ``engage`` and ``delight``,
so that a list has as many rows as its figure counts for the same period and filter."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.orm import aliased

from flywheel.insights.drills import (
    Drill,
    DrillColumn,
    DrillQuery,
    account_clauses,
    account_query,
    register,
)
from flywheel.insights.sources.delight import (
    detractor,
    is_csat,
    is_nps,
    moments,
    promoter,
    within_sla,
)
from flywheel.insights.sources.engage import day_end
from flywheel.insights.sources.grouped import days_between, hours_between
from flywheel.kit.i18n import N_
from flywheel.models.customers import Contact, Customer
from flywheel.models.enums import OrderStatus, Tier
from flywheel.models.feedback import FeedbackLoop, SurveyResponse
from flywheel.models.keyaccounts import AccountPlan, Deal, DealStage
from flywheel.models.loyalty import Referral
from flywheel.models.sales import Order
from flywheel.models.users import User

REVENUE_DAYS = 365  # a key account's revenue on its list: the twelve months up to the day

CODE = DrillColumn("code", N_("Code"), "code")
NAME = DrillColumn("name", N_("Account"))
OWNER = DrillColumn("owner", N_("Owner"))
REGION = DrillColumn("region", N_("Region"))
TIER = DrillColumn("tier", N_("Tier"))
ACCOUNT = (CODE, NAME, OWNER)


def _tier_rank() -> ColumnElement[int]:
    return case(
        (Customer.tier == Tier.KEY.value, 0), (Customer.tier == Tier.GROWTH.value, 1), else_=2
    )


# ----------------------------------------------------------------------------- attract


def _new_accounts(q: DrillQuery, *, referred: bool) -> Select[Any]:
    referrer = aliased(Customer, name="referrer")
    stmt = account_query(
        Customer.tier.label("tier"),
        Customer.region.label("region"),
        Customer.created_on.label("created_on"),
        referrer.code.label("referrer_code"),
        referrer.name.label("referrer"),
    ).where(Customer.created_on >= q.first, Customer.created_on <= q.last, *account_clauses(q))
    if referred:
        stmt = stmt.join(referrer, referrer.id == Customer.referred_by_id)
    else:
        stmt = stmt.outerjoin(referrer, referrer.id == Customer.referred_by_id)
    return stmt.order_by(_tier_rank(), Customer.created_on.desc(), Customer.code)


NEW_ACCOUNT_COLUMNS = (
    *ACCOUNT,
    TIER,
    REGION,
    DrillColumn("created_on", N_("Created on"), "date"),
    DrillColumn("referrer_code", N_("Referred by"), "code"),
    DrillColumn("referrer", N_("Referrer")),
)

register(
    Drill(
        code="new_customers",
        title=N_("New customers"),
        stage="attract",
        columns=NEW_ACCOUNT_COLUMNS,
        query=lambda q: _new_accounts(q, referred=False),
    )
)
register(
    Drill(
        code="new_referred",
        title=N_("New customers from referrals"),
        stage="attract",
        columns=NEW_ACCOUNT_COLUMNS,
        query=lambda q: _new_accounts(q, referred=True),
    )
)


def _deals_created(q: DrillQuery) -> Select[Any]:
    """The deals opened in the period in the filter's currency: the pipeline created."""
    return (
        account_query(
            Deal.title.label("deal"),
            DealStage.code.label("stage"),
            Deal.opened_on.label("opened_on"),
            Deal.expected_close_on.label("expected_close_on"),
            Deal.value.label("value"),
        )
        .join(Deal, Deal.customer_id == Customer.id)
        .join(DealStage, DealStage.id == Deal.stage_id)
        .where(
            Deal.opened_on >= q.first,
            Deal.opened_on <= q.last,
            Deal.currency == q.flt.money_currency,
            *account_clauses(q),
        )
        .order_by(Deal.value.desc(), Deal.opened_on.desc(), Deal.id)
    )


register(
    Drill(
        code="deals_created",
        title=N_("Deals created"),
        stage="attract",
        columns=(
            *ACCOUNT,
            DrillColumn("deal", N_("Deal")),
            DrillColumn("stage", N_("Stage")),
            DrillColumn("opened_on", N_("Opened on"), "date"),
            DrillColumn("expected_close_on", N_("Expected close"), "date"),
            DrillColumn("value", N_("Value"), "money"),
        ),
        query=_deals_created,
    )
)


# ----------------------------------------------------------------------------- engage


def _closed_deals(q: DrillQuery, *, won_only: bool) -> Select[Any]:
    """The deals won (and lost) in the period, every currency: the money currency's first."""
    closed: ColumnElement[bool] = DealStage.is_won.is_(True)
    if not won_only:
        closed = closed | DealStage.is_lost.is_(True)
    cycle = days_between(Deal.opened_on, Deal.closed_on)
    stmt = (
        account_query(
            Deal.title.label("deal"),
            DealStage.code.label("stage"),
            Deal.opened_on.label("opened_on"),
            Deal.closed_on.label("closed_on"),
            cycle.label("cycle_days"),
            Deal.value.label("value"),
            Deal.currency.label("currency"),
            Deal.lost_reason.label("lost_reason"),
        )
        .join(Deal, Deal.customer_id == Customer.id)
        .join(DealStage, DealStage.id == Deal.stage_id)
        .where(
            closed,
            Deal.closed_on >= q.first,
            Deal.closed_on <= q.last,
            Deal.opened_on <= q.last,
            *account_clauses(q),
        )
    )
    other_currency = case((Deal.currency == q.flt.money_currency, 0), else_=1)
    if won_only:
        return stmt.order_by(cycle.desc(), other_currency, Deal.value.desc(), Deal.id)
    return stmt.order_by(other_currency, Deal.value.desc(), Deal.closed_on.desc(), Deal.id)


CLOSED_DEAL_COLUMNS = (
    *ACCOUNT,
    DrillColumn("deal", N_("Deal")),
    DrillColumn("stage", N_("Stage")),
    DrillColumn("opened_on", N_("Opened on"), "date"),
    DrillColumn("closed_on", N_("Closed on"), "date"),
    DrillColumn("cycle_days", N_("Sales cycle"), "days"),
    DrillColumn("value", N_("Value"), "money"),
    DrillColumn("currency", N_("Currency")),
)

register(
    Drill(
        code="deals_closed",
        title=N_("Deals won and lost"),
        stage="engage",
        columns=(*CLOSED_DEAL_COLUMNS, DrillColumn("lost_reason", N_("Lost reason"))),
        query=lambda q: _closed_deals(q, won_only=False),
    )
)
register(
    Drill(
        code="deals_won",
        title=N_("Deals won"),
        stage="engage",
        columns=CLOSED_DEAL_COLUMNS,
        query=lambda q: _closed_deals(q, won_only=True),
    )
)


def _key_accounts_unplanned(q: DrillQuery) -> Select[Any]:
    """Key accounts without an account plan at the period's end, the biggest buyers of the
    last twelve months (in the filter's currency) first."""
    planned = select(AccountPlan.customer_id).where(AccountPlan.created_at < day_end(q.last))
    revenue = (
        select(Order.customer_id, func.sum(Order.amount).label("amount"))
        .where(
            Order.order_date > q.last - timedelta(days=REVENUE_DAYS),
            Order.order_date <= q.last,
            Order.status != OrderStatus.CANCELLED.value,
            Order.currency == q.flt.money_currency,
        )
        .group_by(Order.customer_id)
        .subquery("revenue_12m")
    )
    amount = func.coalesce(revenue.c.amount, 0)
    return (
        account_query(
            Customer.region.label("region"),
            Customer.created_on.label("created_on"),
            amount.label("revenue_12m"),
        )
        .outerjoin(revenue, revenue.c.customer_id == Customer.id)
        .where(
            Customer.tier == Tier.KEY.value,
            Customer.created_on <= q.last,
            Customer.id.not_in(planned),
            *account_clauses(q),
        )
        .order_by(amount.desc(), Customer.code)
    )


register(
    Drill(
        code="key_accounts_unplanned",
        title=N_("Key accounts without an account plan"),
        stage="engage",
        columns=(
            *ACCOUNT,
            REGION,
            DrillColumn("created_on", N_("Created on"), "date"),
            DrillColumn("revenue_12m", N_("Revenue, 12 months"), "money"),
        ),
        query=_key_accounts_unplanned,
    )
)


# ----------------------------------------------------------------------------- delight


def _answers(q: DrillQuery, which: ColumnElement[bool], *, best_first: bool) -> Select[Any]:
    """The survey answers of the period that ``which`` keeps, lowest score first (highest
    with ``best_first``), then the latest."""
    begin, finish = moments(q.first, q.last)
    loop = (
        select(func.max(FeedbackLoop.status))
        .where(FeedbackLoop.response_id == SurveyResponse.id)
        .correlate(SurveyResponse)
        .scalar_subquery()
    )
    score = SurveyResponse.score.desc() if best_first else SurveyResponse.score.asc()
    return (
        account_query(
            SurveyResponse.answered_at.label("answered_at"),
            Contact.name.label("contact"),
            SurveyResponse.score.label("score"),
            SurveyResponse.touchpoint_kind.label("touchpoint"),
            SurveyResponse.comment.label("comment"),
            loop.label("loop"),
        )
        .join(SurveyResponse, SurveyResponse.customer_id == Customer.id)
        .outerjoin(Contact, Contact.id == SurveyResponse.contact_id)
        .where(
            which,
            SurveyResponse.answered_at >= begin,
            SurveyResponse.answered_at < finish,
            *account_clauses(q),
        )
        .order_by(score, SurveyResponse.answered_at.desc(), SurveyResponse.id.desc())
    )


ANSWER_COLUMNS = (
    *ACCOUNT,
    DrillColumn("answered_at", N_("Answered on"), "date"),
    DrillColumn("contact", N_("Contact")),
    DrillColumn("score", N_("Score"), "score"),
    DrillColumn("touchpoint", N_("Touchpoint")),
    DrillColumn("comment", N_("Comment")),
    DrillColumn("loop", N_("Closed loop")),
)


def _answer_drill(
    code: str, title: str, stage: str, which: Callable[[], ColumnElement[bool]], *, best_first: bool
) -> Drill:
    def query(q: DrillQuery) -> Select[Any]:
        return _answers(q, which(), best_first=best_first)

    return register(Drill(code=code, title=title, stage=stage, columns=ANSWER_COLUMNS, query=query))


_answer_drill("nps_responses", N_("NPS answers"), "delight", is_nps, best_first=False)
_answer_drill("csat_responses", N_("CSAT answers"), "delight", is_csat, best_first=False)
_answer_drill("promoters", N_("Promoters"), "force", promoter, best_first=True)
_answer_drill("detractors", N_("Detractors"), "friction", detractor, best_first=False)


def _loops_closed(q: DrillQuery) -> Select[Any]:
    """The loops closed in the period, those closed late first, the latest the longest."""
    begin, finish = moments(q.first, q.last)
    loop_owner = aliased(User, name="loop_owner")
    late = case((within_sla(), 0), else_=1)
    hours = hours_between(FeedbackLoop.opened_at, FeedbackLoop.closed_at)
    return (
        account_query(
            FeedbackLoop.reason.label("reason"),
            FeedbackLoop.summary.label("summary"),
            func.coalesce(loop_owner.display_name, loop_owner.username).label("loop_owner"),
            FeedbackLoop.opened_at.label("opened_at"),
            FeedbackLoop.due_at.label("due_at"),
            FeedbackLoop.closed_at.label("closed_at"),
            hours.label("hours_to_close"),
            case(
                (late == 1, hours_between(FeedbackLoop.due_at, FeedbackLoop.closed_at)), else_=0.0
            ).label("hours_late"),
            FeedbackLoop.outcome.label("outcome"),
        )
        .join(FeedbackLoop, FeedbackLoop.customer_id == Customer.id)
        .outerjoin(loop_owner, loop_owner.id == FeedbackLoop.owner_id)
        .where(
            FeedbackLoop.closed_at.is_not(None),
            FeedbackLoop.closed_at >= begin,
            FeedbackLoop.closed_at < finish,
            *account_clauses(q),
        )
        .order_by(late.desc(), hours.desc(), FeedbackLoop.id)
    )


register(
    Drill(
        code="loops_closed",
        title=N_("Closed loops"),
        stage="delight",
        columns=(
            *ACCOUNT,
            DrillColumn("reason", N_("Reason")),
            DrillColumn("summary", N_("Feedback")),
            DrillColumn("loop_owner", N_("Handled by")),
            DrillColumn("opened_at", N_("Opened on"), "date"),
            DrillColumn("due_at", N_("Due"), "date"),
            DrillColumn("closed_at", N_("Closed on"), "date"),
            DrillColumn("hours_to_close", N_("Hours to close"), "hours"),
            DrillColumn("hours_late", N_("Hours past the SLA"), "hours"),
            DrillColumn("outcome", N_("Outcome")),
        ),
        query=_loops_closed,
    )
)


# ----------------------------------------------------------------------------- force


def _referrals(q: DrillQuery) -> Select[Any]:
    """The referrals made in the period, on the referrer's account, the latest first."""
    referred = aliased(Customer, name="referred")
    lead = func.coalesce(referred.name, Referral.lead_company, Referral.lead_contact)
    return (
        account_query(
            Referral.referred_on.label("referred_on"),
            lead.label("lead"),
            referred.code.label("referred_code"),
            Referral.status.label("status"),
            Referral.won_on.label("won_on"),
        )
        .join(Referral, Referral.customer_id == Customer.id)
        .outerjoin(referred, referred.id == Referral.referred_customer_id)
        .where(
            and_(Referral.referred_on >= q.first, Referral.referred_on <= q.last),
            *account_clauses(q),
        )
        .order_by(Referral.referred_on.desc(), Referral.id.desc())
    )


register(
    Drill(
        code="referrals",
        title=N_("Referrals made"),
        stage="force",
        columns=(
            *ACCOUNT,
            DrillColumn("referred_on", N_("Referred on"), "date"),
            DrillColumn("lead", N_("Lead")),
            DrillColumn("referred_code", N_("Referred account"), "code"),
            DrillColumn("status", N_("Status")),
            DrillColumn("won_on", N_("Won on"), "date"),
        ),
        query=_referrals,
    )
)
