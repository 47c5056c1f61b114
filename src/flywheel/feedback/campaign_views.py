"""The survey and campaign pages: the lists, the survey editor with a live preview of the
public page in Chinese and English, and the campaign editor with its recent invitations. Every
role reads (invitations only of the accounts in his scope); changes need MANAGE_SURVEYS."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.auth import permissions
from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.customers.labels import BUYING_ROLE_LABELS, TIER_LABELS, TOUCHPOINT_KIND_LABELS
from flywheel.errors import FlywheelError, ValidationFailed, http_status_for
from flywheel.feedback import campaigns, labels, public_views, surveys
from flywheel.kit.i18n import N_, current_language, use_language
from flywheel.kit.i18n import gettext as _
from flywheel.models.enums import BuyingRole, CampaignTrigger, SurveyKind, Tier, TouchpointKind
from flywheel.models.feedback import Survey, SurveyCampaign
from flywheel.web.auth import CurrentActor, require
from flywheel.web.contract import Id
from flywheel.web.deps import SessionDep
from flywheel.web.exports import ExportFormat, download, word
from flywheel.web.pages import flash, redirect, render

router = APIRouter(include_in_schema=False)

ManageSurveys = Annotated[Actor, Depends(require(Permission.MANAGE_SURVEYS))]
Errors = dict[str, str]
MAX_QUESTIONS = 20
RECENT_INVITATIONS = 50


async def _plain_form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: str(v) for k, v in form.items() if isinstance(v, str)}


async def _multi_form(request: Request) -> dict[str, list[str]]:
    form = await request.form()
    out: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            out.setdefault(key, []).append(value)
    return out


PlainForm = Annotated[dict[str, str], Depends(_plain_form)]
MultiForm = Annotated[dict[str, list[str]], Depends(_multi_form)]


# An invitation's event_ref ("order:12", "schedule:2026-10-01") as the campaign page says it.
EVENT_REF_LABELS: dict[str, str] = {
    "order": N_("Order #%(key)s"),
    "invoice": N_("Invoice #%(key)s"),
    "touchpoint": N_("Touchpoint #%(key)s"),
    "dispute": N_("Dispute #%(key)s"),
    "credit_note": N_("Credit note #%(key)s"),
    "milestone": N_("Milestone #%(key)s"),
    "schedule": N_("Scheduled run of %(key)s"),
}


def event_text(ref: str | None) -> str:
    """The event in words; a ref of an unknown kind is shown as it is."""
    if not ref:
        return ""
    kind, sep, key = ref.partition(":")
    label = EVENT_REF_LABELS.get(kind)
    return _(label, key=key) if label and sep else ref


def _labels() -> dict[str, Any]:
    return {
        "event_text": event_text,
        "kind_labels": labels.KIND_LABELS,
        "trigger_labels": labels.TRIGGER_LABELS,
        "status_labels": labels.INVITATION_STATUS_LABELS,
        "skip_labels": labels.SKIP_REASON_LABELS,
        "tier_labels": {str(k): v for k, v in TIER_LABELS.items()},
        "role_labels_fb": {str(k): v for k, v in BUYING_ROLE_LABELS.items()},
        "touchpoint_labels": {str(k): v for k, v in TOUCHPOINT_KIND_LABELS.items()},
    }


def _page(
    request: Request,
    actor: Actor,
    template: str,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        template,
        {
            **_labels(),
            "editable": permissions.allows(actor, Permission.MANAGE_SURVEYS),
            **context,
        },
        actor=actor,
        status_code=status_code,
    )


def _refused(exc: FlywheelError) -> Errors:
    """A service's refusal at the field it names, and at the top of the form."""
    if http_status_for(exc) in (403, 404):
        raise exc
    field = str(exc.details.get("field") or "")
    errors = {"form": exc.message}
    if field:
        errors[field] = exc.message
    return errors


# ---------------------------------------------------------------- surveys: reading the form


def _choices_of(text: str, number: int) -> list[dict[str, str]]:
    choices = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 3:
            raise ValidationFailed(
                f"question {number}: write each choice on a line as value | 中文 | English",
                field="questions",
            )
        choices.append({"value": parts[0], "zh": parts[1], "en": parts[2]})
    return choices


def question_rows(form: Mapping[str, str]) -> list[dict[str, str]]:
    """The follow-up rows as typed (``q-<n>-<field>``); empty and removed rows are dropped."""
    rows: dict[int, dict[str, str]] = {}
    for key, value in form.items():
        parts = key.split("-")
        if len(parts) != 3 or parts[0] != "q" or not parts[1].isdigit():
            continue
        number = int(parts[1])
        if number < MAX_QUESTIONS:
            rows.setdefault(number, {})[parts[2]] = value.strip()
    kept = []
    for number in sorted(rows):
        row = rows[number]
        if row.get("remove") or not any(
            row.get(f) for f in ("key", "text_zh", "text_en", "choices")
        ):
            continue
        kept.append({f: row.get(f, "") for f in QUESTION_FIELDS})
    return kept


QUESTION_FIELDS = ("key", "kind", "text_zh", "text_en", "required", "choices")
SURVEY_TEXT_FIELDS = (
    "code",
    "kind",
    "name_zh",
    "name_en",
    "question_zh",
    "question_en",
    "comment_zh",
    "comment_en",
)


def survey_data(form: Mapping[str, str]) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The survey's values from the form, and its question rows as typed (to show again)."""
    rows = question_rows(form)
    questions = [
        {
            "key": row["key"],
            "kind": row["kind"] or "text",
            "text_zh": row["text_zh"],
            "text_en": row["text_en"],
            "required": row["required"] in ("1", "on", "true"),
            "choices": _choices_of(row["choices"], n) if row["kind"] == "choice" else [],
        }
        for n, row in enumerate(rows, start=1)
    ]
    data: dict[str, Any] = {f: form.get(f, "").strip() for f in SURVEY_TEXT_FIELDS}
    data["questions"] = questions
    data["active"] = form.get("active") in ("1", "on", "true")
    return data, rows


def _rows_of(survey: Survey) -> list[dict[str, str]]:
    return [
        {
            "key": q["key"],
            "kind": q["kind"],
            "text_zh": q["text_zh"],
            "text_en": q["text_en"],
            "required": "1" if q.get("required") else "",
            "choices": "\n".join(
                f"{c['value']} | {c['zh']} | {c['en']}" for c in q.get("choices") or []
            ),
        }
        for q in survey.questions or []
    ]


# ---------------------------------------------------------------- surveys: the preview

# The names of the two languages, as the preview's cards are headed.
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}


def page_words(language: str, kind: str) -> dict[str, str]:
    """The public page's fixed words in ``language`` whatever the reader's: the same catalog
    entries as public_survey.html, so the preview shows what a respondent will see."""
    scale = surveys.SCALES.get(kind, surveys.SCALES[SurveyKind.NPS])
    low_label, high_label = public_views.END_LABELS.get(
        kind, public_views.END_LABELS[SurveyKind.NPS]
    )
    with use_language(language):
        return {
            "language": LANGUAGE_NAMES[language],
            "title": _("Your feedback"),
            "lead": _("A short survey: it takes less than a minute. Thank you for your time."),
            "low": f"{scale.low} · {_(low_label)}",
            "high": f"{scale.high} · {_(high_label)}",
            "optional": _("(optional)"),
            "comment": _("Anything else you would like to tell us?"),
            "send": _("Send my answer"),
            "opt_out_question": _("Rather not receive our surveys?"),
            "opt_out": _("Stop sending me surveys"),
        }


def preview_of(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The public page's content in zh and en, from a draft (checked or not)."""
    kind = str(data.get("kind") or SurveyKind.NPS)
    scale = surveys.SCALES.get(kind, surveys.SCALES[SurveyKind.NPS])
    pages = []
    for language in ("zh", "en"):
        words = page_words(language, kind)
        questions = []
        for q in data.get("questions") or []:
            questions.append(
                {
                    "key": q.get("key"),
                    "kind": q.get("kind"),
                    "text": q.get(f"text_{language}") or "",
                    "required": bool(q.get("required")),
                    "choices": [c.get(language) or c.get("value") for c in q.get("choices") or []],
                }
            )
        pages.append(
            {
                "language": language,
                "words": words,
                "name": data.get(f"name_{language}") or "",
                "question": data.get(f"question_{language}") or "",
                "comment": data.get(f"comment_{language}") or "",
                "scores": list(range(scale.low, scale.high + 1)),
                "low": words["low"],
                "high": words["high"],
                "questions": questions,
            }
        )
    return pages


def _survey_editor(
    request: Request,
    actor: Actor,
    *,
    survey: Survey | None,
    data: Mapping[str, Any],
    rows: list[dict[str, str]],
    errors: Errors,
    status_code: int = 200,
) -> Response:
    blank = dict.fromkeys(QUESTION_FIELDS, "")
    blank["kind"] = "text"
    return _page(
        request,
        actor,
        "feedback/survey_edit.html",
        {
            "survey": survey,
            "data": data,
            "rows": [*rows, blank],
            "errors": errors,
            "kinds": list(SurveyKind),
            "preview": preview_of(data),
            "preview_error": None,
        },
        status_code=status_code,
    )


# ---------------------------------------------------------------- surveys: the routes


@router.get("/feedback/surveys", response_class=HTMLResponse)
def survey_list(request: Request, session: SessionDep, actor: CurrentActor) -> Response:
    """Every survey, with how many campaigns use it."""
    used = dict(
        session.execute(
            select(SurveyCampaign.survey_id, func.count()).group_by(SurveyCampaign.survey_id)
        ).all()
    )
    return _page(
        request,
        actor,
        "feedback/survey_list.html",
        {"surveys": campaigns.list_surveys(session), "used": used},
    )


@router.get("/feedback/surveys/new", response_class=HTMLResponse)
def survey_new(request: Request, actor: ManageSurveys) -> Response:
    data: dict[str, Any] = dict.fromkeys(SURVEY_TEXT_FIELDS, "")
    data.update(kind=SurveyKind.NPS.value, active=True, questions=[])
    return _survey_editor(request, actor, survey=None, data=data, rows=[], errors={})


@router.post("/feedback/surveys/preview", response_class=HTMLResponse)
def survey_preview(request: Request, actor: CurrentActor, form: PlainForm) -> Response:
    """The draft as the public page will show it (an HTMX fragment); nothing is saved."""
    error = None
    try:
        data, _rows = survey_data(form)
    except FlywheelError as exc:
        data, error = {f: form.get(f, "") for f in SURVEY_TEXT_FIELDS}, exc.message
    return _page(
        request,
        actor,
        "feedback/survey_preview.html",
        {"preview": preview_of(data), "preview_error": error},
    )


@router.post("/feedback/surveys", response_class=HTMLResponse)
def survey_create(
    request: Request, session: SessionDep, actor: ManageSurveys, form: PlainForm
) -> Response:
    """Save a new survey; a problem is named on the form and nothing is saved."""
    return _save_survey(request, session, actor, form, survey=None)


@router.get("/feedback/surveys/{survey_id}", response_class=HTMLResponse)
def survey_edit(
    request: Request, session: SessionDep, actor: CurrentActor, survey_id: Id
) -> Response:
    """The editor (read-only for roles that may not change surveys)."""
    survey = campaigns.get_survey(session, survey_id)
    data = {f: getattr(survey, f) or "" for f in SURVEY_TEXT_FIELDS}
    data.update(questions=survey.questions or [], active=survey.active)
    return _survey_editor(
        request, actor, survey=survey, data=data, rows=_rows_of(survey), errors={}
    )


@router.post("/feedback/surveys/{survey_id}", response_class=HTMLResponse)
def survey_save(
    request: Request, session: SessionDep, actor: ManageSurveys, survey_id: Id, form: PlainForm
) -> Response:
    survey = campaigns.get_survey(session, survey_id)
    return _save_survey(request, session, actor, form, survey=survey)


def _save_survey(
    request: Request,
    session: Session,
    actor: Actor,
    form: Mapping[str, str],
    *,
    survey: Survey | None,
) -> Response:
    data: dict[str, Any] = {f: form.get(f, "").strip() for f in SURVEY_TEXT_FIELDS}
    data.update(questions=[], active=form.get("active") in ("1", "on", "true"))
    rows = question_rows(form)
    try:
        data, rows = survey_data(form)
        with session.begin_nested():
            saved = campaigns.save_survey(
                session, actor=actor, data=data, survey_id=survey.id if survey else None
            )
    except FlywheelError as exc:
        return _survey_editor(
            request,
            actor,
            survey=survey,
            data=data,
            rows=rows,
            errors=_refused(exc),
            status_code=422,
        )
    flash(request, _("Survey %(code)s saved.", code=saved.code))
    return redirect(f"/feedback/surveys/{saved.id}")


# ---------------------------------------------------------------- campaigns


CAMPAIGN_FORM_FIELDS = (
    "name",
    "survey_id",
    "trigger",
    "touchpoint_kind",
    "delay_days",
    "every_months",
    "next_run_on",
    "sample_percent",
    "reminder_after_days",
    "expires_after_days",
)


def campaign_data(form: Mapping[str, list[str]]) -> dict[str, Any]:
    """The campaign's values from the form, as the service reads them."""

    def one(name: str) -> str:
        return (form.get(name) or [""])[-1].strip()

    percent = one("sample_percent")
    data: dict[str, Any] = {
        "name": one("name"),
        "survey_id": one("survey_id"),
        "trigger": one("trigger"),
        "touchpoint_kind": one("touchpoint_kind"),
        "delay_days": one("delay_days") or "0",
        "every_months": one("every_months"),
        "next_run_on": one("next_run_on"),
        "tiers": [t for t in form.get("tiers", []) if t],
        "buying_roles": [r for r in form.get("buying_roles", []) if r],
        "sample_rate": f"{percent.rstrip('%')}%" if percent else "100%",
        "reminder_after_days": one("reminder_after_days"),
        "expires_after_days": one("expires_after_days") or "30",
        "active": one("active") in ("1", "on", "true"),
    }
    return data


def _form_of(campaign: SurveyCampaign) -> dict[str, Any]:
    return {
        "name": campaign.name,
        "survey_id": str(campaign.survey_id),
        "trigger": campaign.trigger,
        "touchpoint_kind": campaign.touchpoint_kind or "",
        "delay_days": str(campaign.delay_days),
        "every_months": str(campaign.every_months or ""),
        "next_run_on": campaign.next_run_on.isoformat() if campaign.next_run_on else "",
        "tiers": list(campaign.tiers or []),
        "buying_roles": list(campaign.buying_roles or []),
        "sample_percent": f"{campaign.sample_rate * 100:g}",
        "reminder_after_days": str(campaign.reminder_after_days or ""),
        "expires_after_days": str(campaign.expires_after_days),
        "active": campaign.active,
    }


def _shown(data: Mapping[str, Any], form: Mapping[str, list[str]]) -> dict[str, Any]:
    """What the form showed, to show it again after a refusal."""
    shown = dict(data)
    shown["sample_percent"] = (form.get("sample_percent") or [""])[-1]
    return shown


def _campaign_editor(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    campaign: SurveyCampaign | None,
    values: Mapping[str, Any],
    errors: Errors,
    status_code: int = 200,
) -> Response:
    recent: list[campaigns.InvitationRow] = []
    counts = campaigns.CampaignCounts()
    if campaign is not None:
        recent, _total = campaigns.list_invitations(
            session, actor=actor, campaign_id=campaign.id, limit=RECENT_INVITATIONS
        )
        counts = campaigns.counts_by_campaign(session, actor=actor).get(campaign.id, counts)
    return _page(
        request,
        actor,
        "feedback/campaign_edit.html",
        {
            "campaign": campaign,
            "values": values,
            "errors": errors,
            "surveys": campaigns.list_surveys(session),
            "triggers": list(CampaignTrigger),
            "touchpoint_kinds": list(TouchpointKind),
            "tiers": list(Tier),
            "buying_roles": list(BuyingRole),
            "recent": recent,
            "counts": counts,
        },
        status_code=status_code,
    )


@router.get("/feedback/campaigns", response_class=HTMLResponse)
def campaign_list(request: Request, session: SessionDep, actor: CurrentActor) -> Response:
    """Every campaign with its invitations counted (in the reader's scope)."""
    names = {s.id: s for s in campaigns.list_surveys(session)}
    return _page(
        request,
        actor,
        "feedback/campaign_list.html",
        {
            "campaigns": campaigns.list_campaigns(session),
            "counts": campaigns.counts_by_campaign(session, actor=actor),
            "empty_counts": campaigns.CampaignCounts(),
            "survey_of": names,
        },
    )


@router.get("/feedback/campaigns/export.{format}")
def campaign_export(session: SessionDep, actor: CurrentActor, format: ExportFormat) -> Response:
    """Every campaign as the list shows it, its invitations counted in the reader's scope."""
    surveys_by_id = {s.id: s for s in campaigns.list_surveys(session)}
    counts = campaigns.counts_by_campaign(session, actor=actor)
    chinese = current_language() == "zh"
    tiers = {str(k): v for k, v in TIER_LABELS.items()}
    roles = {str(k): v for k, v in BUYING_ROLE_LABELS.items()}

    def row(c: SurveyCampaign) -> list[object]:
        n = counts.get(c.id, campaigns.CampaignCounts())
        survey = surveys_by_id.get(c.survey_id)
        return [
            c.name,
            (survey.name_zh if chinese else survey.name_en) if survey else None,
            word(labels.TRIGGER_LABELS, c.trigger),
            word({str(k): v for k, v in TOUCHPOINT_KIND_LABELS.items()}, c.touchpoint_kind),
            c.delay_days,
            c.every_months,
            c.next_run_on,
            "; ".join(word(tiers, t) or t for t in c.tiers or []) or None,
            "; ".join(word(roles, r) or r for r in c.buying_roles or []) or None,
            c.sample_rate,
            n.scheduled,
            n.sent,
            n.answered,
            None if n.response_rate is None else round(n.response_rate, 4),
            c.active,
        ]

    return download(
        (
            N_("Campaign"),
            N_("Survey"),
            N_("Trigger"),
            N_("Touchpoint"),
            N_("Delay (days)"),
            N_("Every (months)"),
            N_("Next run"),
            N_("Tiers"),
            N_("Buying roles"),
            N_("Sample"),
            N_("Scheduled"),
            N_("Sent"),
            N_("Answers"),
            N_("Response rate"),
            N_("Active"),
        ),
        (row(c) for c in campaigns.list_campaigns(session)),
        stem="campaigns",
        format=format,
        title=N_("Campaigns"),
    )


@router.get("/feedback/campaigns/new", response_class=HTMLResponse)
def campaign_new(request: Request, session: SessionDep, actor: ManageSurveys) -> Response:
    values: dict[str, Any] = {
        "name": "",
        "survey_id": "",
        "trigger": CampaignTrigger.ORDER_DELIVERED.value,
        "touchpoint_kind": "",
        "delay_days": "1",
        "every_months": "",
        "next_run_on": "",
        "tiers": [],
        "buying_roles": [],
        "sample_percent": "100",
        "reminder_after_days": "5",
        "expires_after_days": "30",
        "active": True,
    }
    return _campaign_editor(request, session, actor, campaign=None, values=values, errors={})


@router.post("/feedback/campaigns", response_class=HTMLResponse)
def campaign_create(
    request: Request, session: SessionDep, actor: ManageSurveys, form: MultiForm
) -> Response:
    """Save a new campaign; a problem is named at its field and nothing is saved."""
    data = campaign_data(form)
    try:
        with session.begin_nested():
            campaign = campaigns.create_campaign(session, actor=actor, data=data)
    except FlywheelError as exc:
        return _campaign_editor(
            request,
            session,
            actor,
            campaign=None,
            values=_shown(data, form),
            errors=_refused(exc),
            status_code=422,
        )
    flash(request, _("Campaign %(name)s saved.", name=campaign.name))
    return redirect(f"/feedback/campaigns/{campaign.id}")


@router.get("/feedback/campaigns/{campaign_id}", response_class=HTMLResponse)
def campaign_edit(
    request: Request, session: SessionDep, actor: CurrentActor, campaign_id: Id
) -> Response:
    """The campaign (editable for MANAGE_SURVEYS) and its recent invitations."""
    campaign = campaigns.get_campaign(session, campaign_id)
    return _campaign_editor(
        request, session, actor, campaign=campaign, values=_form_of(campaign), errors={}
    )


@router.post("/feedback/campaigns/{campaign_id}", response_class=HTMLResponse)
def campaign_save(
    request: Request, session: SessionDep, actor: ManageSurveys, campaign_id: Id, form: MultiForm
) -> Response:
    campaign = campaigns.get_campaign(session, campaign_id)
    data = campaign_data(form)
    try:
        with session.begin_nested():
            campaigns.update_campaign(session, actor=actor, campaign_id=campaign.id, changes=data)
    except FlywheelError as exc:
        session.refresh(campaign)
        return _campaign_editor(
            request,
            session,
            actor,
            campaign=campaign,
            values=_shown(data, form),
            errors=_refused(exc),
            status_code=422,
        )
    flash(request, _("Campaign %(name)s saved.", name=campaign.name))
    return redirect(f"/feedback/campaigns/{campaign.id}")
