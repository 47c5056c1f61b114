"""API tokens: shown once, stored only as a digest, refused when revoked, expired or disabled."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from flywheel.auth import tokens
from flywheel.auth.actor import Actor
from flywheel.errors import NotFound, TokenExpiryInPast, ValidationFailed
from flywheel.models.audit import AuditEvent
from flywheel.models.auth import ApiToken
from flywheel.models.users import User
from flywheel.users import service as users
from tests.factories import make_user

ADMIN = Actor.system("tests")
NOW = datetime(2026, 6, 15, 9, 30, tzinfo=UTC)


def _events(session: Session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _token_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ApiToken)) or 0


def test_create_returns_the_plaintext_once_and_stores_only_its_digest(session: Session) -> None:
    user = make_user(session, username="api.bot")

    token, plaintext = tokens.create_token(
        session, actor=ADMIN, user=user, name="ERP sync", now=NOW
    )

    assert plaintext.startswith("fw_")
    assert len(plaintext) == 3 + 43  # 32 random bytes, URL-safe base64 without padding
    assert token.prefix == plaintext[:8]
    assert token.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert token.user_id == user.id
    assert token.name == "ERP sync"
    assert token.created_at == NOW
    assert (token.last_used_at, token.expires_at, token.revoked_at) == (None, None, None)
    row = session.execute(text("SELECT * FROM api_tokens WHERE id = :id"), {"id": token.id}).one()
    secret_part = plaintext[8:]
    assert all(secret_part not in str(value) for value in row)


def test_create_is_audited_without_the_token_or_its_digest(session: Session) -> None:
    user = make_user(session, username="api.bot")

    token, plaintext = tokens.create_token(
        session, actor=ADMIN, user=user, name="ERP sync", expires_on=date(2027, 1, 1), now=NOW
    )

    [event] = _events(session, "api_token.created")
    assert event.actor_name == "tests"
    assert (event.subject_type, event.subject_id) == ("api_token", token.id)
    assert event.after == {
        "user": "api.bot",
        "name": "ERP sync",
        "expires_at": "2027-01-01T00:00:00+00:00",
    }
    assert plaintext[8:] not in str(event.after)
    assert token.token_hash not in str(event.after)


def test_authenticate_returns_the_user_and_records_the_use(session: Session) -> None:
    user = make_user(session)
    token, plaintext = tokens.create_token(session, actor=ADMIN, user=user, name="n", now=NOW)
    later = NOW + timedelta(hours=2)

    found = tokens.authenticate_token(session, plaintext, now=later)

    assert found is not None
    assert found.id == user.id
    assert token.last_used_at == later


def test_last_use_is_recorded_at_most_once_a_minute(session: Session) -> None:
    user = make_user(session)
    token, plaintext = tokens.create_token(session, actor=ADMIN, user=user, name="n", now=NOW)

    tokens.authenticate_token(session, plaintext, now=NOW)
    tokens.authenticate_token(session, plaintext, now=NOW + timedelta(seconds=59))
    assert token.last_used_at == NOW
    tokens.authenticate_token(session, plaintext, now=NOW + timedelta(seconds=60))
    assert token.last_used_at == NOW + timedelta(seconds=60)


@pytest.mark.parametrize(
    "presented",
    ["", "fw_", "fw_not-a-real-token", "Bearer fw_x", "no-prefix-at-all-0123456789abcdef"],
)
def test_unknown_tokens_are_refused(session: Session, presented: str) -> None:
    user = make_user(session)
    tokens.create_token(session, actor=ADMIN, user=user, name="n", now=NOW)

    assert tokens.authenticate_token(session, presented, now=NOW) is None


def test_a_digest_is_not_a_token(session: Session) -> None:
    user = make_user(session)
    token, _ = tokens.create_token(session, actor=ADMIN, user=user, name="n", now=NOW)

    assert tokens.authenticate_token(session, token.token_hash, now=NOW) is None
    assert tokens.authenticate_token(session, "fw_" + token.token_hash, now=NOW) is None


def test_a_revoked_token_is_refused_and_revoking_again_changes_nothing(session: Session) -> None:
    user = make_user(session, username="api.bot")
    token, plaintext = tokens.create_token(session, actor=ADMIN, user=user, name="n", now=NOW)
    revoked_at = NOW + timedelta(days=1)

    _, changed = tokens.revoke_token(session, actor=ADMIN, token_id=token.id, now=revoked_at)
    _, changed_again = tokens.revoke_token(session, actor=ADMIN, token_id=token.id)

    assert (changed, changed_again) == (True, False)
    assert token.revoked_at == revoked_at
    assert tokens.authenticate_token(session, plaintext, now=revoked_at) is None
    [event] = _events(session, "api_token.revoked")
    assert (event.subject_type, event.subject_id) == ("api_token", token.id)
    assert event.before == {"revoked_at": None}
    assert event.after == {
        "user": "api.bot",
        "name": "n",
        "revoked_at": "2026-06-16T09:30:00+00:00",
    }


def test_revoking_an_unknown_token_is_not_found(session: Session) -> None:
    with pytest.raises(NotFound):
        tokens.revoke_token(session, actor=ADMIN, token_id=999_999)


def test_a_token_stops_working_when_its_expiry_day_begins(session: Session) -> None:
    user = make_user(session)
    _, plaintext = tokens.create_token(
        session, actor=ADMIN, user=user, name="n", expires_on=date(2026, 7, 1), now=NOW
    )

    before = datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC)
    assert tokens.authenticate_token(session, plaintext, now=before) is not None
    assert (
        tokens.authenticate_token(session, plaintext, now=datetime(2026, 7, 1, tzinfo=UTC)) is None
    )


def test_an_expiry_in_the_past_is_refused_and_nothing_is_written(session: Session) -> None:
    user = make_user(session)

    with pytest.raises(TokenExpiryInPast):
        tokens.create_token(
            session, actor=ADMIN, user=user, name="n", expires_on=date(2026, 6, 15), now=NOW
        )

    assert _token_count(session) == 0
    assert _events(session, "api_token.created") == []


@pytest.mark.parametrize("name", ["", "   ", "x" * 121])
def test_a_token_needs_a_name(session: Session, name: str) -> None:
    user = make_user(session)

    with pytest.raises(ValidationFailed):
        tokens.create_token(session, actor=ADMIN, user=user, name=name, now=NOW)

    assert _token_count(session) == 0


def test_tokens_of_a_disabled_user_are_refused_until_enabled(session: Session) -> None:
    user = make_user(session)
    _, plaintext = tokens.create_token(session, actor=ADMIN, user=user, name="n", now=NOW)

    users.disable_user(session, actor=ADMIN, user=user)
    assert tokens.authenticate_token(session, plaintext, now=NOW) is None

    users.enable_user(session, actor=ADMIN, user=user)
    found = tokens.authenticate_token(session, plaintext, now=NOW)
    assert isinstance(found, User)
    assert found.id == user.id


def test_list_tokens_newest_first_and_per_user(session: Session) -> None:
    alice, bob = make_user(session, username="alice"), make_user(session, username="bob")
    first, _ = tokens.create_token(session, actor=ADMIN, user=alice, name="one", now=NOW)
    second, _ = tokens.create_token(session, actor=ADMIN, user=bob, name="two", now=NOW)
    third, _ = tokens.create_token(session, actor=ADMIN, user=alice, name="three", now=NOW)

    assert [t.id for t in tokens.list_tokens(session)] == [third.id, second.id, first.id]
    assert [t.name for t in tokens.list_tokens(session, user=alice)] == ["three", "one"]
