"""The dashboard's KPI targets: set or clear the company's target for one figure, checked against
the figure's unit, with an audit event in the caller's transaction."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from flywheel.audit import service as audit
from flywheel.auth import permissions
from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.errors import ValidationFailed
from flywheel.insights.figures import KPI_BY_CODE, Kpi
from flywheel.models.insights import KpiTarget

AUDITED = ("kpi", "value")


@dataclass(frozen=True, slots=True)
class Bounds:
    """The values a target may take (both ends included)."""

    low: float
    high: float


# What a target of each unit may be: a share is a per cent, NPS runs from -100 to 100, a
# duration up to ten years of days or one year of hours; counts and money are not negative.
UNIT_BOUNDS: dict[str, Bounds] = {
    "percent": Bounds(0.0, 100.0),
    "score": Bounds(-100.0, 100.0),
    "count": Bounds(0.0, 1e9),
    "money": Bounds(0.0, 1e15),
    "days": Bounds(0.0, 3650.0),
    "hours": Bounds(0.0, 8760.0),
}
# Per cents that may pass 100: net revenue retention counts expansion on top of what was kept.
KPI_BOUNDS: dict[str, Bounds] = {"nrr": Bounds(0.0, 1000.0)}


class InvalidTarget(ValidationFailed):
    """A target that cannot be set: ``details`` carry ``kpi`` and ``reason`` (unknown_kpi,
    not_a_number, out_of_range) and, when out of range, ``low`` and ``high``."""

    code = "invalid_kpi_target"


def bounds_of(kpi: Kpi) -> Bounds:
    return KPI_BOUNDS.get(kpi.code) or UNIT_BOUNDS[kpi.unit]


def known_kpi(code: str) -> Kpi:
    """The KPI of ``code``; an unknown code is an ``InvalidTarget``."""
    text = (code or "").strip()
    kpi = KPI_BY_CODE.get(text)
    if kpi is None:
        raise InvalidTarget(
            f"{text or '(empty)'}: not a dashboard figure",
            field="kpi",
            kpi=text,
            reason="unknown_kpi",
        )
    return kpi


def checked_value(kpi: Kpi, value: float | int | str | Decimal) -> float:
    """``value`` as a finite number inside the KPI's bounds (text may group thousands with
    commas), else an ``InvalidTarget`` naming the KPI and the reason."""
    number: float | None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, str):
        text = value.strip().replace(",", "").replace("，", "")
        try:
            number = float(Decimal(text)) if text else None
        except InvalidOperation:
            number = None
    else:
        number = float(value)
    if number is None or not math.isfinite(number):
        raise InvalidTarget(
            f"{kpi.code}: the target must be a number, not {value!r}",
            field="value",
            kpi=kpi.code,
            reason="not_a_number",
            value=str(value),
        )
    limits = bounds_of(kpi)
    if not limits.low <= number <= limits.high:
        raise InvalidTarget(
            f"{kpi.code}: the target must lie between {limits.low:g} and {limits.high:g} "
            f"({kpi.unit}), not {number:g}",
            field="value",
            kpi=kpi.code,
            reason="out_of_range",
            value=number,
            low=limits.low,
            high=limits.high,
        )
    return number


def current(session: Session) -> dict[str, KpiTarget]:
    """Every target set, by KPI code."""
    return {t.kpi: t for t in session.scalars(select(KpiTarget))}


def _target_for_update(session: Session, code: str) -> KpiTarget | None:
    return session.scalar(select(KpiTarget).where(KpiTarget.kpi == code).with_for_update())


def set_target(
    session: Session, *, actor: Actor, kpi: str, value: float | int | str | Decimal
) -> tuple[KpiTarget, bool]:
    """Set the target of ``kpi``; returns (target, changed). An unchanged value writes
    nothing. Flushes, never commits."""
    permissions.check(actor, Permission.SET_KPI_TARGETS)
    figure = known_kpi(kpi)
    number = checked_value(figure, value)
    target = _target_for_update(session, figure.code)
    if target is None:
        try:
            with session.begin_nested():
                target = KpiTarget(kpi=figure.code, value=number, updated_by_id=actor.user_id)
                session.add(target)
        except IntegrityError:
            # Someone set it between our read and our insert: change theirs.
            target = _target_for_update(session, figure.code)
            if target is None:
                raise
        else:
            audit.record(
                session,
                actor,
                "kpi_target.set",
                subject_type="kpi_target",
                subject_id=target.id,
                customer_id=None,
                after=audit.snapshot(target, AUDITED),
            )
            session.flush()
            return target, True
    if target.value == number:
        return target, False
    audit.apply_update(
        session,
        actor,
        target,
        {"value": number, "updated_by_id": actor.user_id},
        action="kpi_target.set",
        subject_type="kpi_target",
        customer_id=None,
        fields=AUDITED,
    )
    return target, True


def clear_target(session: Session, *, actor: Actor, kpi: str) -> bool:
    """Remove the target of ``kpi``; returns whether there was one. Flushes, never commits."""
    permissions.check(actor, Permission.SET_KPI_TARGETS)
    figure = known_kpi(kpi)
    target = _target_for_update(session, figure.code)
    if target is None:
        return False
    audit.record(
        session,
        actor,
        "kpi_target.cleared",
        subject_type="kpi_target",
        subject_id=target.id,
        customer_id=None,
        before=audit.snapshot(target, AUDITED),
    )
    session.delete(target)
    session.flush()
    return True
