"""The next-best-action pages: my actions and the rules."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
