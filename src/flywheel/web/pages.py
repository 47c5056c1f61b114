"""Server-rendered pages: the Jinja2 environment, ``render()``, the navigation and flash notes.

Every page view ends with ``render(request, "folder/page.html", {...}, actor=actor)``. The page
is rendered in the actor's language (his user setting); before sign-in, in the language chosen
with the switcher or named by the browser. Templates get ``_()`` for text, the formatting
filters of ``kit.i18n`` for numbers, and ``can(Permission.X)`` to show only allowed actions.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.nodes import EvalContext
from jinja2.utils import pass_eval_context
from markupsafe import Markup

from flywheel import __version__
from flywheel.auth import permissions
from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.config import RELOAD_TEMPLATES
from flywheel.kit import i18n
from flywheel.kit.i18n import N_
from flywheel.models.enums import Role
from flywheel.web import sessions
from flywheel.web.assets import STATIC_DIR, vendor_url

TEMPLATE_DIR = STATIC_DIR.parent / "templates"


@dataclass(frozen=True, slots=True)
class NavItem:
    key: str
    label: str  # English; marked with N_() and translated when rendered
    path: str
    permission: Permission | None = None  # None: every signed-in role


# What the navigation shows, in order: only pages that exist. A capability adds its entry here
# when it adds its pages.
NAV: list[NavItem] = [
    NavItem("insights", N_("Flywheel"), "/insights"),
    NavItem("customers", N_("Customers"), "/customers"),
    NavItem("invoices", N_("Invoices"), "/invoices"),
    NavItem("ar", N_("AR dashboard"), "/ar", Permission.VIEW_AR_ANALYTICS),
    NavItem("collections", N_("Collections"), "/collections", Permission.WORK_COLLECTIONS),
    NavItem("feedback", N_("Feedback"), "/feedback"),
    NavItem("loyalty", N_("Loyalty"), "/loyalty"),
    NavItem("accounts", N_("Key accounts"), "/accounts"),
    NavItem("deals", N_("Deals"), "/deals"),
    NavItem("forecast", N_("Cash forecast"), "/credit/forecast", Permission.VIEW_CASH_FORECAST),
    NavItem("credit", N_("Credit limits"), "/credit/reviews", Permission.APPROVE_CREDIT_LIMITS),
    NavItem("payments", N_("Record payment"), "/payments/new", Permission.RECORD_PAYMENTS),
    NavItem("imports", N_("Import"), "/imports", Permission.IMPORT_DATA),
    NavItem("users", N_("Users"), "/users", Permission.MANAGE_USERS),
]


ROLE_LABELS: dict[str, str] = {
    Role.ADMIN: N_("Administrator"),
    Role.MANAGER: N_("Manager"),
    Role.SALES: N_("Sales"),
    Role.COLLECTOR: N_("Collector"),
    Role.FINANCE: N_("Finance"),
    Role.VIEWER: N_("Viewer"),
}


@lru_cache(maxsize=8192)
def _translated_markup(language: str, message: str) -> Markup:
    """``message`` in ``language`` as template-safe text, its placeholders not yet filled."""
    return Markup(i18n.translations(language).gettext(message))


@lru_cache(maxsize=8192)
def _translated_plain(language: str, message: str) -> Markup:
    # New-style gettext formats even without values ("%%" becomes "%").
    return _translated_markup(language, message) % {}


@pass_eval_context
def _template_gettext(eval_context: EvalContext, message: str, **values: Any) -> str:
    """Jinja's new-style ``_()``: the translation is trusted markup, the values are escaped;
    in a template without autoescaping, plain text. (It takes the evaluation context, not the
    template context, which Jinja would copy for every call inside a loop.)"""
    language = i18n.current_language()
    if not eval_context.autoescape:
        return i18n.translations(language).gettext(message) % values
    if values:
        return _translated_markup(language, message) % values
    return _translated_plain(language, message)


@pass_eval_context
def _template_ngettext(
    eval_context: EvalContext, singular: str, plural: str, count: int, **values: Any
) -> str:
    """Jinja's new-style ``ngettext()``, ``%(num)s`` being the count (see ``_template_gettext``)."""
    values.setdefault("num", count)
    text = i18n.translations(i18n.current_language()).ngettext(singular, plural, count)
    return (Markup(text) if eval_context.autoescape else text) % values


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # Checking every template file's time on each render costs a stat() per include; only
        # `flywheel serve --reload` (development) asks for it.
        auto_reload=os.environ.get(RELOAD_TEMPLATES) == "1",
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    # The same ``_()`` as the extension's new-style gettext, without its indirections and with
    # each message's escaped translation kept: a list page calls it hundreds of times.
    env.globals.update(_=_template_gettext, gettext=_template_gettext, ngettext=_template_ngettext)
    env.filters.update(
        money=lambda value, currency="CNY": i18n.money(value, currency),
        number=lambda value, decimals=None: i18n.number(value, decimals=decimals),
        percent=lambda value, decimals=0: i18n.percent(value, decimals=decimals),
        day=lambda value, style="medium": i18n.day(value, style=style),
        moment=lambda value, style="medium": i18n.moment(value, style=style),
    )
    env.globals.update(
        vendor_url=vendor_url,
        version=__version__,
        Permission=Permission,
        languages=i18n.LANGUAGE_NAMES,
        role_labels=ROLE_LABELS,
    )
    return env


templates = _environment()


def page_language(request: Request, actor: Actor | None) -> str:
    """The actor's own setting; else the session's choice; else the browser's; else ours."""
    if actor is not None and actor.user_id is not None:
        return i18n.normalize(actor.language) or i18n.DEFAULT_LANGUAGE
    chosen = request.session.get("lang") if sessions.has_session(request) else None
    return (
        i18n.normalize(chosen)
        or i18n.best_match(request.headers.get("accept-language"))
        or i18n.DEFAULT_LANGUAGE
    )


def flash(request: Request, message: str, *, level: str = "success") -> None:
    """A note shown once on the next page (after a redirect); ``message`` already translated."""
    if sessions.has_session(request):
        notes = list(request.session.get("flash", []))
        notes.append({"level": level, "message": message})
        request.session["flash"] = notes


def _take_flashes(request: Request) -> list[dict[str, str]]:
    if not sessions.has_session(request):
        return []
    notes: list[dict[str, str]] = request.session.pop("flash", [])
    return notes


def nav_for(actor: Actor | None) -> list[NavItem]:
    if actor is None:
        return []
    return [i for i in NAV if i.permission is None or permissions.allows(actor, i.permission)]


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    actor: Actor | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render ``template`` in the page language, with the shell's context."""
    with i18n.use_language(page_language(request, actor)) as language:
        values: dict[str, Any] = {
            "request": request,
            "actor": actor,
            "nav": nav_for(actor),
            "active_nav": _active_nav(request.url.path),
            "lang": language,
            "html_lang": "zh-CN" if language == "zh" else "en",
            "csrf_token": sessions.csrf_token(request) if sessions.has_session(request) else "",
            "flashes": _take_flashes(request),
            "can": (lambda p: actor is not None and permissions.allows(actor, p)),
            "query": _query_builder(request),
            "htmx": request.headers.get("HX-Request") == "true",
        }
        values.update(context or {})
        body = templates.get_template(template).render(values)
    return HTMLResponse(body, status_code=status_code, headers=dict(headers or {}))


def _active_nav(path: str) -> str | None:
    best: NavItem | None = None
    for item in NAV:
        if (path == item.path or path.startswith(item.path.rstrip("/") + "/")) and (
            best is None or len(item.path) > len(best.path)
        ):
            best = item
    return best.key if best else None


def _query_builder(request: Request) -> Any:
    """``query(page=3)``: the current URL's query string with some parameters replaced (None
    removes one); for pagination, sorting and export links that keep the filters."""

    def build(**changes: Any) -> str:
        params = dict(request.query_params)
        for key, value in changes.items():
            if value is None or value == "":
                params.pop(key, None)
            else:
                params[key] = str(value)
        return "?" + urlencode(params) if params else "?"

    return build


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go back to after sign-in; anything else (another host) becomes
    ``default``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def redirect(url: str) -> RedirectResponse:
    """After a successful form post: 303, so the browser follows with a GET."""
    return RedirectResponse(url, status_code=303)


def sign_in_url(request: Request) -> str:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/sign-in?" + urlencode({"next": here})
