"""JSON routes of one account's loyalty: scores, health history, CLV."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/loyalty", tags=["loyalty"])
