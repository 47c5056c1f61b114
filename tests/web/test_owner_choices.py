"""The list's owner filter: a long list of everyone's owners is kept a few seconds, no more."""

from __future__ import annotations

import time

import pytest
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.customers import figures
from flywheel.customers.repository import LARGE_COUNT_SECONDS
from flywheel.models.enums import Role
from tests.factories import make_customer, make_user


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """A fresh cache (left as it was after the test) and a clock the test moves."""
    monkeypatch.setattr(figures, "_every_owner", {})
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    return now


def _owners(session: Session, actor: Actor) -> list[str]:
    return [o.username for o in figures.owner_choices(session, actor=actor)]


def test_a_long_owner_list_is_kept_for_a_few_seconds(session: Session, clock: list[float]) -> None:
    manager = Actor.system("manager-view")
    for n in range(figures.MANY_OWNERS):
        make_customer(session, owner=make_user(session, username=f"rep{n:03d}"))
    assert len(_owners(session, manager)) == figures.MANY_OWNERS

    late = make_user(session, username="rep-late")
    make_customer(session, owner=late)
    clock[0] += LARGE_COUNT_SECONDS - 1
    assert "rep-late" not in _owners(session, manager)
    # His own view is never kept.
    assert _owners(session, Actor.for_user(late)) == ["rep-late"]

    clock[0] += 2
    assert "rep-late" in _owners(session, manager)


def test_a_short_owner_list_is_read_every_time(session: Session, clock: list[float]) -> None:
    manager = Actor.system("manager-view")
    make_customer(session, owner=make_user(session, username="first-rep"))
    assert _owners(session, manager) == ["first-rep"]

    make_customer(session, owner=make_user(session, username="second-rep", role=Role.SALES))
    assert sorted(_owners(session, manager)) == ["first-rep", "second-rep"]
