"""Key-account JSON routes (terms)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["key accounts"])
