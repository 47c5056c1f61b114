"""The browser session: sign-in page, signed cookie, CSRF on forms, sign-out, password change,
language switch, and what anonymous visitors of pages are told."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from flywheel.models.base import utcnow
from flywheel.models.enums import Role
from flywheel.users import service as users
from flywheel.web.sessions import SESSION_COOKIE
from tests.web.pages import ADMIN, PASSWORD, audit_count, csrf_of, make_person, sign_in


def test_a_page_without_sign_in_redirects_to_the_sign_in_page_keeping_the_target(
    client: TestClient,
) -> None:
    answer = client.get("/account?tab=1", follow_redirects=False)

    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in?next=%2Faccount%3Ftab%3D1"


def test_an_htmx_request_without_sign_in_is_told_to_go_to_the_sign_in_page(
    client: TestClient,
) -> None:
    answer = client.get("/account", headers={"HX-Request": "true"}, follow_redirects=False)

    assert answer.status_code == 200
    assert answer.headers["HX-Redirect"].startswith("/sign-in?next=")


def test_signing_in_sets_a_signed_http_only_same_site_cookie_and_goes_to_next(
    client: TestClient, session: Session
) -> None:
    make_person(session)
    form = client.get("/sign-in?next=/account")

    answer = client.post(
        "/sign-in",
        data={
            "username": "li.wei",
            "password": PASSWORD,
            "next": "/account",
            "csrf_token": csrf_of(form.text),
        },
        follow_redirects=False,
    )

    assert answer.status_code == 303
    assert answer.headers["location"] == "/account"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    page = client.get("/account")
    assert page.status_code == 200
    assert "li.wei" in page.text


def test_next_pointing_to_another_site_is_ignored(client: TestClient, session: Session) -> None:
    make_person(session)
    form = client.get("/sign-in")

    answer = client.post(
        "/sign-in",
        data={
            "username": "li.wei",
            "password": PASSWORD,
            "next": "//evil.example/",
            "csrf_token": csrf_of(form.text),
        },
        follow_redirects=False,
    )

    assert answer.headers["location"] == "/customers"


def test_a_wrong_password_shows_one_message_and_counts_towards_the_lock(
    client: TestClient, session: Session
) -> None:
    user = make_person(session)
    form = client.get("/sign-in")

    answer = client.post(
        "/sign-in",
        data={"username": "li.wei", "password": "wrong", "csrf_token": csrf_of(form.text)},
        headers={"Accept-Language": "en"},
    )

    assert answer.status_code == 401
    assert "Wrong username or password" in answer.text
    assert user.failed_logins == 1
    assert client.get("/account", follow_redirects=False).status_code == 303


def test_five_failures_lock_the_account_even_for_the_right_password(
    client: TestClient, session: Session
) -> None:
    make_person(session)
    token = csrf_of(client.get("/sign-in").text)
    for _ in range(5):
        client.post(
            "/sign-in", data={"username": "li.wei", "password": "nope", "csrf_token": token}
        )

    answer = client.post(
        "/sign-in", data={"username": "li.wei", "password": PASSWORD, "csrf_token": token}
    )

    assert answer.status_code == 401
    assert client.cookies.get(SESSION_COOKIE) is not None  # the anonymous session only
    assert client.get("/account", follow_redirects=False).status_code == 303


def test_sign_in_without_the_csrf_token_is_refused(client: TestClient, session: Session) -> None:
    make_person(session)
    client.get("/sign-in")

    answer = client.post("/sign-in", data={"username": "li.wei", "password": PASSWORD})

    assert answer.status_code == 403
    assert "csrf_failed" in answer.text
    assert client.get("/account", follow_redirects=False).status_code == 303


def test_a_cookie_signed_form_post_without_csrf_changes_nothing(
    client: TestClient, session: Session
) -> None:
    user = make_person(session)
    sign_in(client, "li.wei")
    before = (user.password_hash, audit_count(session))

    answer = client.post(
        "/account/password",
        data={"current": PASSWORD, "new": "another long secret", "confirm": "another long secret"},
    )

    assert answer.status_code == 403
    assert (user.password_hash, audit_count(session)) == before


def test_a_forged_cookie_is_not_a_session(client: TestClient, session: Session) -> None:
    make_person(session)
    client.cookies.set(SESSION_COOKIE, "eyJ1aWQiOiAxfQ==.forged.signature")

    assert client.get("/account", follow_redirects=False).status_code == 303


def test_sign_out_ends_the_session(client: TestClient, session: Session) -> None:
    make_person(session)
    sign_in(client, "li.wei")
    page = client.get("/account")

    answer = client.post(
        "/sign-out", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False
    )

    assert answer.headers["location"] == "/sign-in"
    assert client.get("/account", follow_redirects=False).status_code == 303


def test_changing_the_password_keeps_this_session_and_ends_the_others(
    app: object, client: TestClient, session: Session
) -> None:
    user = make_person(session)
    sign_in(client, "li.wei")
    with TestClient(app) as other:  # type: ignore[arg-type]
        sign_in(other, "li.wei")
        page = client.get("/account")

        answer = client.post(
            "/account/password",
            data={
                "current": PASSWORD,
                "new": "a new long secret",
                "confirm": "a new long secret",
                "csrf_token": csrf_of(page.text),
            },
            follow_redirects=False,
        )

        assert answer.status_code == 303
        assert "Your password was changed" in client.get("/account").text
        assert other.get("/account", follow_redirects=False).status_code == 303
    assert users.authenticate_password(session, "li.wei", "a new long secret", now=utcnow())
    assert user.username == "li.wei"


def test_a_wrong_current_password_is_said_and_changes_nothing(
    client: TestClient, session: Session
) -> None:
    user = make_person(session)
    sign_in(client, "li.wei")
    before = user.password_hash
    page = client.get("/account")

    answer = client.post(
        "/account/password",
        data={
            "current": "not it",
            "new": "a new long secret",
            "confirm": "a new long secret",
            "csrf_token": csrf_of(page.text),
        },
    )

    assert answer.status_code == 422
    assert "The current password is not correct." in answer.text
    assert user.password_hash == before


def test_a_too_short_new_password_names_the_rule(client: TestClient, session: Session) -> None:
    make_person(session)
    sign_in(client, "li.wei")
    page = client.get("/account")

    answer = client.post(
        "/account/password",
        data={
            "current": PASSWORD,
            "new": "short",
            "confirm": "short",
            "csrf_token": csrf_of(page.text),
        },
    )

    assert answer.status_code == 422
    assert "at least 10 characters" in answer.text


def test_switching_to_chinese_is_the_users_setting_and_audited(
    client: TestClient, session: Session
) -> None:
    user = make_person(session, language="en")
    sign_in(client, "li.wei")
    page = client.get("/account")
    assert 'lang="en"' in page.text
    events = audit_count(session)

    answer = client.post(
        "/language",
        data={"language": "zh", "next": "/account", "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )

    assert answer.headers["location"] == "/account"
    assert user.language == "zh"
    assert audit_count(session) == events + 1
    chinese = client.get("/account")
    assert 'lang="zh-CN"' in chinese.text
    assert "修改密码" in chinese.text


def test_before_sign_in_the_browser_language_is_used_and_the_switch_is_remembered(
    client: TestClient,
) -> None:
    english = client.get("/sign-in", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert 'lang="en"' in english.text
    assert "Username" in english.text

    client.post(
        "/language",
        data={"language": "zh", "next": "/sign-in", "csrf_token": csrf_of(english.text)},
    )

    chinese = client.get("/sign-in", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert 'lang="zh-CN"' in chinese.text
    assert "用户名" in chinese.text


def test_a_bearer_token_reaches_pages_too(client: TestClient, session: Session) -> None:
    from flywheel.auth.tokens import create_token

    user = make_person(session, role=Role.MANAGER)
    _row, token = create_token(session, actor=ADMIN, user=user, name="pages", now=utcnow())

    answer = client.get("/account", headers={"Authorization": f"Bearer {token}"})

    assert answer.status_code == 200


def test_an_unknown_page_is_a_page_not_json(client: TestClient) -> None:
    answer = client.get("/no-such-page", headers={"Accept-Language": "en"})

    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "Not found" in answer.text
