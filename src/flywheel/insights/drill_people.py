"""Drills of the drill_people stages: to be written."""

from __future__ import annotations
