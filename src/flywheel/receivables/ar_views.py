"""The receivables analytics pages: AR dashboard, aging with drill-down."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
