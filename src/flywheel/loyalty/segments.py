"""RFM segments of every account in a ``LoyaltyFrame``, and what the pages call the segments.

The windows (all ending on ``as_of``, calendar months, both ends included):

* Recency: days from the last purchase day to ``as_of``.
* Frequency: purchase days (a day with orders counts once) in the last 24 months, from the day
  after the same date 24 months earlier. Two years, because many B2B accounts order a few
  times a year and one year would leave most of them tied on 1 or 2.
* Monetary: revenue (orders not cancelled) of the last 12 months, ranked only against accounts
  of the same currency.

Scores and the segment grid: ``analytics.rfm``. Accounts that never bought score 0 and are
``no_purchase``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from flywheel.analytics import rfm
from flywheel.analytics.retention import day_of, months_before
from flywheel.kit.i18n import N_
from flywheel.loyalty.frame import LoyaltyFrame
from flywheel.models.enums import Segment

IntArray = npt.NDArray[np.int64]
ObjectArray = npt.NDArray[np.object_]

FREQUENCY_MONTHS = 24
MONETARY_MONTHS = 12


def window_start_day(frame: LoyaltyFrame, months: int) -> int:
    """The first day (a day number) of the ``months`` calendar months ending on ``as_of``."""
    return day_of(months_before(frame.as_of, months)) + 1


@dataclass(frozen=True)
class SegmentScores:
    """Per frame row: the RFM scores (0 for an account that never bought), the segment
    (``enums.Segment`` values) and the inputs they came from."""

    recency_score: IntArray
    frequency_score: IntArray
    monetary_score: IntArray
    segment: ObjectArray
    recency_days: IntArray  # -1: never bought
    frequency: IntArray  # purchase days in the last 24 months
    monetary_cents: IntArray  # revenue of the last 12 months (the stored ``revenue_12m``)


def score_segments(frame: LoyaltyFrame) -> SegmentScores:
    """RFM scores and segments of every account of ``frame``, vectorised."""
    bought = frame.last_day >= 0
    recency_days = np.where(bought, frame.as_of_day - frame.last_day, -1).astype(np.int64)
    frequency = frame.purchase_days_between(
        window_start_day(frame, FREQUENCY_MONTHS), frame.as_of_day
    )
    monetary = frame.revenue_between(window_start_day(frame, MONETARY_MONTHS), frame.as_of_day)
    r, f, m, segment = rfm.rfm_scores(
        bought=bought,
        recency_days=recency_days,
        frequency=frequency,
        monetary=monetary,
        monetary_group=frame.currency,
    )
    return SegmentScores(
        recency_score=r,
        frequency_score=f,
        monetary_score=m,
        segment=segment,
        recency_days=recency_days,
        frequency=frequency,
        monetary_cents=monetary,
    )


SEGMENTS: tuple[str, ...] = tuple(s.value for s in Segment)

SEGMENT_LABELS: dict[str, str] = {
    Segment.CHAMPIONS: N_("Champions"),
    Segment.LOYAL: N_("Loyal"),
    Segment.PROMISING: N_("Promising"),
    Segment.NEEDS_ATTENTION: N_("Needs attention"),
    Segment.AT_RISK: N_("At risk"),
    Segment.HIBERNATING: N_("Hibernating"),
    Segment.LOST: N_("Lost"),
    Segment.NO_PURCHASE: N_("No purchase yet"),
}

SEGMENT_DESCRIPTIONS: dict[str, str] = {
    Segment.CHAMPIONS: N_("Bought recently, buy often and spend the most."),
    Segment.LOYAL: N_("Buy often or spend well, and bought not long ago."),
    Segment.PROMISING: N_(
        "Bought recently, but not yet often or for much; new accounts start here."
    ),
    Segment.NEEDS_ATTENTION: N_(
        "Middling recency, frequency and spend: they slide unless someone calls."
    ),
    Segment.AT_RISK: N_("Used to buy often or for much, but not lately."),
    Segment.HIBERNATING: N_("Bought little, and not lately."),
    Segment.LOST: N_("Bought little, and longest ago."),
    Segment.NO_PURCHASE: N_("No order yet."),
}

# What the pages show per segment: {segment: {"label": …, "description": …}} (English source
# text; translate with ``_()`` when shown).
labels: dict[str, dict[str, str]] = {
    segment: {"label": SEGMENT_LABELS[segment], "description": SEGMENT_DESCRIPTIONS[segment]}
    for segment in SEGMENTS
}

# The grid the dashboard draws: R (5 on top) against FM = ⌈(F + M) / 2⌉.
GRID = rfm.GRID
