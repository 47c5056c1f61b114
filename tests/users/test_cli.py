"""``flywheel users …`` end to end: a real process, a real SQLite file, JSON on stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from flywheel.auth import tokens
from flywheel.db import make_engine
from flywheel.users import service as users

NOW = datetime(2026, 6, 15, 9, 30, tzinfo=UTC)
USER_KEYS = {
    "id",
    "username",
    "display_name",
    "email",
    "role",
    "language",
    "active",
    "has_password",
    "locked_until",
    "created_at",
}
TOKEN_KEYS = {
    "id",
    "username",
    "name",
    "prefix",
    "created_at",
    "last_used_at",
    "expires_at",
    "revoked_at",
}


def flywheel(db: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FLYWHEEL_DATABASE_URL": f"sqlite:///{db}", "COLUMNS": "120"}
    return subprocess.run(
        [sys.executable, "-m", "flywheel", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )


def as_json(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stdout + proc.stderr
    data: dict[str, Any] = json.loads(lines[0])
    return data


def sign_in(db: Path, username: str, password: str) -> bool:
    engine = make_engine(f"sqlite:///{db}")
    try:
        with Session(engine) as session:
            return users.authenticate_password(session, username, password, now=NOW) is not None
    finally:
        engine.dispose()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "flywheel.db"
    assert flywheel(path, "init").returncode == 0
    return path


def test_create_with_password_on_stdin_then_sign_in(db: Path) -> None:
    proc = flywheel(
        db,
        "users", "create", "li.na", "--role", "collector", "--name", "李娜",
        "--email", "li.na@example.cn", "--language", "en", "--password-stdin", "--json",
        stdin="催收-password-1\n",
    )  # fmt: skip

    assert proc.returncode == 0, proc.stderr
    data = as_json(proc)
    assert set(data) == {"user", "generated_password"}
    assert data["generated_password"] is None
    assert set(data["user"]) == USER_KEYS
    user = data["user"]
    assert (user["username"], user["display_name"], user["email"]) == (
        "li.na",
        "李娜",
        "li.na@example.cn",
    )
    assert (user["role"], user["language"], user["active"], user["has_password"]) == (
        "collector",
        "en",
        True,
        True,
    )
    assert sign_in(db, "li.na", "催收-password-1") is True


def test_create_without_a_password_and_without_a_terminal_is_refused(db: Path) -> None:
    proc = flywheel(db, "users", "create", "nopass", "--json")

    assert proc.returncode == 3
    assert as_json(proc)["error"]["code"] == "password_required"
    assert as_json(flywheel(db, "users", "list", "--json"))["total"] == 0


def test_create_with_a_weak_password_is_refused_and_writes_nothing(db: Path) -> None:
    proc = flywheel(db, "users", "create", "weak", "--password-stdin", "--json", stdin="weak\n")

    assert proc.returncode == 3
    error = as_json(proc)["error"]
    assert error["code"] == "weak_password"
    assert error["details"]["rule"] == "min_length"
    assert as_json(flywheel(db, "users", "list", "--json"))["total"] == 0


def test_generated_password_is_printed_once_and_works(db: Path) -> None:
    created = as_json(flywheel(db, "users", "create", "wang", "--generate-password", "--json"))
    first = created["generated_password"]
    reset = flywheel(db, "users", "reset-password", "wang", "--generate-password", "--json")

    assert reset.returncode == 0, reset.stderr
    second = as_json(reset)["generated_password"]
    assert len(first) == len(second) == 20
    assert first != second
    assert sign_in(db, "wang", second) is True
    assert sign_in(db, "wang", first) is False


def test_list_roles_and_enable_disable(db: Path) -> None:
    for name, role in (("zz", "viewer"), ("aa", "viewer"), ("boss", "admin")):
        assert (
            flywheel(db, "users", "create", name, "--role", role, "--generate-password").returncode
            == 0
        )

    viewers = as_json(flywheel(db, "users", "list", "--role", "viewer", "--json"))
    assert viewers["total"] == 2
    assert [u["username"] for u in viewers["users"]] == ["aa", "zz"]

    changed = as_json(flywheel(db, "users", "set-role", "aa", "finance", "--json"))
    assert changed["changed"] is True
    assert changed["user"]["role"] == "finance"
    disabled = as_json(flywheel(db, "users", "disable", "zz", "--json"))
    assert (disabled["changed"], disabled["user"]["active"]) == (True, False)
    again = as_json(flywheel(db, "users", "disable", "zz", "--json"))
    assert again["changed"] is False
    enabled = as_json(flywheel(db, "users", "enable", "zz", "--json"))
    assert (enabled["changed"], enabled["user"]["active"]) == (True, True)

    last_admin = flywheel(db, "users", "disable", "boss", "--json")
    assert last_admin.returncode == 5
    assert as_json(last_admin)["error"]["code"] == "last_admin"


ERROR_CASES = [
    (("set-role", "nobody", "viewer"), "not_found", 4),
    (("disable", "nobody"), "not_found", 4),
    (("reset-password", "nobody", "--generate-password"), "not_found", 4),
    (("token", "create", "nobody", "--name", "x"), "not_found", 4),
    (("token", "revoke", "999"), "not_found", 4),
    (("set-role", "present", "emperor"), "validation_failed", 3),
    (("create", "present", "--generate-password"), "conflict", 5),
]


def test_errors_have_stable_codes_and_exit_codes(db: Path) -> None:
    # One database for all cases: each process costs a second or two.
    assert flywheel(db, "users", "create", "present", "--generate-password").returncode == 0

    seen = [
        (args, proc.returncode, as_json(proc)["error"]["code"])
        for args, proc in (
            (args, flywheel(db, "users", *args, "--json")) for args, _, _ in ERROR_CASES
        )
    ]

    assert seen == [(args, exit_code, code) for args, code, exit_code in ERROR_CASES]


def test_token_create_list_authenticate_revoke(db: Path) -> None:
    assert flywheel(db, "users", "create", "erp", "--generate-password").returncode == 0

    created = flywheel(
        db, "users", "token", "create", "erp", "--name", "ERP sync", "--expires", "2030-01-01",
        "--json",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    data = as_json(created)
    secret = data["secret"]
    assert set(data) == {"token", "secret"}
    assert set(data["token"]) == TOKEN_KEYS
    assert data["token"]["expires_at"] == "2030-01-01T00:00:00+00:00"
    assert data["token"]["prefix"] == secret[:8]

    listed = flywheel(db, "users", "token", "list", "erp", "--json")
    assert secret[8:] not in listed.stdout
    assert as_json(listed)["total"] == 1

    engine = make_engine(f"sqlite:///{db}")
    try:
        with Session(engine) as session:
            user = tokens.authenticate_token(session, secret, now=NOW)
            assert user is not None
            assert user.username == "erp"
        revoked = as_json(
            flywheel(db, "users", "token", "revoke", str(data["token"]["id"]), "--json")
        )
        assert revoked["changed"] is True
        assert revoked["token"]["revoked_at"] is not None
        with Session(engine) as session:
            assert tokens.authenticate_token(session, secret, now=NOW) is None
    finally:
        engine.dispose()


def test_human_output_shows_a_generated_token_once(db: Path) -> None:
    assert flywheel(db, "users", "create", "erp", "--generate-password").returncode == 0

    created = flywheel(db, "users", "token", "create", "erp", "--name", "ops")
    listed = flywheel(db, "users", "token", "list")

    assert created.returncode == 0, created.stderr
    secret = next(line for line in created.stdout.splitlines() if line.startswith("fw_"))
    assert len(secret) == 46
    assert secret[:8] in listed.stdout
    assert secret[8:] not in listed.stdout
