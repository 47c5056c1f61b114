"""The demo's survey history as arrays: which contact each campaign invited on which day, the
protection rules, who answered when and with which score, comments and opt-outs. No database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from flywheel.demo.accounts import MICROS_PER_DAY
from flywheel.demo.feedback_comments import Comments, compose_comments, main_reasons, scores_from
from flywheel.demo.seasons import EPOCH, to_day
from flywheel.demo.tables import (
    NULLABLE_TEXT,
    TEXT,
    BoolArray,
    Float64Array,
    Int64Array,
    TextArray,
    join,
    texts,
)
from flywheel.feedback import surveys
from flywheel.models.enums import InvitationStatus, ScoreBand, SkipReason, SurveyKind

MICROS_PER_HOUR = 3_600_000_000
OPT_OUT_SHARE = 0.012  # of the invitations sent, the contact asked never to be surveyed again
PURPOSES = ("nps_key", "nps_base", "csat_delivery", "support", "ces_dispute")
NPS_KEY, NPS_BASE, CSAT_DELIVERY, SUPPORT, CES_DISPUTE = range(len(PURPOSES))
WAVE_MONTHS = {3: 0, 12: 10}  # every N months: month index (0 = January) modulo N of a wave
DISPUTES = -1  # key of the settled disputes among ``Company.events``
JOURNEY: dict[int, str] = {
    CSAT_DELIVERY: "delivery",
    SUPPORT: "support",
    CES_DISPUTE: "support",
}


@dataclass(frozen=True, slots=True)
class Program:
    """One campaign the history is made of, with what the generator needs to know of it."""

    purpose: str
    campaign_id: int
    survey_id: int
    kind: str
    touchpoint_kind: str | None
    delay_days: int
    reminder_after_days: int | None
    expires_after_days: int
    sample_rate: float
    buying_roles: tuple[str, ...] = ()  # empty: every contact


@dataclass(slots=True)
class Company:
    """The columns of the written company that the feedback history depends on.

    Customer arrays are indexed by customer id; events are (customer, contact row, day, …)."""

    tier: Int64Array  # 0 key, 1 growth, 2 standard
    abroad: BoolArray
    remote: BoolArray  # regions far from the warehouses
    owner: Int64Array
    satisfaction: Float64Array
    referral: Float64Array
    created_day: Int64Array
    churn_day: Int64Array
    manager_id: int
    contact_id: Int64Array
    contact_customer: Int64Array
    contact_role: TextArray
    contact_english: BoolArray
    contact_day: Int64Array
    contact_start: Int64Array  # by customer id: first contact row, and how many
    contact_count: Int64Array
    events: dict[int, dict[str, Any]] = field(default_factory=dict)  # purpose -> columns
    disputes: dict[str, Any] = field(default_factory=dict)


TIER_INDEX = {"key": 0, "growth": 1, "standard": 2}
ABROAD_REGIONS = {"东南亚", "日韩", "欧洲", "北美", "中东"}
REMOTE_REGIONS = {"西北", "东北", "西南"}


def date_of(day: int) -> date:
    return date(1970, 1, 1) + timedelta(days=int(day))


# ----------------------------------------------------------------------------- the history


@dataclass(slots=True)
class History:
    """Invitations (one row each) and, for the answered ones, the answer columns."""

    programs: list[Program]
    purpose: Int64Array
    customer: Int64Array
    contact: Int64Array  # contact row
    ref: TextArray
    send_day: Int64Array
    status: TextArray
    skip_reason: TextArray
    sent_at: np.typing.NDArray[np.datetime64]
    reminded_at: np.typing.NDArray[np.datetime64]
    expires_at: np.typing.NDArray[np.datetime64]
    answered_at: np.typing.NDArray[np.datetime64]
    nonce: list[str]
    contact_id: Int64Array
    english: BoolArray
    # Answers: rows of the answered invitations.
    answered: Int64Array
    score: Int64Array
    band: TextArray
    comments: Comments
    main_reason: TextArray
    thanked_at: np.typing.NDArray[np.datetime64]
    referral_asked: BoolArray
    opt_out_rows: Int64Array
    opt_out_at: np.typing.NDArray[np.datetime64]
    now: datetime
    contact_role: TextArray


def build_history(
    rng: np.random.Generator,
    company: Company,
    programs: list[Program],
    *,
    start_day: int,
    now: datetime,
) -> History:
    """Invitations of every campaign over the period, the protection rules, answers, comments."""
    purpose, customer, contact, day, ref, extra = _candidates(
        rng, company, programs, start_day, to_day(now.date())
    )
    now_day = to_day(now.date())
    alive = (day <= now_day) & (day >= start_day) & (day < company.churn_day[customer])
    alive &= (day >= company.created_day[customer]) & (day >= company.contact_day[contact])
    keep = np.flatnonzero(alive)
    purpose, customer, contact, day = purpose[keep], customer[keep], contact[keep], day[keep]
    ref = ref[keep]
    extra = {k: v[keep] for k, v in extra.items()}
    order = np.lexsort((purpose, day, contact))
    purpose, customer, contact, day = purpose[order], customer[order], contact[order], day[order]
    ref = ref[order]
    extra = {k: v[order] for k, v in extra.items()}
    n = len(purpose)

    skipped = _recently_surveyed(contact, day, gap=90)
    status = np.full(n, InvitationStatus.SENT.value, dtype=TEXT)
    skip_reason = np.full(n, None, dtype=NULLABLE_TEXT)
    status[skipped] = InvitationStatus.SKIPPED.value
    skip_reason[skipped] = SkipReason.RECENTLY_SURVEYED.value

    sat = company.satisfaction[customer]
    now_us = np.datetime64(now.replace(tzinfo=None), "us")
    sent_at = day * MICROS_PER_DAY + MICROS_PER_HOUR + rng.integers(0, 2 * MICROS_PER_HOUR, n)
    sent_at = sent_at.astype("datetime64[us]")
    expires_days = np.array([p.expires_after_days for p in programs], dtype=np.int64)[purpose]
    remind_days = np.array([p.reminder_after_days or 0 for p in programs], dtype=np.int64)[purpose]
    expires_at = sent_at + (expires_days * MICROS_PER_DAY).astype("timedelta64[us]")

    # Opt-outs: a few unhappy contacts click "never again" on an invitation.
    sent = ~skipped
    chance = OPT_OUT_SHARE * 2.0 * (1.15 - sat)
    opting = sent & (rng.random(n) < chance)
    first_opt = _first_per_group(contact, opting)
    opt_out_rows = np.flatnonzero(first_opt)
    # The page skips the contact's waiting invitations, the one clicked on included.
    status[opt_out_rows] = InvitationStatus.SKIPPED.value
    skip_reason[opt_out_rows] = SkipReason.OPTED_OUT.value
    opt_out_at = (sent_at[opt_out_rows] + np.timedelta64(3, "h")).astype("datetime64[us]")
    cut = np.full(len(company.contact_id), np.iinfo(np.int64).max, dtype=np.int64)
    cut[contact[opt_out_rows]] = day[opt_out_rows]
    later = day > cut[contact]
    status[later] = InvitationStatus.SKIPPED.value
    skip_reason[later] = SkipReason.OPTED_OUT.value
    sent = ~(skipped | later)

    # Who answers and when: happier and key-account contacts answer more (~25–40%).
    tier = company.tier[customer]
    english = company.contact_english[contact]
    p_answer = np.clip(
        0.10 + 0.32 * sat + np.where(tier == 0, 0.06, 0.0) - 0.04 * english, 0.03, 0.8
    )
    answers = sent & ~first_opt & (rng.random(n) < p_answer)
    after_reminder = rng.random(n) < 0.25
    delay_h = np.where(
        after_reminder,
        remind_days * 24 + rng.exponential(30.0, n),
        rng.exponential(20.0, n) + 0.1,
    )
    delay_h = np.minimum(delay_h, expires_days * 24 - 1)
    answered_at = sent_at + (delay_h * MICROS_PER_HOUR).astype(np.int64).astype("timedelta64[us]")
    answers &= answered_at <= now_us
    remind_at = sent_at + (remind_days * MICROS_PER_DAY).astype("timedelta64[us]")
    reminded = (
        sent & (remind_days > 0) & (remind_at <= now_us) & (~answers | (answered_at > remind_at))
    )
    nat = np.datetime64("NaT", "us")
    status[answers] = InvitationStatus.ANSWERED.value
    expired = sent & ~first_opt & ~answers & (expires_at <= now_us)
    status[expired] = InvitationStatus.EXPIRED.value

    rows = np.flatnonzero(answers)
    score, band, effects = _scores(rng, company, programs, purpose[rows], customer[rows], day[rows],
                                   {k: v[rows] for k, v in extra.items()})  # fmt: skip
    comments = compose_comments(
        rng,
        english=english[rows],
        band=band,
        purpose=purpose[rows],
        late=extra["late"][rows],
        low=effects < 0.45,
    )
    main_reason = main_reasons(rng, comments, purpose[rows], purpose[rows] <= NPS_BASE)
    promoter = band == ScoreBand.PROMOTER.value
    thanked_at = np.where(promoter, answered_at[rows] + np.timedelta64(10, "m"), nat)
    referral_asked = _referral_asks(rng, contact[rows], day[rows], promoter,
                                    company.referral[customer[rows]])  # fmt: skip
    return History(
        programs=programs,
        purpose=purpose,
        customer=customer,
        contact=contact,
        ref=ref,
        send_day=day,
        status=status,
        skip_reason=skip_reason,
        sent_at=np.where(sent, sent_at, nat),
        reminded_at=np.where(reminded, remind_at, nat),
        expires_at=np.where(sent, expires_at, nat),
        answered_at=np.where(answers, answered_at, nat),
        nonce=_nonces(rng, n),
        contact_id=company.contact_id[contact],
        english=english,
        answered=rows,
        score=score,
        band=band,
        comments=comments,
        main_reason=main_reason,
        thanked_at=thanked_at,
        referral_asked=referral_asked,
        opt_out_rows=opt_out_rows,
        opt_out_at=opt_out_at,
        now=now,
        contact_role=company.contact_role[contact],
    )


def wave_days(start_day: int, end_day: int, every_months: int) -> Int64Array:
    """First days of the months a relationship survey goes out: quarterly in January, April,
    July and October; yearly in November (before the budget talks)."""
    months = np.arange(
        np.datetime64(date_of(start_day), "M"), np.datetime64(date_of(end_day), "M") + 1
    )
    phase = WAVE_MONTHS.get(every_months, 0) % every_months
    wanted = months[(months.astype(np.int64) % every_months) == phase]
    days: Int64Array = ((wanted.astype("datetime64[D]") - EPOCH) // np.timedelta64(1, "D")).astype(
        np.int64
    )
    return days[(days >= start_day) & (days <= end_day)]


def _candidates(
    rng: np.random.Generator,
    company: Company,
    programs: list[Program],
    start_day: int,
    end_day: int,
) -> tuple[Int64Array, Int64Array, Int64Array, Int64Array, TextArray, dict[str, Any]]:
    """Every (campaign, contact, day) that a campaign would have invited, before the rules."""
    parts: list[tuple[int, Int64Array, Int64Array, TextArray, dict[str, Any]]] = []
    # Relationship NPS waves: every quarter for key accounts (all stakeholders), every year for
    # the decision makers of the others (sampled).
    for stage, every in ((NPS_KEY, 3), (NPS_BASE, 12)):
        waves = wave_days(start_day, end_day, every)
        if stage == NPS_KEY:
            roles = programs[stage].buying_roles
            rows = np.flatnonzero(
                (company.tier[company.contact_customer] == 0)
                & (np.isin(company.contact_role, texts(list(roles))) if roles else True)
            )
        else:
            rows = np.flatnonzero(
                (company.tier[company.contact_customer] != 0)
                & (company.contact_role == "decision_maker")
            )
        contact = np.repeat(rows, len(waves))
        day = np.tile(waves, len(rows))
        if stage == NPS_BASE:
            chosen = rng.random(len(contact)) < programs[stage].sample_rate
            contact, day = contact[chosen], day[chosen]
        ref = join("schedule:", np.datetime_as_string(day.astype("datetime64[D]")).astype(TEXT))
        parts.append((stage, contact, day, ref, {}))
    for stage in (CSAT_DELIVERY, SUPPORT, CES_DISPUTE):
        event = company.events[stage]
        customer = event["customer"]
        contact = _any_contact(
            rng,
            company,
            customer,
            prefer="finance" if stage == CES_DISPUTE else "user",
            share=1.0 if stage == CES_DISPUTE else 0.7,
        )
        if stage == SUPPORT:
            named = _contact_rows(company, event["contact_id"])
            contact = np.where(named >= 0, named, contact)
        has = contact >= 0
        day = event["day"] + programs[stage].delay_days
        extra: dict[str, Any] = {k: event[k] for k in ("late", "rating", "rejected") if k in event}
        parts.append(
            (stage, contact[has], day[has], texts(event["ref"])[has] if len(has) else texts([]),
             {k: v[has] for k, v in extra.items()})
        )  # fmt: skip
    purpose = np.concatenate([np.full(len(p[1]), p[0], dtype=np.int64) for p in parts])
    contact = np.concatenate([p[1] for p in parts]).astype(np.int64)
    day = np.concatenate([p[2] for p in parts]).astype(np.int64)
    ref = np.concatenate([p[3] for p in parts]).astype(TEXT)
    sizes = [len(p[1]) for p in parts]
    columns: dict[str, Any] = {}
    for name, dtype, fill in (
        ("late", bool, False),
        ("rating", np.int64, 0),
        ("rejected", bool, False),
    ):
        columns[name] = np.concatenate(
            [
                p[4].get(name, np.full(size, fill, dtype=dtype)).astype(dtype)
                for p, size in zip(parts, sizes, strict=True)
            ]
        )
    customer = company.contact_customer[contact]
    columns["disputed"] = _recent_dispute(company, customer, day)
    return purpose, customer, contact, day, ref, columns


def _contact_rows(company: Company, contact_ids: Int64Array) -> Int64Array:
    order = np.argsort(company.contact_id)
    position = np.searchsorted(company.contact_id, contact_ids, sorter=order)
    position = np.minimum(position, len(order) - 1) if len(order) else position
    found = order[position] if len(order) else np.zeros(len(contact_ids), dtype=np.int64)
    ok = len(order) > 0 and True
    rows = np.where(ok & (company.contact_id[found] == contact_ids), found, -1)
    return rows.astype(np.int64)


def _any_contact(
    rng: np.random.Generator,
    company: Company,
    customer: Int64Array,
    *,
    prefer: str,
    share: float,
) -> Int64Array:
    """One contact of each customer: the one with the preferred role when the customer has one."""
    count = company.contact_count[customer]
    start = company.contact_start[customer]
    picked = start + (rng.random(len(customer)) * count).astype(np.int64)
    rows = np.flatnonzero(company.contact_role == prefer)
    preferred = np.full(len(company.contact_count), -1, dtype=np.int64)
    preferred[company.contact_customer[rows][::-1]] = rows[::-1]
    chosen = np.where((preferred[customer] >= 0) & (rng.random(len(customer)) < share),
                      preferred[customer], picked)  # fmt: skip
    return np.where(count > 0, chosen, -1).astype(np.int64)


def _recent_dispute(company: Company, customer: Int64Array, day: Int64Array) -> BoolArray:
    """Whether the customer had a dispute settled in the 90 days before ``day``."""
    event = company.events[DISPUTES]
    if len(event["customer"]) == 0:
        return np.zeros(len(customer), dtype=bool)
    key = event["customer"] * 100_000 + event["day"]
    key.sort()
    probe = customer * 100_000 + day
    before = np.searchsorted(key, probe, side="right") - 1
    ok = before >= 0
    previous = key[np.maximum(before, 0)]
    recent: BoolArray = ok & (previous // 100_000 == customer) & (probe - previous <= 90)
    return recent


def _recently_surveyed(contact: Int64Array, day: Int64Array, *, gap: int) -> BoolArray:
    """The protection rule in send order: skipped when the contact's last invitation that went
    out is fewer than ``gap`` days before (rows sorted by contact, then day)."""
    skipped = np.zeros(len(contact), dtype=bool)
    close = np.zeros(len(contact), dtype=bool)
    close[1:] = (contact[1:] == contact[:-1]) & (day[1:] - day[:-1] < gap)
    # A row far from its predecessor always goes out; only runs of close rows need a walk.
    days = day.tolist()
    after_close = close.tolist()
    last_sent = 0
    for row in np.flatnonzero(close).tolist():
        if not after_close[row - 1]:
            last_sent = days[row - 1]
        if days[row] - last_sent < gap:
            skipped[row] = True
        else:
            last_sent = days[row]
    return skipped


def _first_per_group(group: Int64Array, mask: BoolArray) -> BoolArray:
    """The first marked row of each group (rows sorted by group)."""
    rows = np.flatnonzero(mask)
    first = np.zeros(len(group), dtype=bool)
    if len(rows):
        starts = np.r_[True, group[rows][1:] != group[rows][:-1]]
        first[rows[starts]] = True
    return first


def _nonces(rng: np.random.Generator, n: int) -> list[str]:
    raw = rng.bytes(16 * n).hex()
    return [raw[i : i + 32] for i in range(0, 32 * n, 32)]


def _scores(
    rng: np.random.Generator,
    company: Company,
    programs: list[Program],
    purpose: Int64Array,
    customer: Int64Array,
    day: Int64Array,
    extra: dict[str, Any],
) -> tuple[Int64Array, TextArray, Float64Array]:
    """Scores from the latent satisfaction, moved by the account's owner, region and tier and by
    what just happened: a late delivery, a recent dispute, a rejected claim, churn ahead."""
    owner_effect = np.random.default_rng(int(company.owner.max(initial=0)) + 17).normal(
        0.0, 0.05, int(company.owner.max(initial=0)) + 1
    )
    latent = company.satisfaction[customer] + owner_effect[company.owner[customer]]
    latent -= 0.05 * company.abroad[customer] + 0.03 * company.remote[customer]
    latent += np.array([0.03, 0.0, -0.02])[company.tier[customer]]
    latent -= 0.15 * (extra["late"] & (purpose == CSAT_DELIVERY))
    latent -= 0.07 * (extra["disputed"] & (purpose <= NPS_BASE))
    latent -= 0.18 * extra["rejected"]
    latent -= 0.12 * (company.churn_day[customer] - day <= 180)
    kind = texts([p.kind for p in programs])[purpose]
    score = scores_from(rng, latent, kind, extra["rating"])
    band = np.empty(len(score), dtype=TEXT)
    for name, scale in surveys.SCALES.items():
        rows = kind == name
        good, bad = score >= scale.good, score <= scale.bad
        if name == SurveyKind.NPS:
            labels = (ScoreBand.PROMOTER, ScoreBand.DETRACTOR, ScoreBand.PASSIVE)
        else:
            labels = (ScoreBand.POSITIVE, ScoreBand.NEGATIVE, ScoreBand.NEUTRAL)
        band[rows] = np.where(
            good, labels[0].value, np.where(bad, labels[1].value, labels[2].value)
        )[rows]
    return score, band, latent


def _referral_asks(
    rng: np.random.Generator,
    contact: Int64Array,
    day: Int64Array,
    promoter: BoolArray,
    propensity: Float64Array,
    *,
    gap: int = 180,
) -> BoolArray:
    """A promoter's thank-you asks for a referral at most once per ``gap`` days per contact."""
    wanted = promoter & (rng.random(len(contact)) < 0.25 + propensity)
    asked = np.zeros(len(contact), dtype=bool)
    last: dict[int, int] = {}
    contacts, days = contact.tolist(), day.tolist()
    for row in np.flatnonzero(wanted).tolist():
        previous = last.get(contacts[row])
        if previous is None or days[row] - previous >= gap:
            asked[row] = True
            last[contacts[row]] = days[row]
    return asked


@dataclass(slots=True)
class Written:
    """The ids the bulk writer gave the invitations and the answers."""

    invitation_id: Int64Array
    response_id: Int64Array
