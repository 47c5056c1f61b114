"""The REST API under /api/v1: the one place where each domain's JSON router is mounted."""

from __future__ import annotations

from fastapi import APIRouter

API_PREFIX = "/api/v1"


def domain_routers() -> list[APIRouter]:
    """Every domain's ``api.router``; a new domain adds its import and its router here."""
    from flywheel.customers import api as customers
    from flywheel.web import health

    return [health.api_router, customers.router]


def build_api_router() -> APIRouter:
    api = APIRouter(prefix=API_PREFIX)
    for router in domain_routers():
        api.include_router(router)
    return api
