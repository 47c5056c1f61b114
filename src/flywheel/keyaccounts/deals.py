"""The deals pipeline: its configurable stages, deals moved through them (every change audited),
winning one (which may create the contract and the order) or losing it with a reason, and the
pipeline figures (open and weighted value per stage, win rate, sales cycle, per owner)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from flywheel.audit import service as audit
from flywheel.auth import permissions
from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.auth.scope import visible_customers
from flywheel.customers import service as customers
from flywheel.errors import Conflict, NotFound, ValidationFailed
from flywheel.models.customers import Customer
from flywheel.models.keyaccounts import Contract, Deal, DealStage
from flywheel.models.users import User

CENT = Decimal("0.01")
MAX_MONEY = Decimal("9999999999999999.99")
TITLE_MAX = 200
REASON_MAX = 4000
COMPETITOR_MAX = 80
MAX_COMPETITORS = 20
MAX_LINES = 100

# code, English name, Chinese name, probability (per cent), won, lost — in pipeline order.
DEFAULT_STAGES: tuple[tuple[str, str, str, int, bool, bool], ...] = (
    ("lead", "Lead", "线索", 10, False, False),
    ("qualified", "Qualified", "已确认需求", 25, False, False),
    ("proposal", "Proposal", "方案报价", 50, False, False),
    ("negotiation", "Negotiation", "商务谈判", 75, False, False),
    ("won", "Won", "赢单", 100, True, False),
    ("lost", "Lost", "丢单", 0, False, True),
)
DEAL_AUDITED = (
    "customer_id",
    "owner_id",
    "title",
    "stage_id",
    "value",
    "currency",
    "expected_close_on",
    "closed_on",
    "lost_reason",
    "lines",
    "competitors",
    "contract_id",
    "order_id",
    "opened_on",
)
STAGE_AUDITED = (
    "code",
    "name_en",
    "name_zh",
    "position",
    "probability",
    "is_won",
    "is_lost",
    "active",
)
EDITABLE = ("title", "owner_id", "value", "currency", "expected_close_on", "lines", "competitors")


class DealClosed(Conflict):
    """The deal is already won or lost: it cannot be moved, won or lost again."""

    code = "deal_closed"


class StageInUse(Conflict):
    """The stage still holds open deals, or is the last won/lost stage."""

    code = "deal_stage_in_use"


# ----------------------------------------------------------------------------- stages


def seed_default_stages(session: Session) -> int:
    """Add the default stages that are missing (by code); returns how many were added. Run
    again, it adds nothing."""
    have = set(session.scalars(select(DealStage.code)))
    added = 0
    for position, (code, name_en, name_zh, probability, won, lost) in enumerate(DEFAULT_STAGES):
        if code in have:
            continue
        session.add(
            DealStage(
                code=code,
                name_en=name_en,
                name_zh=name_zh,
                position=(position + 1) * 10,
                probability=probability,
                is_won=won,
                is_lost=lost,
                active=True,
            )
        )
        added += 1
    if added:
        session.flush()
    return added


def list_stages(session: Session, *, active_only: bool = False) -> list[DealStage]:
    """The stages in pipeline order; the defaults are put in place the first time."""
    if session.scalar(select(func.count(DealStage.id))) == 0:
        seed_default_stages(session)
    stmt = select(DealStage).order_by(DealStage.position, DealStage.id)
    if active_only:
        stmt = stmt.where(DealStage.active.is_(True))
    return list(session.scalars(stmt))


def get_stage(session: Session, code: str, *, field: str = "stage") -> DealStage:
    stages = {s.code: s for s in list_stages(session)}
    stage = stages.get(code)
    if stage is None:
        raise NotFound(f"{field}: no stage {code!r}", field=field, stage=code)
    return stage


def stage_name(stage: DealStage, language: str) -> str:
    return stage.name_zh if language == "zh" else stage.name_en


def save_stage(
    session: Session, *, actor: Actor, code: str, values: Mapping[str, Any]
) -> tuple[DealStage, bool]:
    """Create the stage ``code`` or change it; returns (stage, created). A won stage has
    probability 100, a lost one 0; a stage holding open deals, or the last active won or lost
    stage, cannot be deactivated."""
    permissions.check(actor, Permission.MANAGE_DEAL_STAGES)
    code = code.strip().lower()
    if not code or len(code) > 32 or not all(c.isalnum() or c in "_-" for c in code):
        raise ValidationFailed("code: letters, digits, - and _ only, at most 32", field="code")
    stages = list_stages(session)
    stage = next((s for s in stages if s.code == code), None)
    current = {k: getattr(stage, k) for k in STAGE_AUDITED} if stage else {}
    merged: dict[str, Any] = {
        "name_en": code.title(),
        "name_zh": code,
        "position": max((s.position for s in stages), default=0) + 10,
        "probability": 0,
        "is_won": False,
        "is_lost": False,
        "active": True,
        **current,
    }
    for key, value in values.items():
        if key not in STAGE_AUDITED or key == "code":
            raise ValidationFailed(f"{key}: cannot be set on a stage", field=key)
        if value is not None:
            merged[key] = value
    for name in ("name_en", "name_zh"):
        text = str(merged[name]).strip()
        if not text or len(text) > 80:
            raise ValidationFailed(f"{name}: 1 to 80 characters", field=name)
        merged[name] = text
    if not 0 <= int(merged["probability"]) <= 100:
        raise ValidationFailed("probability: a per cent from 0 to 100", field="probability")
    if merged["is_won"] and merged["is_lost"]:
        raise ValidationFailed("is_lost: a stage is won or lost, not both", field="is_lost")
    if merged["is_won"] and int(merged["probability"]) != 100:
        raise ValidationFailed("probability: a won stage has probability 100", field="probability")
    if merged["is_lost"] and int(merged["probability"]) != 0:
        raise ValidationFailed("probability: a lost stage has probability 0", field="probability")
    if stage is not None:
        others = [s for s in stages if s.id != stage.id and s.active]
        for flag in ("is_won", "is_lost"):
            losing = getattr(stage, flag) and stage.active
            keeps = merged[flag] and merged["active"]
            if losing and not keeps and not any(getattr(s, flag) for s in others):
                raise StageInUse(
                    f"{flag}: the pipeline needs an active {flag[3:]} stage",
                    field=flag,
                    stage=code,
                )
        closing_kind_changes = (merged["is_won"], merged["is_lost"]) != (
            stage.is_won,
            stage.is_lost,
        )
        if not merged["active"] or closing_kind_changes:
            open_deals = session.scalar(
                select(func.count(Deal.id)).where(
                    Deal.stage_id == stage.id, Deal.closed_on.is_(None)
                )
            )
            if open_deals:
                raise StageInUse(
                    f"active: {open_deals} open deals are in stage {code}; move them first",
                    field="active",
                    stage=code,
                    open_deals=open_deals,
                )
        changed = audit.apply_update(
            session,
            actor,
            stage,
            {k: merged[k] for k in STAGE_AUDITED if k != "code"},
            action="deal_stage.updated",
            subject_type="deal_stage",
            customer_id=None,
            fields=STAGE_AUDITED,
        )
        del changed
        return stage, False
    stage = DealStage(code=code, **{k: merged[k] for k in STAGE_AUDITED if k != "code"})
    session.add(stage)
    session.flush()
    audit.record(
        session,
        actor,
        "deal_stage.created",
        subject_type="deal_stage",
        subject_id=stage.id,
        customer_id=None,
        after=audit.snapshot(stage, STAGE_AUDITED),
    )
    return stage, True


# ----------------------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class DealFilter:
    stage: str | None = None  # a stage code
    status: str = "all"  # all, open, won, lost
    owner_id: int | None = None
    customer_id: int | None = None
    search: str | None = None
    deal_id: int | None = None


STATUSES = ("all", "open", "won", "lost")


def deals_query(actor: Actor, filters: DealFilter) -> Select[Deal, Customer, DealStage]:
    """(deal, account, stage) rows the actor may see: soonest expected close first."""
    stmt = (
        select(Deal, Customer, DealStage)
        .join(Customer, Customer.id == Deal.customer_id)
        .join(DealStage, DealStage.id == Deal.stage_id)
        .where(visible_customers(actor))
    )
    if filters.stage:
        stmt = stmt.where(DealStage.code == filters.stage)
    if filters.status == "open":
        stmt = stmt.where(DealStage.is_won.is_(False), DealStage.is_lost.is_(False))
    elif filters.status == "won":
        stmt = stmt.where(DealStage.is_won.is_(True))
    elif filters.status == "lost":
        stmt = stmt.where(DealStage.is_lost.is_(True))
    if filters.owner_id is not None:
        stmt = stmt.where(Deal.owner_id == filters.owner_id)
    if filters.customer_id is not None:
        stmt = stmt.where(Deal.customer_id == filters.customer_id)
    if filters.deal_id is not None:
        stmt = stmt.where(Deal.id == filters.deal_id)
    if filters.search:
        pattern = f"%{filters.search.strip()}%"
        stmt = stmt.where(
            or_(
                Deal.title.ilike(pattern),
                Customer.code.ilike(pattern),
                Customer.name.ilike(pattern),
            )
        )
    return stmt.order_by(Deal.expected_close_on.is_(None), Deal.expected_close_on, Deal.id.desc())


def list_deals(
    session: Session, actor: Actor, filters: DealFilter, *, limit: int, offset: int
) -> tuple[list[tuple[Deal, Customer, DealStage]], int]:
    if filters.status not in STATUSES:
        raise ValidationFailed(f"status: one of {', '.join(STATUSES)}", field="status")
    list_stages(session)
    stmt = deals_query(actor, filters)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = [(r[0], r[1], r[2]) for r in session.execute(stmt.limit(limit).offset(offset))]
    return rows, int(total)


def get_deal_for(session: Session, deal_id: int, *, actor: Actor) -> Deal:
    """The deal if the actor may see its account; NotFound, exactly like a missing one, else."""
    deal = session.scalar(
        select(Deal)
        .join(Customer, Customer.id == Deal.customer_id)
        .where(Deal.id == deal_id, visible_customers(actor))
    )
    if deal is None:
        raise NotFound(f"deal {deal_id} not found", deal_id=deal_id)
    return deal


def deal_row(session: Session, actor: Actor, deal: Deal) -> tuple[Deal, Customer, DealStage]:
    rows, _total = list_deals(session, actor, DealFilter(deal_id=deal.id), limit=1, offset=0)
    if not rows:
        raise NotFound(f"deal {deal.id} not found", deal_id=deal.id)
    return rows[0]


def owner_names(session: Session, ids: Sequence[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.display_name).where(User.id.in_(wanted)))
    return {int(i): str(n) for i, n in rows}


def is_open(stage: DealStage) -> bool:
    return not (stage.is_won or stage.is_lost)


# ----------------------------------------------------------------------------- checking input


def _text(value: Any, field: str, limit: int, *, required: bool = False) -> str | None:
    text = str(value or "").strip()
    if required and not text:
        raise ValidationFailed(f"{field}: required", field=field)
    if len(text) > limit:
        raise ValidationFailed(f"{field}: at most {limit} characters", field=field)
    return text or None


def _money(value: Any, field: str) -> Decimal:
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(f"{field}: not an amount", field=field) from None
    if not amount.is_finite() or amount < 0 or amount > MAX_MONEY:
        raise ValidationFailed(f"{field}: an amount from 0 to {MAX_MONEY}", field=field)
    if amount != amount.quantize(CENT):
        raise ValidationFailed(f"{field}: at most two decimals", field=field)
    return amount.quantize(CENT)


def clean_lines(lines: Any) -> list[dict[str, Any]]:
    """Products or lines of the deal: each a product name, a quantity (> 0) and a unit price."""
    if lines is None:
        return []
    if not isinstance(lines, list) or len(lines) > MAX_LINES:
        raise ValidationFailed(f"lines: a list of at most {MAX_LINES} lines", field="lines")
    cleaned: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        if not isinstance(line, Mapping):
            raise ValidationFailed(f"lines: line {number} is not a line", field="lines")
        product = _text(line.get("product"), "lines", 200)
        if product is None:
            raise ValidationFailed(f"lines: line {number} names no product", field="lines")
        try:
            quantity = Decimal(str(line.get("quantity", 1)))
        except (InvalidOperation, ValueError):
            raise ValidationFailed(f"lines: line {number}: bad quantity", field="lines") from None
        if not quantity.is_finite() or quantity <= 0 or quantity > Decimal("1e9"):
            raise ValidationFailed(f"lines: line {number}: bad quantity", field="lines")
        price = line.get("unit_price")
        unit_price = None if price in (None, "") else _money(price, "lines")
        cleaned.append(
            {
                "product": product,
                "quantity": format(quantity.normalize(), "f"),
                "unit_price": f"{unit_price:.2f}" if unit_price is not None else None,
            }
        )
    return cleaned


def clean_competitors(names: Any) -> list[str]:
    if names is None:
        return []
    if isinstance(names, str):
        names = names.replace("，", ",").split(",")
    if not isinstance(names, list):
        raise ValidationFailed("competitors: a list of names", field="competitors")
    seen: list[str] = []
    for name in names:
        text = _text(name, "competitors", COMPETITOR_MAX)
        if text and text not in seen:
            seen.append(text)
    if len(seen) > MAX_COMPETITORS:
        raise ValidationFailed(f"competitors: at most {MAX_COMPETITORS} names", field="competitors")
    return seen


def _owner(session: Session, owner_id: int | None) -> int | None:
    if owner_id is None:
        return None
    user = session.get(User, owner_id)
    if user is None or not user.is_active:
        raise ValidationFailed(f"owner_id: no active user {owner_id}", field="owner_id")
    return user.id


def _currency(value: Any, default: str) -> str:
    text = str(value or default).strip().upper()
    if len(text) != 3 or not text.isalpha():
        raise ValidationFailed("currency: a three-letter code such as CNY", field="currency")
    return text


# ----------------------------------------------------------------------------- recording


def _event(
    session: Session,
    actor: Actor,
    action: str,
    deal: Deal,
    before: Mapping[str, Any] | None,
    **extra: Any,
) -> None:
    after = audit.snapshot(deal, DEAL_AUDITED)
    if before is None:
        shown_before, shown_after = None, {**after, **extra}
    else:
        difference = audit.changed(before, after)
        shown_before = {k: before[k] for k in difference}
        shown_after = {**difference, **extra}
    audit.record(
        session,
        actor,
        action,
        subject_type="deal",
        subject_id=deal.id,
        customer_id=deal.customer_id,
        before=shown_before,
        after=shown_after,
    )


def create_deal(
    session: Session,
    *,
    actor: Actor,
    customer: str,
    title: str,
    value: Any,
    opened_on: date,
    stage: str | None = None,
    owner_id: int | None = None,
    currency: str | None = None,
    expected_close_on: date | None = None,
    lines: Any = None,
    competitors: Any = None,
) -> Deal:
    """A new open deal with the account ``customer`` (a code in the actor's scope), in the
    first open stage unless ``stage`` names another open one; its owner defaults to the
    account's owner, its currency to the account's."""
    permissions.check(actor, Permission.WORK_DEALS)
    try:
        account = customers.get_customer_by_code(session, customer, actor=actor)
    except NotFound:
        raise NotFound(
            f"customer: customer {customer} not found", field="customer", code=customer
        ) from None
    stages = [s for s in list_stages(session, active_only=True) if is_open(s)]
    if stage:
        chosen = next((s for s in stages if s.code == stage), None)
        if chosen is None:
            raise ValidationFailed(f"stage: {stage!r} is not an active open stage", field="stage")
    elif stages:
        chosen = stages[0]
    else:
        raise ValidationFailed("stage: the pipeline has no active open stage", field="stage")
    if expected_close_on is not None and expected_close_on < opened_on:
        raise ValidationFailed(
            "expected_close_on: before the deal was opened", field="expected_close_on"
        )
    deal = Deal(
        customer_id=account.id,
        owner_id=_owner(session, owner_id) if owner_id is not None else account.owner_id,
        title=_text(title, "title", TITLE_MAX, required=True),
        stage_id=chosen.id,
        value=_money(value, "value"),
        currency=_currency(currency, account.currency),
        expected_close_on=expected_close_on,
        lines=clean_lines(lines),
        competitors=clean_competitors(competitors),
        opened_on=opened_on,
    )
    session.add(deal)
    session.flush()
    _event(session, actor, "deal.created", deal, None)
    return deal


def edit_deal(session: Session, *, actor: Actor, deal_id: int, changes: Mapping[str, Any]) -> Deal:
    """Change the title, owner, value, currency, expected close, lines or competitors."""
    permissions.check(actor, Permission.WORK_DEALS)
    deal = get_deal_for(session, deal_id, actor=actor)
    values: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in EDITABLE:
            raise ValidationFailed(f"{name}: cannot be changed here", field=name)
        if name == "title":
            values[name] = _text(value, "title", TITLE_MAX, required=True)
        elif name == "owner_id":
            values[name] = _owner(session, value)
        elif name == "value":
            if value is None:
                raise ValidationFailed("value: required", field="value")
            values[name] = _money(value, "value")
        elif name == "currency":
            values[name] = _currency(value, deal.currency)
        elif name == "expected_close_on":
            if value is not None and value < deal.opened_on:
                raise ValidationFailed(
                    "expected_close_on: before the deal was opened", field="expected_close_on"
                )
            values[name] = value
        elif name == "lines":
            values[name] = clean_lines(value)
        else:
            values[name] = clean_competitors(value)
    if not values:
        return deal
    before = audit.snapshot(deal, DEAL_AUDITED)
    if all(getattr(deal, k) == v for k, v in values.items()):
        return deal
    for key, value in values.items():
        setattr(deal, key, value)
    session.flush()
    _event(session, actor, "deal.updated", deal, before)
    return deal


def _stage_of(session: Session, deal: Deal) -> DealStage:
    stage = session.get(DealStage, deal.stage_id)
    assert stage is not None
    return stage


def move_deal(session: Session, *, actor: Actor, deal_id: int, stage: str) -> Deal:
    """Move an open deal to another open stage, or reopen a lost one; won and lost are reached
    with ``win_deal`` and ``lose_deal`` (they need a date, a reason)."""
    permissions.check(actor, Permission.WORK_DEALS)
    deal = get_deal_for(session, deal_id, actor=actor)
    target = get_stage(session, stage)
    current = _stage_of(session, deal)
    if not target.active:
        raise ValidationFailed(f"stage: {stage} is not active", field="stage")
    if not is_open(target):
        raise ValidationFailed(
            f"stage: {stage} closes the deal; win or lose it instead", field="stage"
        )
    if current.is_won:
        raise DealClosed(f"stage: deal {deal.id} is won; it stays won", field="stage")
    if target.id == current.id:
        return deal
    before = audit.snapshot(deal, DEAL_AUDITED)
    deal.stage_id = target.id
    if current.is_lost:
        deal.closed_on = None
        deal.lost_reason = None
    session.flush()
    _event(
        session,
        actor,
        "deal.reopened" if current.is_lost else "deal.moved",
        deal,
        before,
        stage=target.code,
        from_stage=current.code,
    )
    return deal


def _closing_stage(session: Session, *, won: bool) -> DealStage:
    for stage in list_stages(session, active_only=True):
        if stage.is_won if won else stage.is_lost:
            return stage
    kind = "won" if won else "lost"
    raise StageInUse(f"stage: the pipeline has no active {kind} stage", field="stage")


@dataclass(frozen=True, slots=True)
class ContractTerms:
    """What the contract a won deal creates says; left out, the deal's value and the
    account's payment terms, a one-year term from the day it was won."""

    number: str | None = None
    title: str | None = None
    value: Decimal | None = None
    start_on: date | None = None
    end_on: date | None = None
    payment_terms: str | None = None


def _create_contract(
    session: Session, actor: Actor, deal: Deal, account: Customer, terms: ContractTerms, on: date
) -> Contract:
    permissions.check(actor, Permission.MANAGE_CONTRACTS)
    number = _text(terms.number, "contract_number", 64) or f"C-D{deal.id:06d}"
    if session.scalar(select(Contract.id).where(Contract.number == number)) is not None:
        raise Conflict(
            f"contract_number: contract {number} already exists", field="contract_number"
        )
    start = terms.start_on or on
    end = terms.end_on or date(start.year + 1, start.month, min(start.day, 28))
    if end <= start:
        raise ValidationFailed("contract_end_on: after the start", field="contract_end_on")
    contract = Contract(
        customer_id=account.id,
        number=number,
        title=_text(terms.title, "contract_title", TITLE_MAX) or deal.title,
        value=_money(terms.value if terms.value is not None else deal.value, "contract_value"),
        currency=deal.currency,
        start_on=start,
        end_on=end,
        renewal_on=end,
        payment_terms=_text(terms.payment_terms, "payment_terms", 20) or account.payment_terms,
        status="active",
        owner_id=deal.owner_id,
        notes=f"deal {deal.id}",
    )
    session.add(contract)
    session.flush()
    audit.record(
        session,
        actor,
        "contract.created",
        subject_type="contract",
        subject_id=contract.id,
        customer_id=account.id,
        after={
            **audit.snapshot(
                contract,
                ("number", "title", "value", "currency", "start_on", "end_on", "payment_terms"),
            ),
            "deal_id": deal.id,
        },
    )
    return contract


def _create_order(
    session: Session, actor: Actor, deal: Deal, account: Customer, number: str | None, on: date
) -> int:
    # The order goes through the sales service: the credit check applies to it as to any.
    from flywheel.sales import service as sales
    from flywheel.sales.schemas import OrderNew

    order = sales.place_order(
        session,
        actor=actor,
        data=OrderNew(
            number=_text(number, "order_number", 64) or f"SO-D{deal.id:06d}",
            customer=account.code,
            order_date=on,
            amount=deal.value,
            currency=deal.currency,
        ),
    )
    return order.id


def win_deal(
    session: Session,
    *,
    actor: Actor,
    deal_id: int,
    on: date,
    contract: ContractTerms | None = None,
    create_order: bool = False,
    order_number: str | None = None,
) -> Deal:
    """Win an open deal on ``on``: it moves to the won stage and, if asked, creates its
    contract and its order (through the sales service, with the credit check). Anything
    refused changes nothing — the caller runs this in a savepoint."""
    permissions.check(actor, Permission.WORK_DEALS)
    deal = get_deal_for(session, deal_id, actor=actor)
    current = _stage_of(session, deal)
    if not is_open(current):
        raise DealClosed(f"stage: deal {deal.id} is already {current.code}", field="stage")
    if on < deal.opened_on:
        raise ValidationFailed("closed_on: before the deal was opened", field="closed_on")
    won = _closing_stage(session, won=True)
    account = customers.get_customer(session, deal.customer_id)
    before = audit.snapshot(deal, DEAL_AUDITED)
    if contract is not None:
        deal.contract_id = _create_contract(session, actor, deal, account, contract, on).id
    if create_order:
        deal.order_id = _create_order(session, actor, deal, account, order_number, on)
    deal.stage_id = won.id
    deal.closed_on = on
    deal.lost_reason = None
    session.flush()
    _event(session, actor, "deal.won", deal, before, stage=won.code, from_stage=current.code)
    return deal


def lose_deal(session: Session, *, actor: Actor, deal_id: int, on: date, reason: str) -> Deal:
    """Lose an open deal on ``on``, saying why."""
    permissions.check(actor, Permission.WORK_DEALS)
    deal = get_deal_for(session, deal_id, actor=actor)
    current = _stage_of(session, deal)
    if not is_open(current):
        raise DealClosed(f"stage: deal {deal.id} is already {current.code}", field="stage")
    why = _text(reason, "lost_reason", REASON_MAX)
    if not why:
        raise ValidationFailed("lost_reason: say why the deal was lost", field="lost_reason")
    if on < deal.opened_on:
        raise ValidationFailed("closed_on: before the deal was opened", field="closed_on")
    lost = _closing_stage(session, won=False)
    before = audit.snapshot(deal, DEAL_AUDITED)
    deal.stage_id = lost.id
    deal.closed_on = on
    deal.lost_reason = why
    session.flush()
    _event(session, actor, "deal.lost", deal, before, stage=lost.code, from_stage=current.code)
    return deal


def summary_for_360(session: Session, customer_id: int, *, as_of: date) -> dict[str, Any] | None:
    """The account's open deals for the 360's key-account panel (``deal_figures``), here where
    the panel looks for its loaders."""
    from flywheel.keyaccounts import deal_figures

    return deal_figures.summary_for_360(session, customer_id, as_of=as_of)
