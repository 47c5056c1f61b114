"""JSON routes of next best actions and their rules."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/loyalty", tags=["loyalty"])
