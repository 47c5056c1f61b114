"""The demo company's feedback: the surveys and campaigns, years of invitations and answers drawn
from each customer's latent satisfaction, comments in the contact's language, opt-outs, the text
analysis of it all and the follow-ups that detractors opened."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.orm import Session

from flywheel.config import Settings, get_settings
from flywheel.demo.accounts import MICROS_PER_DAY
from flywheel.demo.feedback_comments import (
    dispute_notes,
)
from flywheel.demo.feedback_history import (
    ABROAD_REGIONS,
    CES_DISPUTE,
    CSAT_DELIVERY,
    DISPUTES,
    JOURNEY,
    MICROS_PER_HOUR,
    NPS_KEY,
    PURPOSES,
    REMOTE_REGIONS,
    SUPPORT,
    TIER_INDEX,
    Company,
    History,
    Program,
    Written,
    build_history,
    date_of,
    wave_days,
)
from flywheel.demo.feedback_loops import follow_ups, next_id
from flywheel.demo.generator import ProgressFn
from flywheel.demo.seasons import EPOCH, business_calendar, to_day
from flywheel.demo.tables import (
    NULLABLE_TEXT,
    TEXT,
    Bools,
    Dates,
    Int64Array,
    Ints,
    Stamps,
    Table,
    Texts,
    digits,
    join,
    texts,
)
from flywheel.demo.writer import append_tables
from flywheel.feedback import analysis, surveys, tokens
from flywheel.feedback import campaigns as campaigns_module
from flywheel.models.enums import (
    CampaignTrigger,
    InvitationStatus,
    TextSource,
)
from flywheel.models.feedback import Survey, SurveyCampaign
from flywheel.web.sessions import secret_key

STAGE = "feedback"
# The demo's "now": 18:00 in Beijing on the last day of the history.
NOW_HOUR_UTC = 10
# Share of delivered orders and support cases asked for a CSAT in the history: a real company
# samples, and the protection rule (one survey per contact per 90 days) thins the rest.
DELIVERY_SHARE = 0.06
SUPPORT_SHARE = 0.5


# The campaigns the demo runs: (purpose, survey code, trigger, touchpoint kind, tiers, roles,
# every months, delay days, sample rate, names). An active campaign of the same survey, trigger,
# touchpoint kind and tiers is used when there is one (the shipped defaults); otherwise the
# demo creates its own, named "演示 · …" / "Demo · …" so it never takes a shipped name.
_PROGRAMS: list[dict[str, Any]] = [
    {
        "purpose": "nps_key",
        "survey": "nps-relationship",
        "trigger": CampaignTrigger.SCHEDULE,
        "tiers": ["key"],
        "buying_roles": [],
        "every_months": 3,
        "delay_days": 0,
        "sample_rate": 1.0,
        "name": "Demo · quarterly NPS, key-account stakeholders",
    },
    {
        "purpose": "nps_base",
        "survey": "nps-relationship",
        "trigger": CampaignTrigger.SCHEDULE,
        "tiers": ["growth", "standard"],
        "buying_roles": ["decision_maker"],
        "every_months": 12,
        "delay_days": 0,
        "sample_rate": 0.4,
        "name": "Demo · yearly NPS, decision makers of growth and standard accounts",
    },
    {
        "purpose": "csat_delivery",
        "survey": "csat-delivery",
        "trigger": CampaignTrigger.ORDER_DELIVERED,
        "tiers": [],
        "buying_roles": [],
        "every_months": None,
        "delay_days": 2,
        "sample_rate": DELIVERY_SHARE,
        "name": "Demo · CSAT after delivery",
    },
    {
        "purpose": "support",
        "survey": "nps-relationship",
        "trigger": CampaignTrigger.TOUCHPOINT,
        "touchpoint_kind": "support",
        "tiers": [],
        "buying_roles": [],
        "every_months": None,
        "delay_days": 1,
        "sample_rate": SUPPORT_SHARE,
        "name": "Demo · NPS after a support case",
    },
    {
        "purpose": "ces_dispute",
        "survey": "ces-service",
        "trigger": CampaignTrigger.DISPUTE_RESOLVED,
        "tiers": [],
        "buying_roles": [],
        "every_months": None,
        "delay_days": 1,
        "sample_rate": 1.0,
        "name": "Demo · CES after a resolved dispute",
    },
]


@dataclass(slots=True)
class FeedbackSeed:
    """What ``seed_feedback`` wrote, the link of one open survey and the seconds it took."""

    counts: dict[str, int] = field(default_factory=dict)
    survey_link: str | None = None
    analysed: dict[str, int] | None = None  # from the text analysis, None when it is missing
    seconds: dict[str, float] = field(default_factory=dict)


def seed_feedback(
    engine: Engine,
    *,
    as_of: date,
    years: int,
    seed: int,
    settings: Settings | None = None,
    progress: ProgressFn | None = None,
) -> FeedbackSeed:
    """Write the demo's feedback history after the company and its collections are in place."""
    settings = settings or get_settings()
    report = progress or _silent
    result = FeedbackSeed()
    clock = time.perf_counter()
    rng = np.random.default_rng([seed, 606])
    now = datetime(as_of.year, as_of.month, as_of.day, NOW_HOUR_UTC, tzinfo=UTC)
    report(STAGE, 0, 5)
    with Session(engine) as session:
        programs = ensure_programs(session, as_of=as_of)
        session.commit()
    start_day = business_calendar(as_of, years).period_start
    with engine.connect() as connection:
        company = load_company(connection, start_day=start_day, as_of=as_of, programs=programs)
        first_id = {
            name: next_id(connection, name)
            for name in ("survey_invitations", "survey_responses", "survey_opt_outs")
        }
    report(STAGE, 1, 5)
    history = build_history(rng, company, programs, start_day=start_day, now=now)
    invitations, responses, opt_outs, written = history_tables(history, first_id, settings)
    result.seconds["generate"] = time.perf_counter() - clock
    clock = time.perf_counter()
    report(STAGE, 2, 5)
    result.counts.update(append_tables(engine, [invitations, responses, opt_outs], progress=report))
    _describe_disputes(engine, rng, company)
    result.seconds["write"] = time.perf_counter() - clock
    result.survey_link = _open_link(history, settings)
    report(STAGE, 3, 5)
    clock = time.perf_counter()
    with Session(engine) as session:
        result.analysed = _analyse(session, settings, now)
        session.commit()
    if result.analysed is not None:
        result.counts["text_analyses"] = sum(
            result.analysed.get(source.value, 0) for source in TextSource
        )
    result.seconds["analyse"] = time.perf_counter() - clock
    report(STAGE, 4, 5)
    clock = time.perf_counter()
    result.counts["feedback_loops"] = follow_ups(engine, rng, company, history, written, settings)
    result.seconds["loops"] = time.perf_counter() - clock
    report(STAGE, 5, 5)
    return result


def _silent(stage: str, done: int, total: int) -> None:
    """Progress sink when nobody watches."""


# ----------------------------------------------------------------------------- campaigns


def ensure_programs(session: Session, *, as_of: date) -> list[Program]:
    """The shipped surveys and campaigns, plus the demo's own where no shipped one fits."""
    surveys.ensure_defaults(session)
    campaigns_module.ensure_default_campaigns(session, as_of=as_of)
    by_code = {s.code: s for s in session.scalars(select(Survey))}
    campaigns = list(session.scalars(select(SurveyCampaign).order_by(SurveyCampaign.id)))
    programs: list[Program] = []
    for spec in _PROGRAMS:
        survey = by_code[spec["survey"]]
        match = next(
            (
                c
                for c in campaigns
                if c.active
                and c.survey_id == survey.id
                and c.trigger == spec["trigger"]
                and c.touchpoint_kind == spec.get("touchpoint_kind")
                and sorted(c.tiers or []) == sorted(spec["tiers"])
            ),
            None,
        )
        if match is None:
            match = next((c for c in campaigns if c.name == spec["name"]), None)
        if match is None:
            match = SurveyCampaign(
                name=spec["name"],
                survey_id=survey.id,
                trigger=spec["trigger"].value,
                touchpoint_kind=spec.get("touchpoint_kind"),
                delay_days=spec["delay_days"],
                every_months=spec["every_months"],
                next_run_on=_next_run(as_of, spec["every_months"]),
                tiers=spec["tiers"],
                buying_roles=spec["buying_roles"],
                sample_rate=spec["sample_rate"],
                reminder_after_days=5,
                expires_after_days=30,
            )
            session.add(match)
            session.flush()
            campaigns.append(match)
        programs.append(
            Program(
                purpose=spec["purpose"],
                campaign_id=match.id,
                survey_id=survey.id,
                kind=survey.kind,
                touchpoint_kind=JOURNEY.get(PURPOSES.index(spec["purpose"])),
                delay_days=match.delay_days,
                reminder_after_days=match.reminder_after_days,
                expires_after_days=match.expires_after_days,
                sample_rate=min(match.sample_rate, spec["sample_rate"]),
                buying_roles=tuple(match.buying_roles or ()),
            )
        )
    return programs


def _next_run(as_of: date, every_months: int | None) -> date | None:
    """The first wave after ``as_of`` of a schedule that the history ran (``WAVE_MONTHS``)."""
    if every_months is None:
        return None
    upcoming = wave_days(to_day(as_of) + 1, to_day(as_of) + 400, every_months)
    return date_of(int(upcoming[0])) if len(upcoming) else None


# ----------------------------------------------------------------------------- reading


def _days(values: list[Any]) -> Int64Array:
    if not values:
        return np.zeros(0, dtype=np.int64)
    dates = np.array([None if v is None else str(v)[:10] for v in values], dtype="datetime64[D]")
    days: Int64Array = ((dates - EPOCH) // np.timedelta64(1, "D")).astype(np.int64)
    return days


def load_company(
    connection: Connection, *, start_day: int, as_of: date, programs: list[Program]
) -> Company:
    rows = connection.execute(
        text(
            "SELECT c.id, c.tier, c.region, COALESCE(c.owner_id, 0), c.created_on, "
            "t.satisfaction_propensity, t.referral_propensity, COALESCE(t.churned_on_month, 0) "
            "FROM customers c JOIN demo_customer_traits t ON t.customer_id = c.id ORDER BY c.id"
        )
    ).all()
    size = (rows[-1][0] + 1) if rows else 1
    ids = np.array([r[0] for r in rows], dtype=np.int64)

    def by_id(values: Any, dtype: Any, fill: Any) -> Any:
        array = np.full(size, fill, dtype=dtype)
        array[ids] = np.asarray(values, dtype=dtype)
        return array

    tier = by_id([TIER_INDEX.get(r[1], 2) for r in rows], np.int64, 2)
    regions = [r[2] for r in rows]
    churned = np.array([r[7] for r in rows], dtype=np.int64)
    churn_month = np.where(churned > 0, churned, 999912)
    churn_dates = np.array(
        [f"{m // 100:04d}-{m % 100:02d}-01" for m in churn_month.tolist()], dtype="datetime64[D]"
    )
    churn_day = ((churn_dates - EPOCH) // np.timedelta64(1, "D")).astype(np.int64)
    manager = connection.execute(
        text("SELECT id FROM users WHERE role = 'manager' AND is_active ORDER BY id LIMIT 1")
    ).scalar()
    contacts = connection.execute(
        text(
            "SELECT id, customer_id, buying_role, language, created_at FROM contacts "
            "ORDER BY customer_id, id"
        )
    ).all()
    contact_customer = np.array([r[1] for r in contacts], dtype=np.int64)
    count = np.bincount(contact_customer, minlength=size).astype(np.int64)
    company = Company(
        tier=tier,
        abroad=by_id([r in ABROAD_REGIONS for r in regions], bool, False),
        remote=by_id([r in REMOTE_REGIONS for r in regions], bool, False),
        owner=by_id([r[3] for r in rows], np.int64, 0),
        satisfaction=by_id([r[5] for r in rows], np.float64, 0.5),
        referral=by_id([r[6] for r in rows], np.float64, 0.1),
        created_day=by_id(_days([r[4] for r in rows]), np.int64, 0),
        churn_day=by_id(churn_day, np.int64, 0),
        manager_id=int(manager or 0),
        contact_id=np.array([r[0] for r in contacts], dtype=np.int64),
        contact_customer=contact_customer,
        contact_role=texts([r[2] or "" for r in contacts]),
        contact_english=np.array([r[3] == "en" for r in contacts], dtype=bool),
        contact_day=_days([r[4] for r in contacts]),
        contact_start=(np.cumsum(count) - count).astype(np.int64),
        contact_count=count,
    )
    rate = {p.purpose: p.sample_rate for p in programs}
    permille = {k: max(1, round(v * 1000)) for k, v in rate.items()}
    orders = connection.execute(
        text(
            "SELECT id, customer_id, order_date, delivered_on FROM orders "
            "WHERE delivered_on >= :start AND delivered_on <= :as_of "
            "AND (id * 7919) % 1000 < :permille ORDER BY id"
        ),
        {"start": date_of(start_day), "as_of": as_of, "permille": permille["csat_delivery"]},
    ).all()
    delivered = _days([r[3] for r in orders])
    company.events[CSAT_DELIVERY] = {
        "ref": [f"order:{r[0]}" for r in orders],
        "customer": np.array([r[1] for r in orders], dtype=np.int64),
        "day": delivered,
        "late": delivered - _days([r[2] for r in orders]) >= 7,
    }
    cases = connection.execute(
        text(
            "SELECT id, customer_id, COALESCE(contact_id, 0), occurred_at, "
            "COALESCE(satisfaction, 0) FROM touchpoints WHERE kind = 'support' "
            "AND (id * 7919) % 1000 < :permille ORDER BY id"
        ),
        {"permille": permille["support"]},
    ).all()
    company.events[SUPPORT] = {
        "ref": [f"touchpoint:{r[0]}" for r in cases],
        "customer": np.array([r[1] for r in cases], dtype=np.int64),
        "contact_id": np.array([r[2] for r in cases], dtype=np.int64),
        "day": _days([r[3] for r in cases]),
        "rating": np.array([r[4] for r in cases], dtype=np.int64),
    }
    # Disputes of the past were settled by a credit note; this year's live in ``disputes``.
    credits = connection.execute(
        text(
            "SELECT id, customer_id, issue_date FROM credit_notes "
            "WHERE reason LIKE '争议%' OR reason LIKE 'dispute%' ORDER BY id"
        )
    ).all()
    disputes = connection.execute(
        text(
            "SELECT d.id, d.customer_id, d.reason, d.status, d.resolution, d.resolved_on "
            "FROM disputes d ORDER BY d.id"
        )
    ).all()
    resolved = [d for d in disputes if d[5] is not None]
    company.events[CES_DISPUTE] = {
        "ref": [f"credit_note:{r[0]}" for r in credits] + [f"dispute:{d[0]}" for d in resolved],
        "customer": np.array([r[1] for r in credits] + [d[1] for d in resolved], dtype=np.int64),
        "day": _days([r[2] for r in credits] + [d[5] for d in resolved]),
        "rejected": np.array([False] * len(credits) + [d[4] == "rejected" for d in resolved]),
    }
    company.disputes = {
        "id": np.array([d[0] for d in disputes], dtype=np.int64),
        "customer": np.array([d[1] for d in disputes], dtype=np.int64),
        "reason": [d[2] for d in disputes],
    }
    # A dispute in the last quarter sours a relationship answer.
    company.events[DISPUTES] = {"customer": company.events[CES_DISPUTE]["customer"],
                          "day": company.events[CES_DISPUTE]["day"]}  # fmt: skip
    return company


def history_tables(
    history: History, first_id: dict[str, int], settings: Settings
) -> tuple[Table, Table, Table, Written]:
    """The invitations, answers and opt-outs as column tables for the bulk writer."""
    n = len(history.purpose)
    programs = history.programs
    inv_id = first_id["survey_invitations"] + np.arange(n, dtype=np.int64)
    campaign = np.array([p.campaign_id for p in programs], dtype=np.int64)[history.purpose]
    survey = np.array([p.survey_id for p in programs], dtype=np.int64)[history.purpose]
    journey = np.array([p.touchpoint_kind for p in programs], dtype=NULLABLE_TEXT)[history.purpose]
    language = np.where(history.english, "en", "zh").astype(TEXT)
    hashes = _token_hashes(history.nonce, settings)
    created = (history.send_day * MICROS_PER_DAY + MICROS_PER_HOUR // 2).astype("datetime64[us]")
    invitations = Table(
        "survey_invitations",
        {
            "id": Ints(inv_id),
            "campaign_id": Ints(campaign),
            "survey_id": Ints(survey),
            "customer_id": Ints(history.customer),
            "contact_id": Ints(history.contact_id),
            "dedupe_key": Texts(
                join(digits(campaign, 1), ":", history.ref, ":", digits(history.contact_id, 1))
            ),
            "event_ref": Texts(history.ref),
            "touchpoint_kind": Texts(journey),
            "language": Texts(language),
            "token_nonce": Texts(texts(history.nonce)),
            "token_hash": Texts(texts(hashes)),
            "status": Texts(history.status),
            "skip_reason": Texts(history.skip_reason),
            "send_on": Dates(history.send_day.astype("datetime64[D]")),
            "sent_at": Stamps(history.sent_at),
            "reminded_at": Stamps(history.reminded_at),
            "expires_at": Stamps(history.expires_at),
            "answered_at": Stamps(history.answered_at),
            "created_at": Stamps(created),
        },
    )
    rows = history.answered
    m = len(rows)
    resp_id = first_id["survey_responses"] + np.arange(m, dtype=np.int64)
    kind = texts([p.kind for p in programs])[history.purpose[rows]]
    low = np.array([surveys.SCALES[p.kind].low for p in programs], dtype=np.int64)
    high = np.array([surveys.SCALES[p.kind].high for p in programs], dtype=np.int64)
    reason = history.main_reason
    answers = np.where(reason == "", "{}", join('{"main_reason": "', reason, '"}'))
    comment = history.comments.text.astype(NULLABLE_TEXT)
    comment[~history.comments.present] = None
    answered_at = history.answered_at[rows]
    responses = Table(
        "survey_responses",
        {
            "id": Ints(resp_id),
            "invitation_id": Ints(inv_id[rows], nullable=True),
            "survey_id": Ints(survey[rows]),
            "campaign_id": Ints(campaign[rows], nullable=True),
            "customer_id": Ints(history.customer[rows]),
            "contact_id": Ints(history.contact_id[rows], nullable=True),
            "kind": Texts(kind),
            "score": Ints(history.score),
            "scale_min": Ints(low[history.purpose[rows]]),
            "scale_max": Ints(high[history.purpose[rows]]),
            "band": Texts(history.band),
            "answers": Texts(answers.astype(TEXT)),
            "comment": Texts(comment),
            "language": Texts(language[rows]),
            "touchpoint_kind": Texts(journey[rows]),
            "buying_role": Texts(history.contact_role[rows].astype(NULLABLE_TEXT)),
            "answered_at": Stamps(answered_at),
            "updated_at": Stamps(answered_at),
            "thanked_at": Stamps(history.thanked_at),
            "referral_asked": Bools(history.referral_asked),
        },
    )
    out = history.opt_out_rows
    opt_outs = Table(
        "survey_opt_outs",
        {
            "id": Ints(first_id["survey_opt_outs"] + np.arange(len(out), dtype=np.int64)),
            "contact_id": Ints(history.contact_id[out]),
            "customer_id": Ints(history.customer[out]),
            "source": Texts(np.full(len(out), "survey_page", dtype=TEXT)),
            "opted_out_at": Stamps(history.opt_out_at),
        },
    )
    return invitations, responses, opt_outs, Written(invitation_id=inv_id, response_id=resp_id)


def _token_hashes(nonces: list[str], settings: Settings) -> list[str]:
    """``hash_token(token_for(nonce))`` of every nonce, with the key read once: the same
    derivation as ``tokens.token_for``, checked against it on the first nonce."""
    key = secret_key(settings).encode()

    def token(nonce: str) -> str:
        digest = hmac.digest(key, b"survey-link:" + nonce.encode(), "sha256")
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    if nonces and token(nonces[0]) != tokens.token_for(nonces[0], settings):
        return [tokens.hash_token(tokens.token_for(nonce, settings)) for nonce in nonces]
    return [hashlib.sha256(token(nonce).encode("ascii")).hexdigest() for nonce in nonces]


def _open_link(history: History, settings: Settings) -> str | None:
    """The link of one invitation that is still open, to try the survey page from the demo."""
    now_us = np.datetime64(history.now.replace(tzinfo=None), "us")
    open_ = (history.status == InvitationStatus.SENT.value) & (history.expires_at > now_us)
    chinese = open_ & ~history.english
    for preferred in (chinese & (history.purpose == NPS_KEY), chinese, open_):
        rows = np.flatnonzero(preferred)
        if len(rows):
            row = int(rows[-1])
            return tokens.survey_url(tokens.token_for(history.nonce[row], settings), settings)
    return None


def _describe_disputes(engine: Engine, rng: np.random.Generator, company: Company) -> None:
    """The collections demo leaves a placeholder on each dispute; write what the collector heard."""
    disputes = company.disputes
    if len(disputes["id"]) == 0:
        return
    customer = disputes["customer"]
    first_contact = np.minimum(company.contact_start[customer], max(len(company.contact_id) - 1, 0))
    english = (company.contact_count[customer] > 0) & company.contact_english[first_contact]
    notes = dispute_notes(rng, english, disputes["reason"])
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE disputes SET description = :note "
                "WHERE id = :id AND (description IS NULL OR description = '示例争议')"
            ),
            [
                {"note": note, "id": did}
                for note, did in zip(notes.tolist(), disputes["id"].tolist(), strict=True)
            ],
        )


# ----------------------------------------------------------------------------- analysis, loops


def _analyse(session: Session, settings: Settings, now: datetime) -> dict[str, int] | None:
    """Sentiment, topics and urgency of every comment, touchpoint note and dispute description;
    None when the text analytics cannot be loaded (the demo is still worth having without)."""
    try:
        analysis.ensure_topics(session)
        return analysis.analyse_pending(session, settings, now)
    except ImportError:
        return None
