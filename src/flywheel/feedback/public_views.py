"""The public survey page ``/s/{token}``: no sign-in, nothing but the survey.

The unguessable token in the link is the only key; it opens one invitation and nothing else.
These routes read no session and take no session cookie's authority, so they need no CSRF
token either (a forged request would have to know the token), as on the public statement page.
Every answer says not to cache it, not to index it and not to pass the URL on as a referrer,
so the token stays in the respondent's hands. A malformed token is refused before any database
work, with the same neutral "link not valid" page as an unknown one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from flywheel.config import Settings
from flywheel.errors import FlywheelError, NotFound, ValidationFailed, http_status_for
from flywheel.feedback import responses, surveys, tokens
from flywheel.feedback.responses import AnswerLocked, LinkState, SurveyExpired, SurveyOptedOut
from flywheel.kit import i18n
from flywheel.kit.i18n import N_
from flywheel.models.base import utcnow
from flywheel.models.enums import SurveyKind
from flywheel.models.feedback import SurveyInvitation
from flywheel.web.deps import SessionDep
from flywheel.web.pages import templates

router = APIRouter()

LangQuery = Annotated[str, Query(max_length=8)]
FlagQuery = Annotated[str, Query(max_length=8)]

HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # The page is self-contained: its CSS is inline, there is no script, forms post to us.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}

# What the two ends of each scale mean.
END_LABELS: dict[str, tuple[str, str]] = {
    SurveyKind.NPS: (N_("Not at all likely"), N_("Extremely likely")),
    SurveyKind.CSAT: (N_("Very dissatisfied"), N_("Very satisfied")),
    SurveyKind.CES: (N_("Strongly disagree"), N_("Strongly agree")),
}
ANSWER_PREFIX = "answer_"
# ASCII digits only, and few: int() takes "²" for a digit no more than a 5,000-digit number.
_SCORE = re.compile(r"-?[0-9]{1,3}")


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _language(request: Request, chosen: str, invitation: SurveyInvitation | None) -> str:
    """The language picked with the switch; else the invitation's; else the browser's."""
    return (
        i18n.normalize(chosen)
        or (i18n.normalize(invitation.language) if invitation is not None else None)
        or i18n.best_match(request.headers.get("accept-language"))
        or i18n.DEFAULT_LANGUAGE
    )


def _here(token: str, language: str, **params: str) -> str:
    return f"/s/{token}?" + urlencode({"lang": language, **params})


def _render(
    request: Request,
    template: str,
    language: str,
    values: Mapping[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    token = values.get("token")
    with i18n.use_language(language) as lang:
        switch = {
            code: (_here(str(token), code) if token else f"?lang={code}")
            for code in i18n.LANGUAGE_NAMES
        }
        context: dict[str, Any] = {
            "lang": lang,
            "html_lang": "zh-CN" if lang == "zh" else "en",
            "company": _settings(request).company_name,
            "switch": switch,
            "token": None,
            **values,
        }
        body = templates.get_template(template).render(context)
    return HTMLResponse(body, status_code=status_code, headers=HEADERS)


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=HEADERS)


def _not_valid(request: Request, chosen: str) -> HTMLResponse:
    return _render(
        request,
        "feedback/public_invalid.html",
        _language(request, chosen, None),
        {},
        status_code=404,
    )


def _open(session: Session, token: str) -> SurveyInvitation | None:
    """The invitation of a well-formed, known token; None for anything else."""
    if not (token.isascii() and tokens.looks_like_token(token)):
        return None
    try:
        return responses.find_invitation(session, token)
    except NotFound:
        return None


# ---------------------------------------------------------------- what each state shows


def _scale_context(state: LinkState, language: str) -> dict[str, Any]:
    survey = state.survey
    scale = surveys.scale(survey.kind)
    low, high = END_LABELS[survey.kind]
    return {
        "kind": survey.kind,
        "text": surveys.text_of(survey, language),
        "points": list(range(scale.low, scale.high + 1)),
        "low": scale.low,
        "high": scale.high,
        "low_label": low,
        "high_label": high,
        "questions": [
            {
                "key": q["key"],
                "kind": q["kind"],
                "text": q["text_zh"] if language == "zh" else q["text_en"],
                "required": bool(q.get("required")),
                "choices": [
                    {"value": c["value"], "text": c["zh"] if language == "zh" else c["en"]}
                    for c in q.get("choices") or []
                ],
            }
            for q in survey.questions or []
        ],
    }


def _form(
    request: Request,
    token: str,
    state: LinkState,
    language: str,
    *,
    values: Mapping[str, str] | None = None,
    error: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    if values is None and state.response is not None:
        values = {
            "score": str(state.response.score),
            "comment": state.response.comment or "",
            **{ANSWER_PREFIX + k: str(v) for k, v in (state.response.answers or {}).items()},
        }
    return _render(
        request,
        "feedback/public_survey.html",
        language,
        {
            "token": token,
            "editing": state.response is not None,
            "values": dict(values or {}),
            "error": error,
            "comment_max": responses.COMMENT_MAX,
            "answer_prefix": ANSWER_PREFIX,
            **_scale_context(state, language),
        },
        status_code=status_code,
    )


def _thanks(
    request: Request,
    token: str,
    state: LinkState,
    language: str,
    now: datetime,
    *,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    response = state.response
    assert response is not None
    hours_left = 0
    if state.can_edit(now) and state.editable_until is not None:
        hours_left = max(1, math.ceil((state.editable_until - now).total_seconds() / 3600))
    return _render(
        request,
        "feedback/public_thanks.html",
        language,
        {
            "token": token,
            "score": response.score,
            "high": response.scale_max,
            "comment": response.comment,
            "bad": surveys.is_bad(response.band),
            "hours_left": hours_left,
            "edit_url": _here(token, language, edit="1"),
            "notice": notice,
        },
        status_code=status_code,
    )


def _expired(request: Request, token: str, language: str, *, status_code: int = 410) -> Response:
    return _render(
        request,
        "feedback/public_expired.html",
        language,
        {"token": token},
        status_code=status_code,
    )


def _opted_out(request: Request, token: str, language: str, *, status_code: int = 200) -> Response:
    return _render(
        request,
        "feedback/public_opted_out.html",
        language,
        {"token": token},
        status_code=status_code,
    )


def _show(
    request: Request,
    token: str,
    state: LinkState,
    language: str,
    now: datetime,
    *,
    edit: bool = False,
) -> Response:
    if state.opted_out:
        return _opted_out(request, token, language)
    if state.response is not None:
        if edit and state.can_edit(now):
            return _form(request, token, state, language)
        return _thanks(request, token, state, language, now)
    if state.expired:
        return _expired(request, token, language)
    if state.invitation.status not in responses.PENDING:
        return _not_valid(request, language)
    return _form(request, token, state, language)


# ---------------------------------------------------------------- routes


@router.get("/s/{token}", response_class=HTMLResponse, include_in_schema=False)
def survey_page(
    request: Request,
    session: SessionDep,
    token: str,
    lang: LangQuery = "",
    edit: FlagQuery = "",
    done: FlagQuery = "",
) -> Response:
    """The survey behind the link; once answered, the thank-you (and, within the edit window,
    the answer again to change with ``?edit=1``)."""
    invitation = _open(session, token)
    if invitation is None:
        return _not_valid(request, lang)
    now = utcnow()
    state = responses.link_state(session, invitation, now=now, settings=_settings(request))
    language = _language(request, lang, invitation)
    if done == "edited" and state.response is not None and not state.opted_out:
        with i18n.use_language(language):
            notice = i18n.gettext("Your changed answer has been saved.")
        return _thanks(request, token, state, language, now, notice=notice)
    return _show(request, token, state, language, now, edit=bool(edit))


async def _answer_form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


AnswerForm = Annotated[dict[str, str], Depends(_answer_form)]


def _score(raw: str, state: LinkState) -> int:
    scale = surveys.scale(state.survey.kind)
    text = raw.strip()
    if not _SCORE.fullmatch(text):
        raise ValidationFailed(f"choose a score from {scale.low} to {scale.high}", field="score")
    return int(text)


def _error_for(
    exc: ValidationFailed, state: LinkState, values: Mapping[str, str]
) -> dict[str, str]:
    """The respondent's error in the page's language, at the field it concerns."""
    field = str(exc.details.get("field") or "")
    scale = surveys.scale(state.survey.kind)
    if field == "score":
        message = i18n.gettext(
            "Please choose a score from %(low)s to %(high)s.", low=scale.low, high=scale.high
        )
        return {"field": field, "message": message}
    if field == "comment":
        message = i18n.gettext(
            "Your comment is too long: at most %(limit)s characters, please.",
            limit=responses.COMMENT_MAX,
        )
        return {"field": field, "message": message}
    for question in state.survey.questions or []:
        if question["key"] == field:
            language = i18n.current_language()
            text = question["text_zh"] if language == "zh" else question["text_en"]
            if values.get(ANSWER_PREFIX + field, "").strip():
                message = i18n.gettext(
                    "Please choose one of the options: %(question)s", question=text
                )
            else:
                message = i18n.gettext("Please answer this question: %(question)s", question=text)
            return {"field": field, "message": message}
    return {"field": field, "message": i18n.gettext("Please check your answer.")}


@router.post("/s/{token}", include_in_schema=False)
def survey_answer(request: Request, session: SessionDep, token: str, form: AnswerForm) -> Response:
    """Record the answer (or its change within the edit window); then the thank-you."""
    chosen = form.get("lang", "")
    invitation = _open(session, token)
    if invitation is None:
        return _not_valid(request, chosen)
    settings = _settings(request)
    language = _language(request, chosen, invitation)
    now = utcnow()
    state = responses.link_state(session, invitation, now=now, settings=settings)
    answers = {
        key.removeprefix(ANSWER_PREFIX): value
        for key, value in form.items()
        if key.startswith(ANSWER_PREFIX)
    }
    try:
        # All or nothing: a refusal, or a failure in what the answer sets going, undoes it all.
        with session.begin_nested():
            responses.record(
                session,
                invitation,
                score=_score(form.get("score", ""), state),
                answers=answers,
                comment=form.get("comment", ""),
                now=now,
                settings=settings,
                language=language,
            )
    except FlywheelError as exc:
        return _refused(request, session, token, invitation, language, now, form, exc)
    done = "edited" if state.response is not None else "new"
    return _redirect(_here(token, language, done=done))


def _refused(
    request: Request,
    session: Session,
    token: str,
    invitation: SurveyInvitation,
    language: str,
    now: datetime,
    form: Mapping[str, str],
    exc: FlywheelError,
) -> Response:
    """The page again, saying why the answer was not taken; nothing was written."""
    state = responses.link_state(session, invitation, now=now, settings=_settings(request))
    status = http_status_for(exc)
    if isinstance(exc, SurveyOptedOut):
        return _opted_out(request, token, language, status_code=status)
    if isinstance(exc, SurveyExpired):
        return _expired(request, token, language)
    if isinstance(exc, AnswerLocked) and state.response is not None:
        with i18n.use_language(language):
            notice = i18n.gettext(
                "Your answer can no longer be changed: the time to change it has passed."
            )
        return _thanks(request, token, state, language, now, notice=notice, status_code=status)
    if isinstance(exc, ValidationFailed):
        with i18n.use_language(language):
            error = _error_for(exc, state, form)
        return _form(request, token, state, language, values=form, error=error, status_code=status)
    if isinstance(exc, NotFound):
        return _not_valid(request, language)
    raise exc


@router.post("/s/{token}/opt-out", include_in_schema=False)
def survey_opt_out(request: Request, session: SessionDep, token: str, form: AnswerForm) -> Response:
    """The contact asks never to be surveyed again; then the page says so."""
    chosen = form.get("lang", "")
    invitation = _open(session, token)
    if invitation is None:
        return _not_valid(request, chosen)
    language = _language(request, chosen, invitation)
    responses.opt_out(session, invitation, utcnow())
    return _redirect(_here(token, language))
