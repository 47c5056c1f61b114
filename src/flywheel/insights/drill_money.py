"""Drills of the drill_money stages: to be written."""

from __future__ import annotations
