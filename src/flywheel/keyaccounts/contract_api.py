"""Key-account JSON routes (contract)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["key accounts"])
