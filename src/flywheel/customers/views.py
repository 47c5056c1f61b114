"""The customer pages: the list (search, filters, sorting, paging, CSV and XLSX export of the
filtered list), the customer 360 (figures, open invoices, payments, contacts, the timeline,
panel slots) and logging a touchpoint. The same services and filter as /api/v1/customers."""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup, escape
from pydantic import ValidationError
from sqlalchemy.orm import Session

from flywheel.auth import permissions
from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.auth.scope import OWNER_SCOPED_ROLES
from flywheel.customers import figures, labels, service
from flywheel.customers import timeline as history
from flywheel.customers.repository import CustomerFilter, CustomerSort, ListedCustomer
from flywheel.customers.schemas import TouchpointNew
from flywheel.errors import Conflict, NotFound, ValidationFailed
from flywheel.kit import i18n
from flywheel.kit.i18n import N_
from flywheel.kit.i18n import gettext as _
from flywheel.models.customers import Contact, Customer
from flywheel.models.enums import CustomerStatus, Tier, TouchpointKind
from flywheel.web import exports, panels
from flywheel.web.auth import CurrentActor, require
from flywheel.web.deps import SessionDep
from flywheel.web.pages import flash, redirect, render

router = APIRouter(prefix="/customers", include_in_schema=False)

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# An export holds at most this many accounts (the list page says so).
EXPORT_LIMIT = 100_000
_EXPORT_BATCH = 5_000
RECENT_PAYMENTS = 10
RESULTS_TARGET = "customer-results"

TouchpointActor = Annotated[Actor, Depends(require(Permission.LOG_TOUCHPOINTS))]


def _today() -> date:
    return datetime.now(UTC).date()


def _is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


# ---------------------------------------------------------------- the list's parameters


@dataclass(frozen=True, slots=True)
class ListQuery:
    """The list's query string, checked: what the filter form, the sort links, the pager and
    the export links all carry."""

    search: str = ""
    tier: str = ""
    owner: str = ""
    region: str = ""
    status: str = ""
    sort: CustomerSort = CustomerSort.CODE
    order: str = "asc"
    page: int = 1
    page_size: int = PAGE_SIZE

    def filter(self) -> CustomerFilter:
        return CustomerFilter(
            search=self.search or None,
            tier=self.tier or None,
            owner=self.owner or None,
            region=self.region or None,
            status=self.status or None,
        )

    @property
    def descending(self) -> bool:
        return self.order == "desc"

    @property
    def filtered(self) -> bool:
        return any((self.search, self.tier, self.owner, self.region, self.status))


def _choice(value: str, allowed: Sequence[str], *, field: str) -> str:
    value = value.strip()
    if value and value not in allowed:
        raise ValidationFailed(
            f"{field} must be one of {', '.join(allowed)}, not {value!r}", field=field
        )
    return value


async def list_query(
    search: Annotated[str, Query(max_length=200)] = "",
    tier: Annotated[str, Query(max_length=32)] = "",
    owner: Annotated[str, Query(max_length=64)] = "",
    region: Annotated[str, Query(max_length=80)] = "",
    status: Annotated[str, Query(max_length=32)] = "",
    sort: Annotated[str, Query(max_length=32)] = CustomerSort.CODE.value,
    order: Annotated[str, Query(max_length=8)] = "asc",
    page: Annotated[int, Query(ge=1, le=10_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = PAGE_SIZE,
) -> ListQuery:
    """Empty values (what a GET form sends for "any") mean no filter."""
    return ListQuery(
        search=search.strip(),
        tier=_choice(tier, [t.value for t in Tier], field="tier"),
        owner=owner.strip(),
        region=region.strip(),
        status=_choice(status, [s.value for s in CustomerStatus], field="status"),
        sort=CustomerSort(
            _choice(sort, [s.value for s in CustomerSort], field="sort") or CustomerSort.CODE
        ),
        order=_choice(order, ["asc", "desc"], field="order") or "asc",
        page=page,
        page_size=page_size,
    )


ListParams = Annotated[ListQuery, Depends(list_query)]


def _link_builder(params: ListQuery, as_of: date | None) -> Callable[..., str]:
    """``link(page=3)``: the list's query string with some values replaced, leaving out the
    empty and default ones, for sort, pager and export links (and the address bar)."""
    current: dict[str, object] = {
        "search": params.search,
        "tier": params.tier,
        "owner": params.owner,
        "region": params.region,
        "status": params.status,
        "sort": params.sort.value,
        "order": params.order,
        "page": params.page,
        "page_size": params.page_size,
        "as_of": as_of.isoformat() if as_of else None,
    }
    defaults: dict[str, object] = {
        "sort": CustomerSort.CODE.value,
        "order": "asc",
        "page": 1,
        "page_size": PAGE_SIZE,
    }

    def link(**changes: object) -> str:
        values = {**current, **changes}
        kept = {
            key: value
            for key, value in values.items()
            if value not in (None, "") and defaults.get(key) != value
        }
        return "?" + urlencode(kept) if kept else ""

    return link


# ---------------------------------------------------------------- the list


@router.get("", response_class=HTMLResponse)
def customer_list(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    params: ListParams,
    as_of: date | None = None,
) -> Response:
    """The accounts the actor may see. An HTMX request aimed at the results (the live search,
    the pager, the sort links) gets only the results back."""
    day = as_of or _today()
    offset = (params.page - 1) * params.page_size
    rows, total = service.list_listed(
        session,
        params.filter(),
        actor=actor,
        limit=params.page_size,
        offset=offset,
        sort=params.sort,
        descending=params.descending,
    )
    owners = figures.owner_choices(session, actor=actor)
    owner_names = {o.username: o.display_name for o in owners}
    words = _ExportWords.now()
    context: dict[str, Any] = {
        "params": params,
        "total": total,
        "first": offset + 1 if rows else 0,
        "last": offset + len(rows),
        "pages": max(1, math.ceil(total / params.page_size)),
        "table_rows": _list_rows(
            rows,
            figures.balances_of(session, rows, as_of=day),
            owner_names,
            words,
        ),
        "owner_names": owner_names,
        "as_of": day,
        "explicit_as_of": as_of,
        "export_limit": EXPORT_LIMIT,
        "results_target": RESULTS_TARGET,
        "link": _link_builder(params, as_of),
    }
    headers = {"Vary": "HX-Request, HX-Target"}
    if _is_htmx(request) and request.headers.get("HX-Target") == RESULTS_TARGET:
        # The address bar shows the list's own link, without the form's empty fields.
        headers["HX-Push-Url"] = "/customers" + context["link"]()
        return render(request, "customers/_results.html", context, actor=actor, headers=headers)
    context.update(
        owner_options=_owner_options(tuple(owners), params.owner),
        show_owner_filter=actor.role not in OWNER_SCOPED_ROLES,
        regions=figures.region_choices(session, actor=actor),
        tiers=[(t.value, labels.TIER_LABELS[t]) for t in Tier],
        statuses=[(s.value, labels.STATUS_LABELS[s]) for s in CustomerStatus],
    )
    return render(request, "customers/list.html", context, actor=actor, headers=headers)


_BAD = ' class="bad"'


def _list_rows(
    rows: Sequence[ListedCustomer],
    balances: Mapping[int, list[figures.Balance]],
    owner_names: Mapping[str, str],
    words: _ExportWords,
) -> Markup:
    """The list's table rows, written here rather than by a template loop: a page of 50 rows
    has some 500 values, and escaping each one through the template (a ``Markup`` object per
    value) cost more than the rest of the page's rendering."""
    money, out = i18n.money, []
    for customer in rows:
        code = html.escape(customer.code)
        owed = balances.get(customer.id, ())
        if owed:
            open_cell = "".join(
                f"<div>{html.escape(money(b.open, b.currency))}</div>" for b in owed
            )
            overdue_cell = "".join(
                f"<div{_BAD if b.overdue > 0 else ''}>"
                f"{html.escape(money(b.overdue, b.currency))}</div>"
                for b in owed
            )
        else:
            open_cell = overdue_cell = '<span class="muted">–</span>'
        owner = customer.owner
        owner_name = owner_names.get(owner, owner) if owner else ""
        out.append(
            f'<tr data-code="{code}">'
            f'<td class="nowrap"><a href="/customers/{html.escape(quote(customer.code))}">'
            f"{code}</a></td>"
            f"<td>{html.escape(customer.name)}</td>"
            f'<td><span class="pill pill-{html.escape(customer.tier)}">'
            f"{html.escape(words.tiers.get(customer.tier, customer.tier))}</span></td>"
            f"<td>{html.escape(customer.region or '')}</td>"
            f"<td>{html.escape(owner_name)}</td>"
            f'<td><span class="pill status-{html.escape(customer.status)}">'
            f"{html.escape(words.statuses.get(customer.status, customer.status))}</span></td>"
            f'<td class="num">{open_cell}</td>'
            f'<td class="num">{overdue_cell}</td>'
            f'<td class="nowrap">{customer.created_on.isoformat() if customer.created_on else ""}'
            "</td></tr>\n"
        )
    return Markup("".join(out))


@lru_cache(maxsize=64)
def _owner_options(owners: tuple[figures.OwnerChoice, ...], chosen: str) -> Markup:
    """The owner filter's options, written here rather than by a template loop: a manager's
    list has one per sales rep, hundreds of them. Kept for the same owners and choice."""
    return Markup(
        "".join(
            f'<option value="{escape(owner.username)}"'
            f"{' selected' if owner.username == chosen else ''}>"
            f"{escape(owner.display_name)}</option>"
            for owner in owners
        )
    )


# ---------------------------------------------------------------- exports


_EXPORT_HEADERS = (
    N_("Code"),
    N_("Name"),
    N_("Tier"),
    N_("Industry"),
    N_("Region"),
    N_("Owner"),
    N_("Status"),
    N_("Currency"),
    N_("Payment terms"),
    N_("Open balance"),
    N_("Overdue balance"),
    N_("Open in other currencies"),
    N_("Customer since"),
)


def _export_rows(
    session: Session, actor: Actor, params: ListQuery, as_of: date
) -> Iterator[list[object]]:
    """Every account of the filtered list in the list's order, up to ``EXPORT_LIMIT``, read a
    batch at a time through the same service as the page."""
    words = _ExportWords.now()
    written = 0
    while written < EXPORT_LIMIT:
        batch = min(_EXPORT_BATCH, EXPORT_LIMIT - written)
        rows, _total = service.list_listed(
            session,
            params.filter(),
            actor=actor,
            limit=batch,
            offset=written,
            sort=params.sort,
            descending=params.descending,
        )
        balances = figures.balances_of(session, rows, as_of=as_of)
        for customer in rows:
            yield _export_row(customer, balances.get(customer.id, []), words)
        written += len(rows)
        if len(rows) < batch:
            return


@dataclass(frozen=True, slots=True)
class _ExportWords:
    """The labels of the list and of an export, translated once rather than once a row."""

    tiers: dict[str, str]
    statuses: dict[str, str]
    overdue: str

    @classmethod
    def now(cls) -> _ExportWords:
        return cls(
            tiers={value: _(label) for value, label in labels.TIER_LABELS.items()},
            statuses={value: _(label) for value, label in labels.STATUS_LABELS.items()},
            overdue=_("overdue"),
        )


_NOTHING_OPEN = Decimal("0.00")


def _export_row(
    customer: ListedCustomer, balances: list[figures.Balance], words: _ExportWords
) -> list[object]:
    own = next((b for b in balances if b.currency == customer.currency), None)
    others = "; ".join(
        f"{b.currency} {b.open:.2f} ({words.overdue} {b.overdue:.2f})"
        for b in balances
        if b.currency != customer.currency
    )
    return [
        customer.code,
        customer.name,
        words.tiers.get(customer.tier, customer.tier),
        customer.industry,
        customer.region,
        customer.owner,
        words.statuses.get(customer.status, customer.status),
        customer.currency,
        customer.payment_terms,
        own.open if own else _NOTHING_OPEN,
        own.overdue if own else _NOTHING_OPEN,
        others or None,
        customer.created_on,
    ]


@router.get("/export.csv")
def export_csv(
    session: SessionDep, actor: CurrentActor, params: ListParams, as_of: date | None = None
) -> Response:
    """The filtered list (every page) as CSV in UTF-8 with a byte order mark, so Excel shows
    Chinese text; amounts as plain numbers. Written to a temporary file inside the request's
    transaction and streamed from there, so memory stays flat however long the list."""
    day = as_of or _today()
    rows = _export_rows(session, actor, params, day)
    return exports.download(
        _EXPORT_HEADERS, rows, stem="customers", format="csv", title=N_("Customers"), day=day
    )


@router.get("/export.xlsx")
def export_xlsx(
    session: SessionDep, actor: CurrentActor, params: ListParams, as_of: date | None = None
) -> Response:
    """The filtered list (every page) as an Excel workbook written in streaming mode; amounts
    and dates are real Excel numbers and dates."""
    day = as_of or _today()
    rows = _export_rows(session, actor, params, day)
    return exports.download(
        _EXPORT_HEADERS, rows, stem="customers", format="xlsx", title=N_("Customers"), day=day
    )


# ---------------------------------------------------------------- the 360


def _touchpoint_form_defaults(tz_name: str = "UTC") -> dict[str, str]:
    now = datetime.now(_zone(tz_name) or UTC)
    return {
        "kind": TouchpointKind.CALL.value,
        "contact_id": "",
        "occurred_at": now.strftime("%Y-%m-%dT%H:%M"),
        "tz": tz_name,
        "summary": "",
        "satisfaction": "",
    }


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _customer_360_context(
    session: Session,
    actor: Actor,
    code: str,
    as_of: date,
    *,
    form: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    view = service.customer_360(session, code, actor=actor, as_of=as_of, recent=RECENT_PAYMENTS)
    customer = view.customer
    activity = figures.monthly_activity(session, customer, as_of=as_of)
    return {
        "view": view,
        "customer": customer,
        "contacts": view.contacts,
        "as_of": as_of,
        "kpis": figures.kpis_of(view),
        "related": figures.related_accounts(session, view, actor=actor),
        "allocations": figures.allocations_of_payments(session, view.payments),
        "chart": {
            "months": activity.months,
            "invoiced": [float(v) for v in activity.invoiced],
            "received": [float(v) for v in activity.received],
            "labels": {"invoiced": _("Invoiced"), "received": _("Received")},
            "currency": activity.currency,
        },
        "has_activity": any(activity.invoiced) or any(activity.received),
        "timeline": _present_page(history.timeline_of(session, customer)),
        "panels": panels.fill(session, actor, customer, as_of),
        "may_log": permissions.allows(actor, Permission.LOG_TOUCHPOINTS),
        "form": form or _touchpoint_form_defaults(),
        "errors": errors or {},
        **_label_tables(),
    }


def _label_tables() -> dict[str, Any]:
    return {
        "tier_labels": labels.TIER_LABELS,
        "status_labels": labels.STATUS_LABELS,
        "role_labels_buying": labels.BUYING_ROLE_LABELS,
        "kind_labels": labels.TOUCHPOINT_KIND_LABELS,
        "method_labels": labels.PAYMENT_METHOD_LABELS,
        "satisfaction_labels": labels.SATISFACTION_LABELS,
        "kinds": [(k.value, labels.TOUCHPOINT_KIND_LABELS[k]) for k in TouchpointKind],
    }


@router.get("/{code}", response_class=HTMLResponse)
def customer_360(
    code: str, request: Request, session: SessionDep, actor: CurrentActor, as_of: date | None = None
) -> Response:
    """One account on one page; another rep's account is "not found" like a missing one."""
    context = _customer_360_context(session, actor, code, as_of or _today())
    return render(request, "customers/detail.html", context, actor=actor)


# ---------------------------------------------------------------- the timeline


@dataclass(frozen=True, slots=True)
class ShownChange:
    label: str
    before: str | None
    after: str | None


@dataclass(frozen=True, slots=True)
class ShownEntry:
    entry: history.TimelineEntry
    title: str
    changes: list[ShownChange]


@dataclass(frozen=True, slots=True)
class ShownPage:
    entries: list[ShownEntry]
    next_token: str | None


_MONEY_FIELDS = frozenset(
    {"amount", "allocated_amount", "written_off_amount", "paid_amount", "credited_amount"}
)
_DATE_FIELDS = frozenset({"created_on", "issue_date", "due_date", "received_on", "applied_on"})


def _present_page(page: history.TimelinePage) -> ShownPage:
    return ShownPage(
        entries=[_present(entry) for entry in page.entries],
        next_token=page.next_cursor.token() if page.next_cursor else None,
    )


def _present(entry: history.TimelineEntry) -> ShownEntry:
    if entry.kind == "touchpoint":
        kind = entry.touchpoint_kind or ""
        return ShownEntry(entry, _(labels.TOUCHPOINT_KIND_LABELS.get(kind, kind)), [])
    action = entry.action or ""
    title = _(labels.ACTION_LABELS[action]) if action in labels.ACTION_LABELS else action
    changes = [
        ShownChange(
            _(labels.FIELD_LABELS[c.field]) if c.field in labels.FIELD_LABELS else c.field,
            _value_text(c.field, c.before, entry),
            _value_text(c.field, c.after, entry),
        )
        for c in entry.changes
    ]
    return ShownEntry(entry, title, changes)


def _value_text(field: str, value: Any, entry: history.TimelineEntry) -> str | None:
    """A value of an audit snapshot as people read it, in the page's language."""
    if value is None or value == "":
        return None
    currency = entry.currency or "CNY"
    try:
        if field in _MONEY_FIELDS:
            return i18n.money(Decimal(str(value)), currency)
        if field in _DATE_FIELDS:
            return i18n.day(date.fromisoformat(str(value)))
        if field == "occurred_at":
            return (
                i18n.moment(datetime.fromisoformat(str(value)), style="yyyy-MM-dd HH:mm") + " UTC"
            )
    except (ValueError, ArithmeticError):
        return str(value)
    if field in labels.VALUE_LABELS:
        table = labels.VALUE_LABELS[field]
        return _(table[value]) if value in table else str(value)
    if field == "status":
        if entry.subject_type == "customer" and value in labels.STATUS_LABELS:
            return _(labels.STATUS_LABELS[value])
        return str(value).replace("_", " ")
    if field == "language":
        return i18n.LANGUAGE_NAMES.get(str(value), str(value))
    if field == "satisfaction":
        return f"{value}/5"
    if field == "installments" and isinstance(value, list):
        return "; ".join(
            f"{_value_text('due_date', item.get('due_date'), entry)} "
            f"{_value_text('amount', item.get('amount'), entry)}"
            for item in value
            if isinstance(item, dict)
        )
    if field == "allocations" and isinstance(value, list):
        return "; ".join(
            f"{item.get('invoice')}/{item.get('installment')} "
            f"{_value_text('amount', item.get('amount'), entry)}"
            for item in value
            if isinstance(item, dict)
        )
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value)


@router.get("/{code}/timeline", response_class=HTMLResponse)
def customer_timeline(
    code: str,
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    before: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """The next page of the timeline: its entries for "load more" (HTMX), or a page of its own
    without JavaScript."""
    customer = service.get_customer_by_code(session, code, actor=actor)
    cursor = history.Cursor.parse(before) if before else None
    page = _present_page(history.timeline_of(session, customer, before=cursor))
    context = {"customer": customer, "timeline": page, **_label_tables()}
    if _is_htmx(request):
        return render(request, "customers/_timeline_items.html", context, actor=actor)
    return render(request, "customers/timeline.html", context, actor=actor)


# ---------------------------------------------------------------- logging a touchpoint

_FORM_MESSAGES = {
    "kind": N_("Choose what kind of touchpoint it was."),
    "occurred_at": N_("Enter the date and time it happened, e.g. 2026-03-01 14:30."),
    "occurred_at_future": N_("The time is in the future: log a touchpoint once it happened."),
    "summary": N_("The summary can be at most 10,000 characters."),
    "satisfaction": N_("Satisfaction is a score from 1 to 5, or empty."),
    "contact_id": N_("Choose one of this account’s contacts, or nobody."),
    "duplicate": N_("This touchpoint is already on the timeline."),
}
# A clock a few minutes fast must not make "now" a time in the future.
_FUTURE_TOLERANCE = timedelta(minutes=10)


def _parse_touchpoint(form: Mapping[str, str]) -> tuple[TouchpointNew | None, dict[str, str]]:
    errors: dict[str, str] = {}
    kind = form["kind"] if form["kind"] in {k.value for k in TouchpointKind} else None
    if kind is None:
        errors["kind"] = _(_FORM_MESSAGES["kind"])
    contact_id: int | None = None
    if form["contact_id"]:
        try:
            contact_id = int(form["contact_id"])
        except ValueError:
            errors["contact_id"] = _(_FORM_MESSAGES["contact_id"])
    satisfaction: int | None = None
    if form["satisfaction"]:
        try:
            satisfaction = int(form["satisfaction"])
        except ValueError:
            errors["satisfaction"] = _(_FORM_MESSAGES["satisfaction"])
        else:
            if not 1 <= satisfaction <= 5:
                errors["satisfaction"] = _(_FORM_MESSAGES["satisfaction"])
    occurred_at: datetime | None = None
    try:
        moment = datetime.fromisoformat(form["occurred_at"].strip())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=_zone(form["tz"]) or UTC)
        occurred_at = moment.astimezone(UTC)
    except ValueError:
        errors["occurred_at"] = _(_FORM_MESSAGES["occurred_at"])
    else:
        if occurred_at > datetime.now(UTC) + _FUTURE_TOLERANCE:
            errors["occurred_at"] = _(_FORM_MESSAGES["occurred_at_future"])
    if len(form["summary"]) > 10_000:
        errors["summary"] = _(_FORM_MESSAGES["summary"])
    if errors or kind is None or occurred_at is None:
        return None, errors
    try:
        data = TouchpointNew(
            kind=TouchpointKind(kind),
            occurred_at=occurred_at,
            summary=form["summary"].strip() or None,
            satisfaction=satisfaction,
            contact_id=contact_id,
        )
    except ValidationError as exc:
        for problem in exc.errors():
            name = str(problem["loc"][0]) if problem["loc"] else "form"
            errors[name] = _(_FORM_MESSAGES.get(name, "")) or problem["msg"]
        return None, errors
    return data, {}


def _contacts(session: Session, actor: Actor, customer: Customer) -> Sequence[Contact]:
    contacts, _total = service.list_contacts(session, customer.code, actor=actor, limit=1_000)
    return contacts


@router.post("/{code}/touchpoints", response_class=HTMLResponse)
def log_touchpoint(
    code: str,
    request: Request,
    session: SessionDep,
    actor: TouchpointActor,
    kind: Annotated[str, Form(max_length=32)] = "",
    contact_id: Annotated[str, Form(max_length=32)] = "",
    occurred_at: Annotated[str, Form(max_length=64)] = "",
    tz: Annotated[str, Form(max_length=64)] = "UTC",
    summary: Annotated[str, Form(max_length=20_000)] = "",
    satisfaction: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """Log a touchpoint with the account (in the actor's scope). HTMX gets the form back,
    fresh or with the errors at their fields, and the timeline's first page alongside; a
    plain post is redirected to the 360 (or gets it again with the errors)."""
    customer = service.get_customer_by_code(session, code, actor=actor)
    form = {
        "kind": kind.strip(),
        "contact_id": contact_id.strip(),
        "occurred_at": occurred_at,
        "tz": tz.strip(),
        "summary": summary,
        "satisfaction": satisfaction.strip(),
    }
    data, errors = _parse_touchpoint(form)
    if data is not None:
        try:
            with session.begin_nested():
                service.log_touchpoint_on(session, actor=actor, code=customer.code, data=data)
        except ValidationFailed as exc:
            field = str(exc.details.get("field") or "form")
            errors[field] = _(_FORM_MESSAGES[field]) if field in _FORM_MESSAGES else exc.message
        except Conflict:
            errors["form"] = _(_FORM_MESSAGES["duplicate"])
        except NotFound as exc:
            if exc.details.get("field"):
                errors[str(exc.details["field"])] = exc.message
            else:
                raise
    htmx = _is_htmx(request)
    if errors:
        if htmx:
            context = {
                "customer": customer,
                "contacts": _contacts(session, actor, customer),
                "form": form,
                "errors": errors,
                "may_log": True,
                **_label_tables(),
            }
            return render(
                request, "customers/_touchpoint_form.html", context, actor=actor, status_code=422
            )
        context = _customer_360_context(
            session, actor, customer.code, _today(), form=form, errors=errors
        )
        return render(request, "customers/detail.html", context, actor=actor, status_code=422)
    message = _("Touchpoint logged.")
    if htmx:
        context = {
            "customer": customer,
            "contacts": _contacts(session, actor, customer),
            "form": _touchpoint_form_defaults(form["tz"] if _zone(form["tz"]) else "UTC"),
            "errors": {},
            "may_log": True,
            "logged": message,
            "timeline": _present_page(history.timeline_of(session, customer)),
            "refresh_timeline": True,
            **_label_tables(),
        }
        return render(request, "customers/_touchpoint_form.html", context, actor=actor)
    flash(request, message)
    return redirect(f"/customers/{customer.code}#timeline")
