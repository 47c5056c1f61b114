"""Next best action, the daily engine: the rules (``action_rules``: the facts they may test,
``FIELDS``, their validation and the shipped defaults, re-exported here) turned into ranked
actions for each account's owner without duplicates or spam.

A fact that is missing (no NPS answer, no credit grade, no CLV) satisfies no condition, not
even ``ne`` or ``not_in``: a rule never fires on what is not known.

The engine (``run``), after the day's loyalty scores are written:

1. reads every account's facts in a few grouped statements (``action_facts.read_facts``) and
   evaluates each rule over all accounts at once (numpy masks);
2. expires open actions whose rule no longer holds for the account once they have been open
   ``EXPIRE_AFTER_DAYS`` days (the grace keeps a one-day dip from closing them);
3. opens an action for each account a rule holds for, unless the same rule opened one for the
   account less than its ``cooldown_days`` ago (whatever became of it) or one is still open;
4. keeps at most ``MAX_OPEN_PER_ACCOUNT`` open per account: the best ranked new ones fill the
   free places. Rank (``score``) = the rule's priority × the account's value at stake, the
   larger of its CLV and its last 12 months' revenue (at least 1), so a rep works the most
   valuable accounts' most urgent actions first;
5. opens at most ``MAX_NEW_PER_OWNER_PER_DAY`` new actions a day for each owner (accounts
   without one count as one owner): the best ranked; the rest stay candidates for the next
   days, so a rep's list grows by a day's work at most, not by a backlog at once.

Running the same day again opens nothing (cooldowns are at least a day; the dedupe key
``nba:<rule id>:<customer id>:<day>`` is unique besides). Opening and expiring are not audited
one by one: the action row itself says which rule opened it on which day, and when it expired.
"""

from __future__ import annotations

import math
import time as timer
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from sqlalchemy import Integer, Table, case, func, insert, or_, select, update
from sqlalchemy.orm import Session

from flywheel.config import Settings
from flywheel.errors import ValidationFailed
from flywheel.loyalty.action_facts import AccountFacts, read_facts
from flywheel.loyalty.action_rules import (
    DEFAULT_RULES,
    FIELDS,
    MAX_CONDITIONS,
    OPERATORS,
    SET_OPERATORS,
    FactField,
    FieldKind,
    check_conditions,
    chip,
    chips,
    describe_condition,
    ensure_default_rules,
    fields_of,
)
from flywheel.loyalty.frame import LoyaltyFrame
from flywheel.models.enums import NextActionStatus
from flywheel.models.loyalty import NextAction, NextActionRule
from flywheel.receivables.ledger_columns import EPOCH, _day_sql, _rows

__all__ = [
    "DEFAULT_RULES",
    "EXPIRE_AFTER_DAYS",
    "FIELDS",
    "MAX_CONDITIONS",
    "MAX_NEW_PER_OWNER_PER_DAY",
    "MAX_OPEN_PER_ACCOUNT",
    "OPERATORS",
    "FactField",
    "FieldKind",
    "RunResult",
    "check_conditions",
    "chip",
    "chips",
    "describe_condition",
    "ensure_default_rules",
    "evaluate",
    "fields_of",
    "run",
    "run_result",
    "value_at_stake",
]

BoolArray = npt.NDArray[np.bool_]

MAX_OPEN_PER_ACCOUNT = 2
MAX_NEW_PER_OWNER_PER_DAY = 10
EXPIRE_AFTER_DAYS = 14
_CHUNK = 900  # ids per IN (...): below SQLite's bound-parameter limit


# ----------------------------------------------------------------------------- evaluation


class _Masks:
    """Evaluates conditions over every account of ``facts``; choice columns are turned into
    position codes once (-1: missing or unknown)."""

    def __init__(self, facts: AccountFacts) -> None:
        self.facts = facts
        self._codes: dict[str, npt.NDArray[np.int64]] = {}
        self._held: dict[int, BoolArray] = {}

    def codes(self, name: str) -> npt.NDArray[np.int64]:
        if name not in self._codes:
            column = self.facts.values[name]
            codes = np.full(len(self.facts), -1, dtype=np.int64)
            for position, choice in enumerate(FIELDS[name].choices):
                codes[column == choice.value] = position
            self._codes[name] = codes
        return self._codes[name]

    def one(self, condition: Mapping[str, Any]) -> BoolArray:
        spec = FIELDS[condition["field"]]
        op, value = condition["op"], condition["value"]
        if spec.kind == FieldKind.CHOICE:
            column: npt.NDArray[Any] = self.codes(spec.name)
            known = column >= 0
            position = {c.value: i for i, c in enumerate(spec.choices)}
            target: Any = [position[v] for v in value] if op in SET_OPERATORS else position[value]
        elif spec.kind == FieldKind.FLAG:
            column = self.facts.values[spec.name].astype(bool)
            known = np.ones(column.size, dtype=bool)
            target = bool(value)
        else:
            column = self.facts.values[spec.name].astype(np.float64)
            known = ~np.isnan(column)
            target = [float(v) for v in value] if op in SET_OPERATORS else float(value)
        result: BoolArray
        with np.errstate(invalid="ignore"):
            if op == "eq":
                result = column == target
            elif op == "ne":
                result = column != target
            elif op == "lt":
                result = column < target
            elif op == "le":
                result = column <= target
            elif op == "gt":
                result = column > target
            elif op == "ge":
                result = column >= target
            elif op == "in":
                result = np.isin(column, target)
            else:
                result = ~np.isin(column, target)
        return np.asarray(result, dtype=bool) & known

    def cached(self, condition: Mapping[str, Any]) -> BoolArray:
        # Checked conditions live as long as the run: their identity is the key.
        key = id(condition)
        if key not in self._held:
            self._held[key] = self.one(condition)
        return self._held[key]

    def reasons(
        self, conditions: Sequence[Mapping[str, Any]], rows: npt.NDArray[np.int64]
    ) -> list[list[list[Any]]]:
        """[[field, value], …] per account of ``rows`` the conditions hold for: every field
        tested, and of an "any" group only the alternatives that held."""
        entries: list[tuple[str, BoolArray | None]] = []
        for item in conditions:
            if "any" in item:
                entries.extend((alt["field"], self.cached(alt)[rows]) for alt in item["any"])
            else:
                entries.append((item["field"], None))
        columns = {
            name: _json_column(FIELDS[name], self.facts.values[name][rows])
            for name in {name for name, _mask in entries}
        }
        out: list[list[list[Any]]] = []
        for i in range(rows.size):
            names: list[str] = []
            for name, mask in entries:
                if (mask is None or mask[i]) and name not in names:
                    names.append(name)
            out.append([[name, columns[name][i]] for name in names])
        return out

    def all(self, conditions: Sequence[Mapping[str, Any]]) -> BoolArray:
        held = np.ones(len(self.facts), dtype=bool)
        for item in conditions:
            if "any" in item:
                either = np.zeros(len(self.facts), dtype=bool)
                for alternative in item["any"]:
                    either |= self.cached(alternative)
                held &= either
            else:
                held &= self.cached(item)
        return held


def evaluate(facts: AccountFacts, conditions: Sequence[Mapping[str, Any]]) -> BoolArray:
    """Per account of ``facts``, whether every condition holds (conditions already checked)."""
    return _Masks(facts).all(conditions)


def value_at_stake(facts: AccountFacts) -> npt.NDArray[np.float64]:
    """The larger of CLV and the last 12 months' revenue, at least 1 (currency units)."""
    clv = np.nan_to_num(facts.values["clv"], nan=0.0)
    revenue = np.nan_to_num(facts.values["revenue_12m"], nan=0.0)
    stake: npt.NDArray[np.float64] = np.maximum(np.maximum(clv, revenue), 1.0)
    return stake


def _jsonable(spec: FactField, value: Any) -> Any:
    if value is None:
        return None
    if spec.kind == FieldKind.FLAG:
        return bool(value)
    if spec.kind == FieldKind.CHOICE:
        return str(value)
    number = float(value)
    if math.isnan(number):
        return None
    if spec.unit == "money":
        return round(number, 2)
    if number.is_integer():
        return int(number)
    return round(number, 4)


def _json_column(spec: FactField, values: npt.NDArray[Any]) -> list[Any]:
    """A column of facts as the JSON of a reason: money to the cent, other numbers to four
    places (whole ones as integers), missing ones as null."""
    if spec.kind != FieldKind.NUMBER:
        return [_jsonable(spec, v) for v in values.tolist()]
    rounded = np.round(values.astype(np.float64), 2 if spec.unit == "money" else 4)
    out: list[Any] = []
    for number in rounded.tolist():
        if number != number:  # NaN: not known
            out.append(None)
        elif spec.unit != "money" and number.is_integer():
            out.append(int(number))
        else:
            out.append(number)
    return out


# ----------------------------------------------------------------------------- the engine


@dataclass
class RunResult:
    as_of: date
    accounts: int = 0
    rules: int = 0
    invalid_rules: list[str] = field(default_factory=list)
    matched: int = 0
    opened: int = 0
    opened_by_action: dict[str, int] = field(default_factory=dict)
    cooling_down: int = 0
    over_cap: int = 0
    over_owner_cap: int = 0
    expired: int = 0
    open_now: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "accounts": self.accounts,
            "rules": self.rules,
            "invalid_rules": self.invalid_rules,
            "matched": self.matched,
            "opened": self.opened,
            "opened_by_action": self.opened_by_action,
            "skipped_cooldown": self.cooling_down,
            "skipped_cap": self.over_cap,
            "skipped_owner_cap": self.over_owner_cap,
            "expired": self.expired,
            "open": self.open_now,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


def _pair_keys(customer_ids: npt.ArrayLike, rule_ids: npt.ArrayLike) -> npt.NDArray[np.int64]:
    # Rule ids are few and small; 2**24 of them leaves 2**39 for customer ids.
    return np.asarray(customer_ids, dtype=np.int64) * (1 << 24) + np.asarray(
        rule_ids, dtype=np.int64
    )


def run(
    session: Session,
    *,
    as_of: date,
    settings: Settings,
    now: datetime | None = None,
    frame: LoyaltyFrame | None = None,
) -> dict[str, Any]:
    """Expire, then open, the day's next best actions (see the module's docstring); returns
    the counts for ``flywheel run --json``. ``now`` stamps the expired ones' ``closed_at``;
    ``frame``, the loyalty cycle's read of the purchase days, spares reading the orders."""
    return run_result(session, as_of=as_of, settings=settings, now=now, frame=frame).as_dict()


def run_result(
    session: Session,
    *,
    as_of: date,
    settings: Settings,
    now: datetime | None = None,
    frame: LoyaltyFrame | None = None,
) -> RunResult:
    started = timer.perf_counter()
    result = RunResult(as_of=as_of)
    moment = now or datetime.now(UTC)
    ensure_default_rules(session)
    checked: dict[int, list[dict[str, Any]]] = {}
    rules = list(session.scalars(select(NextActionRule).order_by(NextActionRule.id)))
    for rule in rules:
        try:
            checked[rule.id] = check_conditions(rule.conditions)
        except ValidationFailed:
            result.invalid_rules.append(rule.code)
    active = [r for r in rules if r.active and r.id in checked]
    result.rules = len(active)
    result.seconds["rules"] = timer.perf_counter() - started

    step = timer.perf_counter()
    facts = read_facts(session, as_of=as_of, settings=settings, frame=frame)
    result.accounts = len(facts)
    for key, value in facts.timings.items():
        result.seconds[f"read_{key}"] = value
    result.seconds["read"] = timer.perf_counter() - step

    step = timer.perf_counter()
    masks = _Masks(facts)
    held = {rule_id: masks.all(conditions) for rule_id, conditions in checked.items()}
    result.seconds["evaluate"] = timer.perf_counter() - step

    step = timer.perf_counter()
    as_of_day = (as_of - EPOCH).days
    dialect = session.get_bind().dialect.name
    open_rows = _open_actions(session, dialect)  # id, rule id, customer id, created day
    row, found = facts.rows_of(open_rows[:, 2])
    still = np.zeros(open_rows.shape[0], dtype=bool)
    for rule_id, mask in held.items():
        mine = found & (open_rows[:, 1] == rule_id)
        still[mine] = mask[row[mine]]
    stale = ~still & (open_rows[:, 3] <= as_of_day - EXPIRE_AFTER_DAYS)
    expired_ids = open_rows[stale, 0]
    session.flush()
    for start in range(0, expired_ids.size, _CHUNK):
        chunk = expired_ids[start : start + _CHUNK].tolist()
        session.execute(
            update(NextAction)
            .where(NextAction.id.in_(chunk), NextAction.status == NextActionStatus.OPEN.value)
            .values(status=NextActionStatus.EXPIRED.value, closed_at=moment)
            .execution_options(synchronize_session=False)
        )
    result.expired = int(expired_ids.size)
    result.seconds["expire"] = timer.perf_counter() - step

    step = timer.perf_counter()
    kept_open = open_rows[~stale]
    open_count = np.zeros(len(facts), dtype=np.int64)
    row, found = facts.rows_of(kept_open[:, 2])
    np.add.at(open_count, row[found], 1)

    cand_row: list[npt.NDArray[np.int64]] = []
    cand_rule: list[npt.NDArray[np.int64]] = []
    for position, rule in enumerate(active):
        rows_held = np.flatnonzero(held[rule.id])
        cand_row.append(rows_held.astype(np.int64))
        cand_rule.append(np.full(rows_held.size, position, dtype=np.int64))
    rows_all = np.concatenate(cand_row) if cand_row else np.zeros(0, dtype=np.int64)
    rule_pos = np.concatenate(cand_rule) if cand_rule else np.zeros(0, dtype=np.int64)
    result.matched = int(rows_all.size)

    rule_ids = np.asarray([r.id for r in active], dtype=np.int64)
    cooldowns = np.asarray([r.cooldown_days for r in active], dtype=np.int64)
    priorities = np.asarray([r.priority for r in active], dtype=np.float64)
    longest = int(cooldowns.max()) if cooldowns.size else 0
    recent = _recent_pairs(session, dialect, as_of - timedelta(days=longest))
    blocked = np.zeros(rows_all.size, dtype=bool)
    if rows_all.size and recent.shape[0]:
        recent_keys = _pair_keys(recent[:, 0], recent[:, 1])
        order = np.argsort(recent_keys)
        recent_keys, recent = recent_keys[order], recent[order]
        keys = _pair_keys(facts.customer_id[rows_all], rule_ids[rule_pos])
        at = np.minimum(np.searchsorted(recent_keys, keys), recent_keys.size - 1)
        hit = recent_keys[at] == keys
        last_day, any_open = recent[at, 2], recent[at, 3] > 0
        blocked = hit & (any_open | (as_of_day - last_day < cooldowns[rule_pos]))
    result.cooling_down = int(blocked.sum())
    rows_all, rule_pos = rows_all[~blocked], rule_pos[~blocked]

    score = priorities[rule_pos] * value_at_stake(facts)[rows_all]
    # Best first within each account: score, then priority, then the older rule.
    order = np.lexsort((rule_ids[rule_pos], -priorities[rule_pos], -score, rows_all))
    rows_all, rule_pos, score = rows_all[order], rule_pos[order], score[order]
    first = np.r_[True, rows_all[1:] != rows_all[:-1]] if rows_all.size else np.zeros(0, bool)
    group_start = np.maximum.accumulate(np.where(first, np.arange(rows_all.size), 0))
    rank = np.arange(rows_all.size) - group_start
    room = MAX_OPEN_PER_ACCOUNT - open_count[rows_all]
    keep = rank < room
    result.over_cap = int((~keep).sum())
    rows_all, rule_pos, score = rows_all[keep], rule_pos[keep], score[keep]
    # A day's work per owner: the best ranked across his accounts.
    owners = facts.owner_id[rows_all]
    order = np.lexsort((-score, owners))
    rows_all, rule_pos, score, owners = (
        rows_all[order],
        rule_pos[order],
        score[order],
        owners[order],
    )
    first = np.r_[True, owners[1:] != owners[:-1]] if owners.size else np.zeros(0, bool)
    group_start = np.maximum.accumulate(np.where(first, np.arange(owners.size), 0))
    # Less what an earlier run of the same day opened for him: a rerun opens nothing new.
    done_today = _opened_on(session, as_of)
    room_today = MAX_NEW_PER_OWNER_PER_DAY - np.fromiter(
        (done_today.get(int(o), 0) for o in owners.tolist()), dtype=np.int64, count=owners.size
    )
    keep = np.arange(owners.size) - group_start < room_today
    result.over_owner_cap = int((~keep).sum())
    rows_all, rule_pos, score = rows_all[keep], rule_pos[keep], score[keep]
    result.seconds["rank"] = timer.perf_counter() - step

    step = timer.perf_counter()
    new_rows: list[dict[str, Any]] = []
    status_open = NextActionStatus.OPEN.value
    for position, rule in enumerate(active):
        mine = rule_pos == position
        accounts, scores = rows_all[mine], score[mine]
        if not accounts.size:
            continue
        reasons = masks.reasons(checked[rule.id], accounts)
        due_on = as_of + timedelta(days=rule.due_days)
        customer_ids = facts.customer_id[accounts].tolist()
        owners = facts.owner_id[accounts].tolist()
        for customer_id, owner, rank_score, reason in zip(
            customer_ids, owners, scores.tolist(), reasons, strict=True
        ):
            new_rows.append(
                {
                    "customer_id": customer_id,
                    "rule_id": rule.id,
                    "dedupe_key": f"nba:{rule.id}:{customer_id}:{as_of.isoformat()}",
                    "action": rule.action,
                    "owner_id": owner or None,
                    "score": rank_score,
                    "reason": reason,
                    "status": status_open,
                    "created_on": as_of,
                    "due_on": due_on,
                }
            )
        result.opened_by_action[rule.action] = result.opened_by_action.get(rule.action, 0) + int(
            accounts.size
        )
    if new_rows:
        session.execute(insert(cast(Table, NextAction.__table__)), new_rows)
    result.opened = len(new_rows)
    result.open_now = int(kept_open.shape[0]) + result.opened
    session.flush()
    session.expire_all()
    result.seconds["write"] = timer.perf_counter() - step
    result.seconds["total"] = timer.perf_counter() - started
    return result


def _opened_on(session: Session, day: date) -> dict[int, int]:
    """Actions opened on ``day`` per owner (0: accounts without one)."""
    rows = session.execute(
        select(NextAction.owner_id, func.count())
        .where(NextAction.created_on == day)
        .group_by(NextAction.owner_id)
    ).all()
    return {int(owner or 0): int(count) for owner, count in rows}


def _open_actions(session: Session, dialect: str) -> npt.NDArray[np.int64]:
    rows = _rows(
        session,
        select(
            NextAction.id,
            NextAction.rule_id,
            NextAction.customer_id,
            _day_sql(NextAction.created_on, dialect),
        ).where(NextAction.status == NextActionStatus.OPEN.value),
    )
    return np.asarray(rows, dtype=np.int64).reshape(len(rows), 4)


def _recent_pairs(session: Session, dialect: str, since: date) -> npt.NDArray[np.int64]:
    """Per (customer, rule) with an action opened since ``since`` or still open: customer id,
    rule id, the day the last one was opened, and how many are open."""
    opened = func.max(_day_sql(NextAction.created_on, dialect))
    is_open = func.sum(case((NextAction.status == NextActionStatus.OPEN.value, 1), else_=0)).cast(
        Integer
    )
    rows = _rows(
        session,
        select(NextAction.customer_id, NextAction.rule_id, opened, is_open)
        .where(
            or_(
                NextAction.created_on >= since,
                NextAction.status == NextActionStatus.OPEN.value,
            )
        )
        .group_by(NextAction.customer_id, NextAction.rule_id),
    )
    return np.asarray(rows, dtype=np.int64).reshape(len(rows), 4)
