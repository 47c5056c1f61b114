"""The collections pages about dunning strategies: every grade's steps, and editing them as a
table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from flywheel.auth import permissions
from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.collections import forms, strategies
from flywheel.collections.page_kit import refuse_hard, render_page
from flywheel.errors import FlywheelError, NotFound
from flywheel.kit.i18n import gettext as _
from flywheel.models.collections import CollectionStrategy
from flywheel.models.enums import CollectionChannel, Tier
from flywheel.web.auth import CurrentActor, require
from flywheel.web.deps import SessionDep
from flywheel.web.pages import flash, redirect

router = APIRouter(include_in_schema=False)

ManageStrategies = Annotated[Actor, Depends(require(Permission.MANAGE_COLLECTION_STRATEGIES))]


# ---------------------------------------------------------------- strategies


@router.get("/collections/strategies", response_class=HTMLResponse)
def strategy_list(request: Request, session: SessionDep, actor: CurrentActor) -> Response:
    """Every grade's strategy (and tier-specific ones) with its steps."""
    return render_page(
        request,
        actor,
        "collections/strategies.html",
        {
            "strategies": strategies.list_strategies(session),
            "editable": permissions.allows(actor, Permission.MANAGE_COLLECTION_STRATEGIES),
            "tier_labels": _tier_labels(),
        },
    )


def _tier_labels() -> dict[str, str]:
    from flywheel.customers.labels import TIER_LABELS

    return {str(k): v for k, v in TIER_LABELS.items()}


def _tier(text: str) -> str | None:
    return text if text in {t.value for t in Tier} else None


def _strategy_page(
    request: Request,
    actor: Actor,
    *,
    grade: str,
    tier: str | None,
    name: str,
    active: bool,
    rows: list[dict[str, str]],
    errors: forms.Errors,
    exists: bool,
    status_code: int = 200,
) -> Response:
    blank = dict.fromkeys(forms.STEP_FIELDS, "")
    return render_page(
        request,
        actor,
        "collections/strategy_edit.html",
        {
            "grade": grade,
            "tier": tier,
            "name": name,
            "active": active,
            "rows": [*rows, blank, blank],
            "errors": errors,
            "exists": exists,
            "editable": permissions.allows(actor, Permission.MANAGE_COLLECTION_STRATEGIES),
            "channels": list(CollectionChannel),
            "template_keys": strategies.TEMPLATE_KEYS,
            "targets": strategies.ESCALATION_TARGETS,
            "tier_labels": _tier_labels(),
        },
        status_code=status_code,
    )


def _grade(grade: str) -> str:
    grade = grade.strip().upper()
    if grade not in strategies.GRADES:
        raise NotFound(f"no credit grade {grade!r}", grade=grade)
    return grade


@router.get("/collections/strategies/{grade}", response_class=HTMLResponse)
def strategy_edit(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    grade: str,
    tier: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    """A strategy's steps as an editable table (read-only for roles that may not change it)."""
    grade, chosen = _grade(grade), _tier(tier)
    found = _find_strategy(strategies.list_strategies(session), grade, chosen)
    rows = [
        {
            "day_offset": str(s.day_offset),
            "channel": s.channel,
            "template": s.template or "",
            "automatic": "1" if s.automatic else "",
            "target": s.target or "",
        }
        for s in (found.steps if found else [])
    ]
    return _strategy_page(
        request,
        actor,
        grade=grade,
        tier=chosen,
        name=found.name if found else "",
        active=found.active if found else True,
        rows=rows,
        errors={},
        exists=found is not None,
    )


def _find_strategy(
    found: Sequence[CollectionStrategy], grade: str, tier: str | None
) -> CollectionStrategy | None:
    return next((s for s in found if s.grade == grade and s.tier == tier), None)


async def _plain_form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: str(v) for k, v in form.items() if isinstance(v, str)}


PlainForm = Annotated[dict[str, str], Depends(_plain_form)]


@router.post("/collections/strategies/{grade}", response_class=HTMLResponse)
def strategy_save(
    request: Request,
    session: SessionDep,
    actor: ManageStrategies,
    grade: str,
    form: PlainForm,
    tier: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    """Replace the strategy's steps with the table as typed; a bad row is named and nothing is
    saved."""
    grade, chosen = _grade(grade), _tier(tier or form.get("tier", ""))
    rows = forms.step_rows(form)
    errors: forms.Errors = {}
    steps = forms.steps_of(rows, errors)
    name = form.get("name", "").strip()
    active = form.get("active") in ("1", "on", "true")
    if not name:
        errors["name"] = _("A strategy needs a name.")
    if not errors:
        try:
            with session.begin_nested():
                strategies.save_strategy(
                    session,
                    actor=actor,
                    grade=grade,
                    tier=chosen,
                    name=name,
                    steps=steps,
                    active=active,
                )
        except FlywheelError as exc:
            refuse_hard(exc)
            field = str(exc.details.get("field") or "")
            errors = {"form": exc.message}
            if field.startswith("steps[") and field.endswith("]") and field[6:-1].isdigit():
                errors[f"steps-{field[6:-1]}"] = exc.message
        else:
            flash(request, _("Strategy of grade %(grade)s saved.", grade=grade))
            suffix = f"?tier={chosen}" if chosen else ""
            return redirect(f"/collections/strategies/{grade}{suffix}")
    return _strategy_page(
        request,
        actor,
        grade=grade,
        tier=chosen,
        name=name,
        active=active,
        rows=rows,
        errors=errors,
        exists=True,
        status_code=422,
    )
