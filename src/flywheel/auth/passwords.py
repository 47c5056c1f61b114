"""Password hashing (argon2id), verification and the password policy."""

from __future__ import annotations

import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from flywheel.errors import WeakPassword

MIN_LENGTH = 10
# argon2 digests any length, but an unbounded input lets one request burn CPU and memory.
MAX_LENGTH = 1024

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash string with its own salt and parameters."""
    return _hasher.hash(password)


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``. Never raises.

    Without a hash (no such user, or no password set) a decoy hash is verified all the same,
    so that the time taken does not reveal which usernames exist.
    """
    if password_hash is None:
        _safe_verify(_decoy_hash(), password)
        return False
    return _safe_verify(password_hash, password)


def _safe_verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's (or is not argon2)."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return True


def check_password_policy(password: str, *, username: str) -> None:
    """Raise ``WeakPassword`` naming the first rule the password breaks."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(
            f"password must be at least {MIN_LENGTH} characters long (rule: min_length)",
            rule="min_length",
            min_length=MIN_LENGTH,
        )
    if len(password) > MAX_LENGTH:
        raise WeakPassword(
            f"password must be at most {MAX_LENGTH} characters long (rule: max_length)",
            rule="max_length",
            max_length=MAX_LENGTH,
        )
    if password.strip().casefold() == username.strip().casefold():
        raise WeakPassword(
            "password must not be the same as the username (rule: not_username)",
            rule="not_username",
        )


def generate_password() -> str:
    """A random password of 20 URL-safe characters (120 bits), easy to paste."""
    return secrets.token_urlsafe(15)
