"""Sign-in throttling: five failures in a row lock the account for fifteen minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.models.audit import AuditEvent
from flywheel.models.users import User
from flywheel.users import service as users

ADMIN = Actor.system("tests")
NOW = datetime(2026, 6, 15, 9, 30, tzinfo=UTC)
PASSWORD = "right-password"


def _user(session: Session) -> User:
    return users.create_user(session, actor=ADMIN, username="xu.li", password=PASSWORD)


def _fail(session: Session, times: int, *, at: datetime = NOW) -> None:
    for _ in range(times):
        assert users.authenticate_password(session, "xu.li", "wrong-password", now=at) is None


def _locks(session: Session, user: User) -> list[AuditEvent]:
    query = select(AuditEvent).where(
        AuditEvent.action == "user.locked", AuditEvent.subject_id == user.id
    )
    return list(session.scalars(query))


def test_the_rule_is_five_failures_and_fifteen_minutes() -> None:
    assert users.MAX_FAILED_LOGINS == 5
    assert timedelta(minutes=15) == users.LOCKOUT


def test_four_failures_count_but_do_not_lock_and_a_success_resets(session: Session) -> None:
    user = _user(session)

    _fail(session, 4)

    assert (user.failed_logins, user.locked_until) == (4, None)
    assert users.authenticate_password(session, "xu.li", PASSWORD, now=NOW) is user
    assert (user.failed_logins, user.locked_until) == (0, None)
    assert _locks(session, user) == []


def test_the_fifth_failure_locks_even_the_right_password_out(session: Session) -> None:
    user = _user(session)

    _fail(session, 5)

    assert user.failed_logins == 5
    assert user.locked_until == NOW + timedelta(minutes=15)
    assert users.is_locked(user, now=NOW + timedelta(minutes=14, seconds=59)) is True
    late = NOW + timedelta(minutes=14, seconds=59)
    assert users.authenticate_password(session, "xu.li", PASSWORD, now=late) is None
    [event] = _locks(session, user)
    assert event.actor_name == "sign-in"
    assert event.after == {"failed_logins": 5, "locked_until": "2026-06-15T09:45:00+00:00"}


def test_failures_while_locked_neither_count_nor_extend_the_lock(session: Session) -> None:
    user = _user(session)
    _fail(session, 5)

    _fail(session, 3, at=NOW + timedelta(minutes=5))

    assert user.failed_logins == 5
    assert user.locked_until == NOW + timedelta(minutes=15)


def test_the_lock_ends_after_fifteen_minutes_and_a_success_resets(session: Session) -> None:
    user = _user(session)
    _fail(session, 5)
    unlocked = NOW + timedelta(minutes=15)

    assert users.is_locked(user, now=unlocked) is False
    assert users.authenticate_password(session, "xu.li", PASSWORD, now=unlocked) is user
    assert (user.failed_logins, user.locked_until) == (0, None)


def test_after_a_lock_ends_the_next_failure_locks_again(session: Session) -> None:
    user = _user(session)
    _fail(session, 5)
    later = NOW + timedelta(minutes=20)

    _fail(session, 1, at=later)

    assert user.failed_logins == 6
    assert user.locked_until == later + timedelta(minutes=15)
    assert len(_locks(session, user)) == 2


def test_a_password_reset_lifts_the_lock(session: Session) -> None:
    user = _user(session)
    _fail(session, 5)

    new_password = users.reset_password(session, actor=ADMIN, user=user)

    assert (user.failed_logins, user.locked_until) == (0, None)
    assert users.authenticate_password(session, "xu.li", new_password, now=NOW) is user


def test_unknown_users_get_none_and_nothing_is_written(session: Session) -> None:
    before = session.scalars(select(AuditEvent.id)).all()

    assert users.authenticate_password(session, "nobody", "any-password", now=NOW) is None
    assert session.scalars(select(AuditEvent.id)).all() == before


def test_the_count_is_read_from_the_database(session: Session) -> None:
    user = _user(session)
    _fail(session, 2)
    # Two more failures recorded by other requests, behind this session's back.
    session.execute(text("UPDATE users SET failed_logins = 4 WHERE id = :id"), {"id": user.id})
    assert user.failed_logins == 2

    _fail(session, 1)

    assert user.failed_logins == 5
    assert user.locked_until == NOW + timedelta(minutes=15)
