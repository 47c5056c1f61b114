"""The loyalty dashboard: segment map, cohort heatmap, NRR trend, CLV distribution, at-risk list."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
