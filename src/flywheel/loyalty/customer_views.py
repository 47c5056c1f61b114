"""The customer 360 loyalty panel and one account's loyalty page."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
