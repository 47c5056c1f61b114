"""The insights API (``/api/v1/insights/…``): every figure of the dashboard, for BI tools."""

from __future__ import annotations

from fastapi import APIRouter

from flywheel.web.contract import ERROR_RESPONSES

router = APIRouter(prefix="/insights", tags=["insights"], responses=ERROR_RESPONSES)
