"""The REST API under /api/v1: the one place where each domain's JSON router is mounted."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.routing import Match
from starlette.types import Scope

from flywheel.web.contract import storable_parameters

API_PREFIX = "/api/v1"


def route_path(scope: Scope) -> str:
    """The request's path below the app's mount point (``root_path``), as routes see it."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root) : len(root) + 1] in ("", "/"):
        return path[len(root) :]
    return path


class PrefixedRouter(APIRouter):
    """A router whose routes all sit under its prefix. A request for any other path is turned
    away before its routes are tried: the API has some 200 of them, and trying each one on
    every page request cost about as much as the rest of the routing."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = route_path(scope)
        if path != self.prefix and not path.startswith(self.prefix + "/"):
            return Match.NONE, {}
        return super().matches(scope)


def domain_routers() -> list[APIRouter]:
    """Every domain's ``api.router``; a new domain adds its import and its router here."""
    from flywheel.collections import api as collections
    from flywheel.credit import api as credit
    from flywheel.customers import api as customers
    from flywheel.feedback import api as feedback
    from flywheel.feedback import campaign_api, loop_api
    from flywheel.importers import api as importers
    from flywheel.insights import api as insights
    from flywheel.keyaccounts import (
        contract_api,
        deal_api,
        map_api,
        negotiation_api,
        plan_api,
        terms_api,
    )
    from flywheel.loyalty import action_api, customer_api, model_api, referral_api
    from flywheel.loyalty import api as loyalty
    from flywheel.receivables import api as receivables
    from flywheel.receivables import ar_api
    from flywheel.sales import api as sales
    from flywheel.users import api as users
    from flywheel.web import health

    return [
        health.api_router,
        customers.router,
        sales.router,
        receivables.router,
        ar_api.router,
        credit.router,
        collections.router,
        feedback.router,
        campaign_api.router,
        loop_api.router,
        loyalty.router,
        customer_api.router,
        referral_api.router,
        action_api.router,
        model_api.router,
        plan_api.router,
        deal_api.router,
        map_api.router,
        negotiation_api.router,
        terms_api.router,
        contract_api.router,
        insights.router,
        importers.router,
        users.router,
    ]


def build_api_router() -> APIRouter:
    api = PrefixedRouter(prefix=API_PREFIX, dependencies=[Depends(storable_parameters)])
    for router in domain_routers():
        api.include_router(router)
    return api
