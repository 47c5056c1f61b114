"""Key-account JSON routes (deal)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["key accounts"])
