"""Key-account JSON routes of the stakeholder map and the needs register: the map and its
coverage, setting a stakeholder, the register, adding, changing and promoting needs. Changes
need EDIT_KEY_ACCOUNTS; reads are scoped to the caller's accounts."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.customers import service as customers
from flywheel.keyaccounts import needs, stakeholders
from flywheel.keyaccounts.map_schemas import (
    CoverageOut,
    NeedList,
    NeedNew,
    NeedOut,
    NeedPatch,
    NeedStatus,
    PromotedOut,
    PromoteIn,
    StakeholderMapOut,
    StakeholderOut,
    StakeholderSet,
    need_list,
)
from flywheel.web.auth import CurrentActor, require
from flywheel.web.contract import ERROR_RESPONSES, Id, today
from flywheel.web.deps import SessionDep

router = APIRouter(tags=["key accounts"], responses=ERROR_RESPONSES)

EditKeyAccounts = Annotated[Actor, Depends(require(Permission.EDIT_KEY_ACCOUNTS))]
Code = Annotated[str, Path(min_length=1, max_length=64, description="The account's code.")]
AsOf = Annotated[
    date | None,
    Query(description="Coverage and last contacts as known on this day (default: today)."),
]


@router.get(
    "/accounts/{code}/stakeholders", response_model=StakeholderMapOut, summary="Stakeholder map"
)
def get_map(
    code: Code, session: SessionDep, actor: CurrentActor, as_of: AsOf = None
) -> StakeholderMapOut:
    """Every contact of the account with influence, attitude, trust, reports-to and last
    contact (most influential first), and the coverage warnings."""
    shown = stakeholders.stakeholder_map(session, actor, code, as_of=as_of or today())
    return StakeholderMapOut.of(shown)


@router.put(
    "/accounts/{code}/stakeholders/{contact_id}",
    response_model=StakeholderOut,
    summary="Set a contact's stakeholder values",
)
def put_stakeholder(
    code: Code, contact_id: Id, body: StakeholderSet, session: SessionDep, actor: EditKeyAccounts
) -> StakeholderOut:
    """Only the fields sent change; a reports-to line that would go round in a circle, or to
    a contact of another account, is refused and changes nothing."""
    stakeholders.set_stakeholder(
        session, actor=actor, code=code, contact_id=contact_id, changes=body.changes()
    )
    customer = customers.get_customer_by_code(session, code, actor=actor)
    [row] = [
        r
        for r in stakeholders.rows_for(session, customer, as_of=today())
        if r.contact_id == contact_id
    ]
    return StakeholderOut.of(row)


@router.get("/accounts/{code}/coverage", response_model=CoverageOut, summary="Stakeholder coverage")
def get_coverage(
    code: Code, session: SessionDep, actor: CurrentActor, as_of: AsOf = None
) -> CoverageOut:
    """No contact or no decision maker met in the last 90 days, a single-threaded account, an
    opponent of influence 4 or 5."""
    return CoverageOut.of(
        stakeholders.stakeholder_map(session, actor, code, as_of=as_of or today())
    )


@router.get("/accounts/{code}/needs", response_model=NeedList, summary="Needs and pain points")
def get_needs(
    code: Code,
    session: SessionDep,
    actor: CurrentActor,
    status: Annotated[NeedStatus | None, Query(description="Only this status.")] = None,
) -> NeedList:
    """Open ones first, by priority."""
    customer, rows = needs.list_needs(session, actor, code, status=status)
    return need_list(customer.code, rows)


@router.post(
    "/accounts/{code}/needs", response_model=NeedOut, status_code=201, summary="Add a need"
)
def post_need(code: Code, body: NeedNew, session: SessionDep, actor: EditKeyAccounts) -> NeedOut:
    need = needs.add_need(session, actor=actor, code=code, **body.model_dump())
    return NeedOut.of(need, customers.get_customer(session, need.customer_id).code)


@router.post(
    "/accounts/{code}/needs/promote",
    response_model=PromotedOut,
    summary="Promote a survey comment or a touchpoint note to a need",
)
def promote_need(
    code: Code, body: PromoteIn, session: SessionDep, actor: EditKeyAccounts
) -> PromotedOut:
    """Promoting the same source again returns the need it became (``created`` false)."""
    promoted = needs.promote(session, actor=actor, code=code, **body.model_dump())
    out = NeedOut.of(promoted.need, customers.get_customer(session, promoted.need.customer_id).code)
    return PromotedOut(**out.model_dump(), created=promoted.created)


@router.patch("/needs/{need_id}", response_model=NeedOut, summary="Change or close a need")
def patch_need(
    need_id: Id, body: NeedPatch, session: SessionDep, actor: EditKeyAccounts
) -> NeedOut:
    need = needs.edit_need(session, actor=actor, need_id=need_id, changes=body.changes())
    return NeedOut.of(need, customers.get_customer(session, need.customer_id).code)
