"""``flywheel users …``: create users, roles, enable/disable, passwords and API tokens."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from flywheel.auth import passwords, tokens
from flywheel.auth.actor import Actor
from flywheel.cli import JsonFlag, console, fail, print_json
from flywheel.db import unit_of_work
from flywheel.errors import FlywheelError, PasswordRequired
from flywheel.models.auth import ApiToken
from flywheel.models.users import User
from flywheel.users import service

app = typer.Typer(
    help="Users: create them, set roles, disable, reset passwords, API tokens.",
    no_args_is_help=True,
)
token_app = typer.Typer(help="API tokens: create (shown once), list, revoke.", no_args_is_help=True)
app.add_typer(token_app, name="token")

ACTOR = Actor.system("cli")

Username = Annotated[str, typer.Argument(help="The user's sign-in name.")]
PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin", help="Read the password from the first line of standard input."
    ),
]
GeneratePassword = Annotated[
    bool,
    typer.Option("--generate-password", help="Generate a strong password and print it once."),
]


def _user_dict(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
        "role": user.role,
        "language": user.language,
        "active": user.is_active,
        "has_password": user.password_hash is not None,
        "locked_until": user.locked_until.isoformat() if user.locked_until else None,
        "created_at": user.created_at.isoformat(),
    }


def _token_dict(token: ApiToken) -> dict[str, Any]:
    def stamp(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": token.id,
        "username": token.user.username,
        "name": token.name,
        "prefix": token.prefix,
        "created_at": stamp(token.created_at),
        "last_used_at": stamp(token.last_used_at),
        "expires_at": stamp(token.expires_at),
        "revoked_at": stamp(token.revoked_at),
    }


def _read_password(*, from_stdin: bool, generate: bool) -> str | None:
    """The password the user gave, or None when one is to be generated."""
    if from_stdin and generate:
        raise PasswordRequired("use either --password-stdin or --generate-password, not both")
    if generate:
        return None
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise PasswordRequired("no password on standard input")
        return password
    if not sys.stdin.isatty():
        raise PasswordRequired(
            "no password given: use --password-stdin or --generate-password "
            "(a prompt needs a terminal)"
        )
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return str(password)


def _show_generated(password: str | None) -> None:
    if password is not None:
        console.print("Generated password (shown only this once):")
        console.print(password, markup=False, highlight=False, soft_wrap=True)


def _show_user(user: dict[str, Any], headline: str) -> None:
    console.print(headline, markup=False, highlight=False)
    console.print(
        f"  role {user['role']} · {'active' if user['active'] else 'disabled'} · "
        f"language {user['language']}",
        markup=False,
        highlight=False,
    )


@app.command("create")
def create(
    username: Username,
    role: Annotated[
        str, typer.Option(help="admin, manager, sales, collector, finance or viewer.")
    ] = "sales",
    name: Annotated[str | None, typer.Option("--name", help="Display name.")] = None,
    email: Annotated[str | None, typer.Option(help="E-mail address.")] = None,
    language: Annotated[str, typer.Option(help="zh or en.")] = "zh",
    password_stdin: PasswordStdin = False,
    generate_password: GeneratePassword = False,
    json_output: JsonFlag = False,
) -> None:
    """Create a user who can sign in (asks for the password twice unless told otherwise)."""
    try:
        parsed_role = service.parse_role(role)
        parsed_language = service.parse_language(language)
        given = _read_password(from_stdin=password_stdin, generate=generate_password)
        password = given if given is not None else passwords.generate_password()
        with unit_of_work() as session:
            user = service.create_user(
                session,
                actor=ACTOR,
                username=username,
                display_name=name,
                email=email,
                role=parsed_role,
                language=parsed_language.value,
                password=password,
            )
            data = _user_dict(user)
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from None
    generated = password if given is None else None
    if json_output:
        print_json({"user": data, "generated_password": generated})
        return
    _show_user(data, f"Created user {data['username']}")
    _show_generated(generated)


@app.command("list")
def list_users(
    role: Annotated[str | None, typer.Option(help="Only users with this role.")] = None,
    json_output: JsonFlag = False,
) -> None:
    """List users by username."""
    try:
        parsed_role = service.parse_role(role) if role is not None else None
        with unit_of_work() as session:
            items = [_user_dict(u) for u in service.list_users(session, role=parsed_role)]
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from None
    if json_output:
        print_json({"total": len(items), "users": items})
        return
    table = Table(title=f"{len(items)} users")
    for column in ("username", "name", "role", "language", "status", "password", "email"):
        table.add_column(column)
    for item in items:
        status = "active" if item["active"] else "disabled"
        if item["locked_until"]:
            status += f" (locked until {item['locked_until'][:16]})"
        table.add_row(
            item["username"],
            item["display_name"],
            item["role"],
            item["language"],
            status,
            "set" if item["has_password"] else "—",
            item["email"] or "",
        )
    console.print(table)


@app.command("set-role")
def set_role(
    username: Username,
    role: Annotated[
        str, typer.Argument(help="admin, manager, sales, collector, finance or viewer.")
    ],
    json_output: JsonFlag = False,
) -> None:
    """Give a user another role."""
    try:
        parsed = service.parse_role(role)
        with unit_of_work() as session:
            user = service.get_by_username(session, username)
            changed = service.set_role(session, actor=ACTOR, user=user, role=parsed)
            data = _user_dict(user)
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from None
    _report_change(data, changed, f"role is now {data['role']}", json_output=json_output)


@app.command("disable")
def disable(username: Username, json_output: JsonFlag = False) -> None:
    """Stop a user from signing in and from using API tokens (their history stays)."""
    try:
        with unit_of_work() as session:
            user = service.get_by_username(session, username)
            changed = service.disable_user(session, actor=ACTOR, user=user)
            data = _user_dict(user)
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from None
    _report_change(data, changed, "disabled", json_output=json_output)


@app.command("enable")
def enable(username: Username, json_output: JsonFlag = False) -> None:
    """Let a disabled user sign in again."""
    try:
        with unit_of_work() as session:
            user = service.get_by_username(session, username)
            changed = service.enable_user(session, actor=ACTOR, user=user)
            data = _user_dict(user)
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from None
    _report_change(data, changed, "enabled", json_output=json_output)


def _report_change(data: dict[str, Any], changed: bool, what: str, *, json_output: bool) -> None:
    if json_output:
        print_json({"user": data, "changed": changed})
        return
    prefix = "" if changed else "unchanged: "
    console.print(f"{prefix}{data['username']} {what}", markup=False, highlight=False)


@app.command("reset-password")
def reset_password(
    username: Username,
    password_stdin: PasswordStdin = False,
    generate_password: GeneratePassword = False,
    json_output: JsonFlag = False,
) -> None:
    """Set a new password for a user (and lift a sign-in lock)."""
    try:
        given = _read_password(from_stdin=password_stdin, generate=generate_password)
        with unit_of_work() as session:
            user = service.get_by_username(session, username)
            password = service.reset_password(session, actor=ACTOR, user=user, new_password=given)
            data = _user_dict(user)
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from None
    generated = password if given is None else None
    if json_output:
        print_json({"user": data, "generated_password": generated})
        return
    console.print(f"Password of {data['username']} reset", markup=False, highlight=False)
    _show_generated(generated)


@token_app.command("create")
def token_create(
    username: Username,
    name: Annotated[str, typer.Option("--name", help="What the token is for.")],
    expires: Annotated[
        datetime | None,
        typer.Option(
            "--expires",
            formats=["%Y-%m-%d"],
            help="Last day before the token stops working: it expires when this day begins (UTC).",
        ),
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Create an API token for a user; the token is printed once and never again."""
    try:
        with unit_of_work() as session:
            user = service.get_by_username(session, username)
            token, plaintext = tokens.create_token(
                session,
                actor=ACTOR,
                user=user,
                name=name,
                expires_on=expires.date() if expires else None,
            )
            data = _token_dict(token)
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from None
    if json_output:
        print_json({"token": data, "secret": plaintext})
        return
    console.print(
        f"Token {data['id']} ({data['name']}) for {data['username']}; copy it now, "
        "it is shown only this once:",
        markup=False,
        highlight=False,
    )
    console.print(plaintext, markup=False, highlight=False, soft_wrap=True)


@token_app.command("list")
def token_list(
    username: Annotated[str | None, typer.Argument(help="Only this user's tokens.")] = None,
    json_output: JsonFlag = False,
) -> None:
    """List API tokens, newest first (the secret itself is never shown again)."""
    try:
        with unit_of_work() as session:
            user = service.get_by_username(session, username) if username else None
            items = [_token_dict(t) for t in tokens.list_tokens(session, user=user)]
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from None
    if json_output:
        print_json({"total": len(items), "tokens": items})
        return
    table = Table(title=f"{len(items)} API tokens")
    for column in ("id", "user", "name", "prefix", "created", "last used", "expires", "revoked"):
        table.add_column(column)
    for item in items:
        table.add_row(
            str(item["id"]),
            item["username"],
            item["name"],
            item["prefix"] + "…",
            _short(item["created_at"]),
            _short(item["last_used_at"]),
            _short(item["expires_at"]),
            _short(item["revoked_at"]),
        )
    console.print(table)


def _short(stamp: str | None) -> str:
    return stamp[:16].replace("T", " ") if stamp else "—"


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id (see `token list`).")],
    json_output: JsonFlag = False,
) -> None:
    """Revoke an API token for good."""
    try:
        with unit_of_work() as session:
            token, changed = tokens.revoke_token(session, actor=ACTOR, token_id=token_id)
            data = _token_dict(token)
    except FlywheelError as exc:
        raise fail(exc, as_json=json_output) from None
    if json_output:
        print_json({"token": data, "changed": changed})
        return
    prefix = "" if changed else "unchanged: "
    console.print(f"{prefix}token {data['id']} ({data['name']}) revoked", markup=False)
