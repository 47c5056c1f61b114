"""The demo's follow-ups: the last month's detractors get theirs opened the product's way; older
ones were called back and closed (most within the SLA) with an outcome, a few are still open."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.orm import Session

from flywheel.config import Settings
from flywheel.demo.feedback_history import MICROS_PER_HOUR, NPS_BASE, Company, History, Written
from flywheel.demo.feedback_text import CALLBACK_NOTES
from flywheel.demo.tables import (
    NULLABLE_TEXT,
    TEXT,
    BoolArray,
    Int64Array,
    Ints,
    Stamps,
    Table,
    TextArray,
    Texts,
    digits,
    join,
    texts,
)
from flywheel.demo.writer import append_tables
from flywheel.feedback import loops
from flywheel.models.enums import LoopOutcome, LoopReason, LoopStatus
from flywheel.models.feedback import SurveyResponse, TextAnalysis

RECENT_LOOP_DAYS = 30  # detractors younger than this still have their follow-up open
STILL_OPEN_SHARE = 0.03  # of the older follow-ups, still open (overdue) today
STILL_OPEN_WITHIN_DAYS = 90  # but none older than this: a real team would have closed it


def next_id(connection: Connection, table: str) -> int:
    """The id after the largest in ``table``: the bulk writer gives explicit ids."""
    return (
        int(connection.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {table}")).scalar_one()) + 1
    )


def follow_ups(
    engine: Engine,
    rng: np.random.Generator,
    company: Company,
    history: History,
    written: Written,
    settings: Settings,
) -> int:
    """Detractors and low scores of the last month get their follow-up opened the product's way;
    older ones were called back and closed, most within the SLA, with an outcome."""
    bad = history.comments.tone == 0
    answered_at = history.answered_at[history.answered]
    now_us = np.datetime64(history.now.replace(tzinfo=None), "us")
    recent_from = now_us - np.timedelta64(RECENT_LOOP_DAYS, "D")
    old = np.flatnonzero(bad & (answered_at < recent_from))
    recent = np.flatnonzero(bad & (answered_at >= recent_from))
    # A few older follow-ups of the last quarter are still open: overdue, escalated to the
    # manager.
    lately = answered_at[old] >= now_us - np.timedelta64(STILL_OPEN_WITHIN_DAYS, "D")
    stuck = (rng.random(len(old)) < STILL_OPEN_SHARE) & lately
    _open_recent(engine, written.response_id[recent], settings)
    with engine.connect() as connection:
        first_id = next_id(connection, "feedback_loops")
        analysis_of = {
            int(source_id): int(analysis_id)
            for source_id, analysis_id in connection.execute(
                text("SELECT source_id, id FROM text_analyses WHERE source = 'response'")
            )
        }
        has_loop = np.array(
            connection.execute(
                text("SELECT response_id FROM feedback_loops WHERE response_id IS NOT NULL")
            )
            .scalars()
            .all(),
            dtype=np.int64,
        )
    fresh = ~np.isin(written.response_id[old], has_loop)
    old, stuck = old[fresh], stuck[fresh]
    table = _loops(rng, company, history, written, old, stuck, first_id, analysis_of, settings)
    if len(table):
        append_tables(engine, [table])
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT COUNT(*) FROM feedback_loops")).scalar_one())


def _open_recent(engine: Engine, response_ids: Int64Array, settings: Settings) -> None:
    """The last month's bad answers get their follow-ups the product's way."""
    ids = response_ids.tolist()
    with Session(engine) as session:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            analyses = {
                a.source_id: a
                for a in session.scalars(
                    select(TextAnalysis).where(
                        TextAnalysis.source == "response", TextAnalysis.source_id.in_(chunk)
                    )
                )
            }
            for response in session.scalars(
                select(SurveyResponse)
                .where(SurveyResponse.id.in_(chunk))
                .order_by(SurveyResponse.id)
            ):
                # Opened when the answer came in, so the SLA clock is the demo's, not today's.
                moment = response.answered_at + timedelta(minutes=5)
                found = analyses.get(response.id)
                loops.open_for_response(session, response, found, settings, now=moment)
        session.commit()


_OUTCOMES = (LoopOutcome.RESOLVED, LoopOutcome.PARTLY_RESOLVED, LoopOutcome.NOT_RESOLVED,
             LoopOutcome.NO_CONTACT)  # fmt: skip
_OUTCOME_WEIGHTS = np.array([0.55, 0.22, 0.10, 0.13])


def _loops(
    rng: np.random.Generator,
    company: Company,
    history: History,
    written: Written,
    rows: Int64Array,
    still_open: BoolArray,
    first_id: int,
    analysis_of: dict[int, int],
    settings: Settings,
) -> Table:
    n = len(rows)
    answer = history.answered[rows]
    customer = history.customer[answer]
    response_id = written.response_id[rows]
    opened_at = history.answered_at[answer] + np.timedelta64(5, "m")
    sla = np.timedelta64(settings.feedback_loop_sla_hours, "h")
    due_at = opened_at + sla
    hours = rng.lognormal(np.log(26.0), 0.8, n)
    callback_at = opened_at + (hours * MICROS_PER_HOUR).astype(np.int64).astype("timedelta64[us]")
    closed_at = callback_at + (rng.random(n) * 4 * MICROS_PER_HOUR).astype(np.int64).astype(
        "timedelta64[us]"
    )
    nat = np.datetime64("NaT", "us")
    now_us = np.datetime64(history.now.replace(tzinfo=None), "us")
    late = np.where(still_open, due_at < now_us, closed_at > due_at)
    callback_at = np.where(still_open, nat, callback_at)
    closed_at = np.where(still_open, nat, closed_at)
    outcome = np.minimum(
        (rng.random(n)[:, None] >= np.cumsum(_OUTCOME_WEIGHTS)[None, :]).sum(axis=1), 3
    )
    english = history.english[answer]
    note = np.empty(n, dtype=TEXT)
    for lang, by_outcome in CALLBACK_NOTES.items():
        for index, name in enumerate(_OUTCOMES):
            picked = np.flatnonzero((outcome == index) & (english == (lang == "en")))
            options = texts(by_outcome[name.value])
            note[picked] = options[rng.integers(0, len(options), len(picked))]
    urgency = history.comments.urgency[rows]
    purpose = history.purpose[answer]
    reason = np.where(
        urgency != "",
        LoopReason.URGENT.value,
        np.where(purpose <= NPS_BASE, LoopReason.DETRACTOR.value, LoopReason.LOW_SCORE.value),
    ).astype(TEXT)
    summary = history.comments.text[rows].astype(NULLABLE_TEXT)
    summary[~history.comments.present[rows]] = None
    owner = company.owner[customer]
    analysis_id = np.array(
        [analysis_of.get(int(r), -1) for r in response_id.tolist()], dtype=np.int64
    )
    return Table(
        "feedback_loops",
        {
            "id": Ints(first_id + np.arange(n, dtype=np.int64)),
            "customer_id": Ints(customer),
            "dedupe_key": Texts(join("response:", digits(response_id, 1))),
            "response_id": Ints(response_id, nullable=True),
            "analysis_id": Ints(analysis_id, nullable=True),
            "reason": Texts(reason),
            "urgency": Texts(np.where(urgency != "", join('["', urgency, '"]'), "[]").astype(TEXT)),
            "summary": Texts(summary),
            "owner_id": Ints(np.where(owner > 0, owner, -1), nullable=True),
            "status": Texts(
                np.where(still_open, LoopStatus.OPEN.value, LoopStatus.CLOSED.value).astype(TEXT)
            ),
            "opened_at": Stamps(opened_at),
            "due_at": Stamps(due_at),
            "escalated_at": Stamps(np.where(late, due_at + np.timedelta64(1, "h"), nat)),
            "escalated_to_id": Ints(
                np.where(late & (company.manager_id > 0), company.manager_id, -1), nullable=True
            ),
            "callback_at": Stamps(callback_at),
            "callback_note": Texts(_nulls_where(note, still_open)),
            "outcome": Texts(
                _nulls_where(texts([o.value for o in _OUTCOMES])[outcome], still_open)
            ),
            "closed_at": Stamps(closed_at),
            "closed_by_id": Ints(np.where((owner > 0) & ~still_open, owner, -1), nullable=True),
        },
    )


def _nulls_where(values: TextArray, empty: BoolArray) -> TextArray:
    result: TextArray = values.astype(NULLABLE_TEXT)
    result[empty] = None
    return result
