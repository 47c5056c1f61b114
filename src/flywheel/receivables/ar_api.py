"""``/api/v1/ar``: aging and receivables KPIs as JSON."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/ar", tags=["receivables analytics"])
