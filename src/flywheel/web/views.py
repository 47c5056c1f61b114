"""The HTML pages: the one place where each domain's ``views.router`` is mounted."""

from __future__ import annotations

from fastapi import APIRouter


def page_routers() -> list[APIRouter]:
    """Every domain's ``views.router``; a new capability adds its import and router here."""
    from flywheel.auth import views as auth
    from flywheel.collections import statement_views, template_views
    from flywheel.collections import views as collections
    from flywheel.credit import views as credit
    from flywheel.customers import views as customers
    from flywheel.feedback import campaign_views, loop_views, public_views
    from flywheel.feedback import views as feedback
    from flywheel.importers import views as imports
    from flywheel.insights import report_views, target_views, trend_views
    from flywheel.insights import views as insights
    from flywheel.keyaccounts import (
        contract_views,
        deal_views,
        map_views,
        negotiation_views,
        plan_views,
        terms_views,
    )
    from flywheel.loyalty import action_views, customer_views, model_views, referral_views
    from flywheel.loyalty import views as loyalty
    from flywheel.receivables import ar_views
    from flywheel.receivables import views as receivables
    from flywheel.users import views as users

    return [
        auth.router,
        users.router,
        customers.router,
        imports.router,
        receivables.router,
        ar_views.router,
        credit.router,
        collections.router,
        template_views.router,
        statement_views.router,
        public_views.router,
        feedback.router,
        loop_views.router,
        campaign_views.router,
        loyalty.router,
        customer_views.router,
        referral_views.router,
        action_views.router,
        model_views.router,
        terms_views.router,
        plan_views.router,
        deal_views.router,
        map_views.router,
        negotiation_views.router,
        contract_views.router,
        insights.router,
        trend_views.router,
        target_views.router,
        report_views.router,
    ]
