"""Password hashing with argon2id, verification that never raises, and the password policy."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from flywheel.auth import passwords
from flywheel.errors import ValidationFailed, WeakPassword


def test_a_hash_verifies_its_password_and_nothing_else() -> None:
    hashed = passwords.hash_password("correct horse battery")

    assert hashed.startswith("$argon2id$")
    assert "correct horse battery" not in hashed
    assert passwords.verify_password(hashed, "correct horse battery") is True
    assert passwords.verify_password(hashed, "correct horse batterY") is False
    assert passwords.verify_password(hashed, "") is False


def test_each_hash_has_its_own_salt() -> None:
    first = passwords.hash_password("same password 1")
    second = passwords.hash_password("same password 1")

    assert first != second
    assert passwords.verify_password(second, "same password 1") is True


@pytest.mark.parametrize("stored", [None, "", "not a hash", "$argon2id$v=19$broken", "plain"])
def test_verify_answers_false_for_a_missing_or_broken_hash(stored: str | None) -> None:
    assert passwords.verify_password(stored, "plain") is False


def test_needs_rehash_for_weaker_parameters_or_a_foreign_hash() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("old password")

    assert passwords.needs_rehash(passwords.hash_password("new password")) is False
    assert passwords.needs_rehash(weak) is True
    assert passwords.needs_rehash("5f4dcc3b5aa765d61d8327deb882cf99") is True


def test_policy_accepts_ten_characters() -> None:
    passwords.check_password_policy("abcdefghij", username="alice")


@pytest.mark.parametrize(
    ("password", "username", "rule"),
    [
        ("abcdefghi", "alice", "min_length"),
        ("", "alice", "min_length"),
        ("x" * 1025, "alice", "max_length"),
        ("wang.xiaoming", "wang.xiaoming", "not_username"),
        ("Wang.XiaoMing", "wang.xiaoming", "not_username"),
    ],
)
def test_policy_names_the_broken_rule(password: str, username: str, rule: str) -> None:
    with pytest.raises(WeakPassword) as caught:
        passwords.check_password_policy(password, username=username)

    error = caught.value
    assert isinstance(error, ValidationFailed)
    assert error.code == "weak_password"
    assert error.details["rule"] == rule
    assert f"(rule: {rule})" in error.message


def test_chinese_characters_count_one_each() -> None:
    passwords.check_password_policy("飞轮平台的安全密码十字", username="alice")
    with pytest.raises(WeakPassword):
        passwords.check_password_policy("飞轮平台的安全密码", username="alice")


def test_generated_passwords_pass_the_policy_and_differ() -> None:
    first, second = passwords.generate_password(), passwords.generate_password()

    assert len(first) == 20
    assert first != second
    passwords.check_password_policy(first, username="alice")
