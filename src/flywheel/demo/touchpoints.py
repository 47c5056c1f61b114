"""Synthesis of touchpoints: calls, visits, meetings… with satisfaction and free-text comments."""

from __future__ import annotations

import numpy as np

from flywheel.demo import text
from flywheel.demo.accounts import Accounts, office_stamps
from flywheel.demo.seasons import BusinessCalendar
from flywheel.demo.tables import (
    NULLABLE_TEXT,
    Codes,
    Int64Array,
    Ints,
    Stamps,
    Table,
    TextArray,
    Texts,
    empty_texts,
    join,
    texts,
)

KINDS = ("call", "visit", "meeting", "email", "delivery", "support", "qbr")
# How each tier is served: key accounts get visits and QBRs, small ones calls and e-mail.
_KIND_BY_TIER = np.array(
    [
        [0.20, 0.20, 0.15, 0.15, 0.10, 0.10, 0.10],
        [0.30, 0.15, 0.10, 0.20, 0.12, 0.10, 0.03],
        [0.35, 0.05, 0.05, 0.25, 0.15, 0.15, 0.00],
    ]
)
_MONTHLY_RATE = np.array([1.2, 0.3, 0.08])
# Share of touchpoints of each kind without a satisfaction score.
_UNRATED = np.array([0.4, 0.1, 0.2, 0.6, 0.1, 0.05, 0.0])
TONES = ("negative", "neutral", "positive")


def build_touchpoints(rng: np.random.Generator, cal: BusinessCalendar, acc: Accounts) -> Table:
    months = np.arange(cal.months, dtype=np.int64)[None, :]
    active = (months >= acc.first_month[:, None]) & (months < acc.churn_month[:, None])
    rate = _MONTHLY_RATE[acc.tier][:, None] * cal.month_activity[None, :] * active
    counts = rng.poisson(rate).astype(np.int64)
    cells = np.repeat(np.arange(counts.size, dtype=np.int64), counts.ravel())
    customer = cells // cal.months
    month = cells % cal.months
    day = np.maximum(cal.sample_days(rng, month), acc.created_day[customer])
    order = np.lexsort((rng.random(len(day)), customer, day))
    customer, day, month = customer[order], day[order], month[order]
    n = len(customer)

    cumulative = np.cumsum(_KIND_BY_TIER, axis=1)[acc.tier[customer]]
    kind = (rng.random(n)[:, None] >= cumulative).sum(axis=1).astype(np.int64)
    kind = np.minimum(kind, len(KINDS) - 1)

    # Satisfaction follows the latent propensity and sours in the months before churn.
    propensity = acc.satisfaction[customer]
    months_to_churn = acc.churn_month[customer] - month
    souring = np.where(months_to_churn <= 6, 1.0, 0.0)
    score = rng.normal(1.0 + 4.0 * propensity - souring - 0.3 * (kind == 5), 0.9)
    score = np.clip(np.rint(score), 1, 5).astype(np.int64)
    rated = rng.random(n) >= _UNRATED[kind]
    tone = np.where(score <= 2, 0, np.where(score == 3, 1, 2))

    english = acc.english[customer]
    summary = _summaries(rng, english, kind, tone)
    contact = acc.contact_start[customer] + (rng.random(n) * acc.contact_count[customer]).astype(
        np.int64
    )
    ids = np.arange(1, n + 1, dtype=np.int64)
    return Table(
        "touchpoints",
        {
            "id": Ints(ids),
            "reference": Codes("TP-", 9, ids),
            "customer_id": Ints(customer + 1),
            "contact_id": Ints(contact + 1, nullable=True),
            "user_id": Ints(acc.owner_id[customer], nullable=True),
            "kind": Texts(texts(KINDS)[kind]),
            "occurred_at": Stamps(office_stamps(rng, day)),
            "summary": Texts(summary.astype(NULLABLE_TEXT)),
            "satisfaction": Ints(np.where(rated, score, -1), nullable=True),
        },
    )


def _summaries(
    rng: np.random.Generator,
    english: np.typing.NDArray[np.bool_],
    kind: Int64Array,
    tone: Int64Array,
) -> TextArray:
    """Opening by kind, an optional subject, body and next step by tone, in the customer's language."""
    n = len(kind)
    opening = empty_texts(n)
    body = empty_texts(n)
    next_step = empty_texts(n)
    topic = empty_texts(n)
    for is_en, lang in ((False, "zh"), (True, "en")):
        speaks = english == is_en
        for kind_index, kind_name in enumerate(KINDS):
            rows = np.flatnonzero(speaks & (kind == kind_index))
            options = texts(text.TOUCHPOINT_OPENINGS[lang][kind_name])
            opening[rows] = options[rng.integers(0, len(options), len(rows))]
        rows = np.flatnonzero(speaks)
        topics = texts(["", *text.TOUCHPOINT_TOPICS[lang]])
        # Half of the notes name no subject.
        chosen = np.where(rng.random(len(rows)) < 0.5, 0, rng.integers(1, len(topics), len(rows)))
        topic[rows] = topics[chosen]
        for tone_index, tone_name in enumerate(TONES):
            rows = np.flatnonzero(speaks & (tone == tone_index))
            bodies = texts(text.TOUCHPOINT_BODIES[lang][tone_name])
            steps = texts(text.TOUCHPOINT_NEXT_STEPS[lang][tone_name])
            body[rows] = bodies[rng.integers(0, len(bodies), len(rows))]
            next_step[rows] = steps[rng.integers(0, len(steps), len(rows))]
    return join(opening, topic, body, next_step)
