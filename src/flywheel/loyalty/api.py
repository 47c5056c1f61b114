"""JSON routes of the loyalty dashboard: segments, retention, NRR/GRR, CLV, at-risk."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/loyalty", tags=["loyalty"])
