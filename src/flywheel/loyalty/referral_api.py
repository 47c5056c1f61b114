"""JSON routes of referrals and reward rules."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/loyalty", tags=["loyalty"])
