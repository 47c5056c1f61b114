"""Named slots on the customer 360 that later capabilities fill with panels of their own.

A capability registers its panel when its ``views`` module is imported (``page_routers()``
imports every one when the app is built)::

    # credit/views.py
    panels.register("credit", panels.Panel(
        name="credit.grade",
        label=N_("Credit grade"),
        template="credit/_grade_panel.html",
        loader=lambda session, actor, customer, as_of: {"grade": ...},
    ))

On each 360 the loader of every panel the actor may see runs once; its dict is the template's
``data``. A loader that returns None has nothing to show for that account: the panel is left
out, and a slot with no panel renders nothing at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from flywheel.auth import permissions
from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.models.customers import Customer

SLOTS: tuple[str, ...] = ("credit", "collections", "feedback", "loyalty", "key_account")

Loader = Callable[[Session, Actor, Customer, date], Mapping[str, Any] | None]


@dataclass(frozen=True, slots=True)
class Panel:
    name: str  # unique, e.g. "credit.grade"
    label: str  # English heading, marked with N_(); translated when shown
    template: str  # rendered with ``panel`` and ``data`` (the loader's dict) in its context
    loader: Loader
    permission: Permission | None = None  # None: every role that may see the account


@dataclass(frozen=True, slots=True)
class FilledPanel:
    panel: Panel
    data: Mapping[str, Any]


_registry: dict[str, list[Panel]] = {slot: [] for slot in SLOTS}


def register(slot: str, panel: Panel) -> Panel:
    """Add ``panel`` at the end of ``slot``. Unknown slots and taken names are refused."""
    if slot not in _registry:
        raise ValueError(f"unknown panel slot {slot!r}; the slots are {', '.join(SLOTS)}")
    if any(p.name == panel.name for panels in _registry.values() for p in panels):
        raise ValueError(f"a panel named {panel.name!r} is already registered")
    _registry[slot].append(panel)
    return panel


def unregister(name: str) -> None:
    """Remove the panel called ``name`` (no error when there is none)."""
    for slot, panels in _registry.items():
        _registry[slot] = [p for p in panels if p.name != name]


def registered(slot: str) -> tuple[Panel, ...]:
    return tuple(_registry[slot])


def fill(
    session: Session, actor: Actor, customer: Customer, as_of: date
) -> dict[str, list[FilledPanel]]:
    """The panels to show on ``customer``'s 360, by slot; slots without any are left out."""
    filled: dict[str, list[FilledPanel]] = {}
    for slot, panels in _registry.items():
        for panel in panels:
            if panel.permission is not None and not permissions.allows(actor, panel.permission):
                continue
            data = panel.loader(session, actor, customer, as_of)
            if data is not None:
                filled.setdefault(slot, []).append(FilledPanel(panel, data))
    return filled
