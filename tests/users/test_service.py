"""The users service: creation with a password, roles, disabling, passwords; each change audited."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.auth import passwords
from flywheel.auth.actor import Actor
from flywheel.errors import Conflict, LastAdmin, ValidationFailed, WeakPassword, WrongPassword
from flywheel.models.audit import AuditEvent
from flywheel.models.enums import Role
from flywheel.models.users import User
from flywheel.users import service as users
from tests.factories import make_user

ADMIN = Actor.system("tests")
NOW = datetime(2026, 6, 15, 9, 30, tzinfo=UTC)


def _events(session: Session, action: str, user: User) -> list[AuditEvent]:
    query = select(AuditEvent).where(
        AuditEvent.action == action,
        AuditEvent.subject_type == "user",
        AuditEvent.subject_id == user.id,
    )
    return list(session.scalars(query.order_by(AuditEvent.id)))


def _user_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0


def test_create_with_a_password_stores_an_argon2_hash_and_audits_no_secret(
    session: Session,
) -> None:
    user = users.create_user(
        session,
        actor=ADMIN,
        username="li.na",
        display_name="李娜",
        email="li.na@example.cn",
        role=Role.COLLECTOR,
        language="zh",
        password="催收-password-1",
    )

    assert user.password_hash is not None
    assert user.password_hash.startswith("$argon2id$")
    assert (user.failed_logins, user.locked_until, user.is_active) == (0, None, True)
    assert users.authenticate_password(session, "li.na", "催收-password-1", now=NOW) is user
    [event] = _events(session, "user.created", user)
    assert event.actor_name == "tests"
    assert event.after == {"username": "li.na", "role": "collector", "password_set": True}


def test_create_without_a_password_leaves_sign_in_impossible(session: Session) -> None:
    user = users.create_user(session, actor=ADMIN, username="importer.made")

    assert user.password_hash is None
    assert users.authenticate_password(session, "importer.made", "", now=NOW) is None
    [event] = _events(session, "user.created", user)
    assert event.after == {"username": "importer.made", "role": "sales"}


def test_create_with_a_weak_password_writes_nothing(session: Session) -> None:
    before = _user_count(session)

    with pytest.raises(WeakPassword) as caught:
        users.create_user(session, actor=ADMIN, username="zhang", password="short")

    assert caught.value.details["rule"] == "min_length"
    assert _user_count(session) == before
    assert users.find_by_username(session, "zhang") is None


def test_create_refuses_a_taken_username(session: Session) -> None:
    make_user(session, username="taken")

    with pytest.raises(Conflict):
        users.create_user(session, actor=ADMIN, username="taken")


@pytest.mark.parametrize("username", ["", " padded", "x" * 65])
def test_create_refuses_a_malformed_username(session: Session, username: str) -> None:
    with pytest.raises(ValidationFailed):
        users.create_user(session, actor=ADMIN, username=username)


def test_list_users_by_username_with_a_role_filter(session: Session) -> None:
    make_user(session, username="zz.viewer", role=Role.VIEWER)
    make_user(session, username="aa.viewer", role=Role.VIEWER)
    make_user(session, username="mm.finance", role=Role.FINANCE)

    viewers = users.list_users(session, role=Role.VIEWER)

    assert [u.username for u in viewers] == ["aa.viewer", "zz.viewer"]
    everyone = [u.username for u in users.list_users(session)]
    assert everyone == sorted(everyone)
    assert "mm.finance" in everyone


def test_set_role_audits_before_and_after(session: Session) -> None:
    user = make_user(session, username="wang", role=Role.SALES)

    changed = users.set_role(session, actor=ADMIN, user=user, role=Role.MANAGER)
    unchanged = users.set_role(session, actor=ADMIN, user=user, role=Role.MANAGER)

    assert (changed, unchanged) == (True, False)
    assert user.role == "manager"
    [event] = _events(session, "user.role_changed", user)
    assert (event.before, event.after) == ({"role": "sales"}, {"role": "manager"})


def test_the_last_active_admin_cannot_be_demoted_or_disabled(session: Session) -> None:
    admin = make_user(session, username="root", role=Role.ADMIN)
    for other in users.list_users(session, role=Role.ADMIN):
        if other.id != admin.id:
            users.set_role(session, actor=ADMIN, user=other, role=Role.VIEWER)

    with pytest.raises(LastAdmin):
        users.set_role(session, actor=ADMIN, user=admin, role=Role.VIEWER)
    with pytest.raises(LastAdmin):
        users.disable_user(session, actor=ADMIN, user=admin)

    assert (admin.role, admin.is_active) == ("admin", True)
    assert _events(session, "user.role_changed", admin) == []
    assert _events(session, "user.disabled", admin) == []


def test_an_admin_can_be_demoted_when_another_admin_remains(session: Session) -> None:
    first = make_user(session, username="root1", role=Role.ADMIN)
    make_user(session, username="root2", role=Role.ADMIN)

    assert users.set_role(session, actor=ADMIN, user=first, role=Role.FINANCE) is True
    assert first.role == "finance"


def test_disable_and_enable_are_audited_and_stop_sign_in(session: Session) -> None:
    user = users.create_user(session, actor=ADMIN, username="chen", password="chen-password")

    assert users.disable_user(session, actor=ADMIN, user=user) is True
    assert users.disable_user(session, actor=ADMIN, user=user) is False
    assert users.authenticate_password(session, "chen", "chen-password", now=NOW) is None
    assert users.enable_user(session, actor=ADMIN, user=user) is True
    assert users.authenticate_password(session, "chen", "chen-password", now=NOW) is user

    [disabled] = _events(session, "user.disabled", user)
    [enabled] = _events(session, "user.enabled", user)
    assert (disabled.before, disabled.after) == ({"is_active": True}, {"is_active": False})
    assert (enabled.before, enabled.after) == ({"is_active": False}, {"is_active": True})


def test_reset_password_generates_one_and_audits_no_secret(session: Session) -> None:
    user = users.create_user(session, actor=ADMIN, username="zhao", password="old-password")
    old_hash = user.password_hash

    password = users.reset_password(session, actor=ADMIN, user=user)

    assert len(password) == 20
    assert user.password_hash != old_hash
    assert users.authenticate_password(session, "zhao", password, now=NOW) is user
    assert users.authenticate_password(session, "zhao", "old-password", now=NOW) is None
    [event] = _events(session, "user.password_reset", user)
    assert event.before is None
    assert event.after == {"generated": True}


def test_reset_password_to_a_given_one(session: Session) -> None:
    user = make_user(session, username="sun")

    password = users.reset_password(session, actor=ADMIN, user=user, new_password="given-password")

    assert password == "given-password"
    assert users.authenticate_password(session, "sun", "given-password", now=NOW) is user
    [event] = _events(session, "user.password_reset", user)
    assert event.after == {"generated": False}


def test_reset_password_refuses_a_weak_one_and_keeps_the_old(session: Session) -> None:
    user = users.create_user(session, actor=ADMIN, username="zhou", password="old-password")
    old_hash = user.password_hash

    with pytest.raises(WeakPassword) as caught:
        users.reset_password(session, actor=ADMIN, user=user, new_password="zhou")

    assert caught.value.details["rule"] == "min_length"
    assert user.password_hash == old_hash
    assert _events(session, "user.password_reset", user) == []


def test_change_password_needs_the_current_one(session: Session) -> None:
    user = users.create_user(session, actor=ADMIN, username="wu", password="first-password")
    old_hash = user.password_hash
    me = Actor(name="wu", role=Role.SALES, user_id=user.id)

    with pytest.raises(WrongPassword) as caught:
        users.change_password(
            session, actor=me, user=user, old_password="guess-guess", new_password="next-password"
        )

    assert caught.value.kind == "forbidden"
    assert user.password_hash == old_hash
    assert _events(session, "user.password_changed", user) == []


def test_change_password_replaces_the_old_one(session: Session) -> None:
    user = users.create_user(session, actor=ADMIN, username="wu", password="first-password")
    me = Actor(name="wu", role=Role.SALES, user_id=user.id)

    users.change_password(
        session, actor=me, user=user, old_password="first-password", new_password="next-password"
    )

    assert users.authenticate_password(session, "wu", "next-password", now=NOW) is user
    assert users.authenticate_password(session, "wu", "first-password", now=NOW) is None
    [event] = _events(session, "user.password_changed", user)
    assert (event.actor_id, event.actor_name) == (user.id, "wu")
    assert event.after == {"password_set": True}


@pytest.mark.parametrize(
    ("new_password", "rule"),
    [("first-password", "not_current"), ("wu", "min_length"), ("WU-WU-WU-WU", None)],
)
def test_change_password_applies_the_policy(
    session: Session, new_password: str, rule: str | None
) -> None:
    user = users.create_user(
        session, actor=ADMIN, username="wu-wu-wu-wu", password="first-password"
    )
    me = Actor(name="wu", role=Role.SALES, user_id=user.id)

    with pytest.raises(ValidationFailed) as caught:
        users.change_password(
            session, actor=me, user=user, old_password="first-password", new_password=new_password
        )

    assert caught.value.details["rule"] == (rule or "not_username")
    assert passwords.verify_password(user.password_hash, "first-password") is True


def test_audit_events_never_hold_a_password_or_hash(session: Session) -> None:
    user = users.create_user(session, actor=ADMIN, username="audit.me", password="audit-password")
    generated = users.reset_password(session, actor=ADMIN, user=user)
    users.change_password(
        session, actor=ADMIN, user=user, old_password=generated, new_password="final-password"
    )

    events = session.scalars(
        select(AuditEvent).where(
            AuditEvent.subject_type == "user", AuditEvent.subject_id == user.id
        )
    ).all()
    written = " ".join(f"{e.before} {e.after}" for e in events)
    assert len(events) == 3
    for secret in ("audit-password", generated, "final-password", "$argon2", "hash"):
        assert secret not in written
