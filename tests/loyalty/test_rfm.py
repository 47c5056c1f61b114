"""RFM: quintile scores by mid-rank, the segment grid, and ``score_segments`` on a small
hand-made order history read through the loyalty frame."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from sqlalchemy.orm import Session

from flywheel.analytics import rfm
from flywheel.loyalty import segments
from flywheel.loyalty.frame import read_frame
from flywheel.models.enums import OrderStatus, Segment
from tests.factories import make_customer
from tests.loyalty.factories import make_order

AS_OF = date(2026, 3, 31)


# ---------------------------------------------------------------- quintiles


def test_five_distinct_values_score_one_to_five() -> None:
    scores = rfm.quintile_scores([50, 10, 40, 20, 30], [True] * 5)

    assert scores.tolist() == [5, 1, 4, 2, 3]


def test_ten_values_make_two_per_score_and_ties_share_one() -> None:
    assert rfm.quintile_scores(list(range(10)), [True] * 10).tolist() == [
        1,
        1,
        2,
        2,
        3,
        3,
        4,
        4,
        5,
        5,
    ]
    # Sorted 0, 2, 2, 2, 4: the three tied at 2 have mid-rank (1 + 3/2) / 5 = 0.5 → ⌈2.5⌉ = 3.
    assert rfm.quintile_scores([4, 2, 2, 2, 0], [True] * 5).tolist() == [5, 3, 3, 3, 1]


def test_a_lone_buyer_scores_three_and_non_buyers_zero() -> None:
    scores = rfm.quintile_scores([100, 0, 7], [True, False, False])

    assert scores.tolist() == [3, 0, 0]
    assert rfm.quintile_scores([1, 2], [False, False]).tolist() == [0, 0]


def test_values_and_mask_must_match() -> None:
    with pytest.raises(ValueError, match="same length"):
        rfm.quintile_scores([1, 2, 3], [True, True])


# ---------------------------------------------------------------- the grid


@pytest.mark.parametrize(
    ("r", "f", "m", "segment"),
    [
        (5, 5, 4, "champions"),  # FM ⌈9/2⌉ = 5
        (4, 4, 3, "champions"),  # FM ⌈7/2⌉ = 4
        (5, 3, 3, "loyal"),
        (3, 5, 5, "loyal"),
        (5, 1, 2, "promising"),  # FM 2: recent, small
        (4, 1, 1, "promising"),
        (3, 3, 3, "needs_attention"),
        (3, 1, 1, "needs_attention"),
        (2, 3, 2, "at_risk"),  # FM 3
        (1, 5, 5, "at_risk"),  # the best buyers, gone quiet
        (2, 2, 1, "hibernating"),
        (1, 1, 2, "lost"),
        (0, 0, 0, "no_purchase"),
    ],
)
def test_the_segment_grid(r: int, f: int, m: int, segment: str) -> None:
    assert rfm.segments_of([r], [f], [m]).tolist() == [segment]


def test_every_cell_of_the_grid_is_a_known_segment_and_the_enum_agrees() -> None:
    cells = {code for row in rfm.GRID for code in row}

    assert cells == set(rfm.SEGMENTS) - {rfm.NO_PURCHASE}
    assert segments.SEGMENTS == rfm.SEGMENTS
    assert set(segments.labels) == {s.value for s in Segment}
    assert all(v["label"] and v["description"] for v in segments.labels.values())


def test_scores_outside_zero_to_five_are_refused() -> None:
    with pytest.raises(ValueError, match="0 to 5"):
        rfm.segments_of([6], [1], [1])


def test_monetary_is_ranked_within_its_group() -> None:
    r, f, m, _segment = rfm.rfm_scores(
        bought=[True, True, True],
        recency_days=[1, 2, 3],
        frequency=[1, 1, 1],
        monetary=[100, 200, 5],
        monetary_group=["CNY", "CNY", "USD"],
    )

    assert m.tolist() == [2, 4, 3]  # CNY: 100 < 200 (two buyers); USD alone: 3
    assert r.tolist() == [5, 3, 1]
    assert f.tolist() == [3, 3, 3]


# ---------------------------------------------------------------- score_segments


def test_score_segments_on_a_hand_made_history(session: Session) -> None:
    """Given, on 31 March 2026 (12 months from 1 April 2025, 24 from 1 April 2024):

    A: 20 Mar 2026 (two orders, 1,000 each), 10 Feb 2026 2,000, 1 Dec 2025 3,000, 1 Jun 2025 500
       → recency 11 days, 4 purchase days, 7,500 in 12 months
    B: 1 Mar 2026 500, 1 Oct 2025 500 (and a cancelled order on 30 Mar) → 30, 2, 1,000
    C: 15 Nov 2025 10,000, 1 Mar 2025 10,000 → 136, 2, 10,000 (1 Mar 2025 is before the year)
    D: 10 Jan 2025, 1 May 2024, 31 Mar 2024, 800 each → 445, 2 (31 Mar 2024 is outside), 0
    E: 1 Jun 2023 100 → 1034, 0, 0
    N: no order.
    """
    accounts = {key: make_customer(session, code=f"RFM-{key}") for key in "ABCDEN"}
    history = {
        "A": [
            ("2026-03-20", "1000"),
            ("2026-03-20", "1000"),
            ("2026-02-10", "2000"),
            ("2025-12-01", "3000"),
            ("2025-06-01", "500"),
        ],
        "B": [("2026-03-01", "500"), ("2025-10-01", "500")],
        "C": [("2025-11-15", "10000"), ("2025-03-01", "10000")],
        "D": [("2025-01-10", "800"), ("2024-05-01", "800"), ("2024-03-31", "800")],
        "E": [("2023-06-01", "100")],
    }
    for key, orders in history.items():
        for on, amount in orders:
            make_order(session, customer=accounts[key], on=date.fromisoformat(on), amount=amount)
    make_order(
        session,
        customer=accounts["B"],
        on=date(2026, 3, 30),
        amount="9999",
        status=OrderStatus.CANCELLED,
    )
    make_order(session, customer=accounts["A"], on=date(2026, 4, 2), amount="5000")  # after as_of

    frame = read_frame(session, as_of=AS_OF)
    scores = segments.score_segments(frame)

    rows = frame.rows_of(np.array([accounts[k].id for k in "ABCDEN"], dtype=np.int64))
    assert scores.recency_days[rows].tolist() == [11, 30, 136, 445, 1034, -1]
    assert scores.frequency[rows].tolist() == [4, 2, 2, 2, 0, 0]
    assert scores.monetary_cents[rows].tolist() == [750000, 100000, 1000000, 0, 0, 0]
    assert scores.recency_score[rows].tolist() == [5, 4, 3, 2, 1, 0]
    assert scores.frequency_score[rows].tolist() == [5, 3, 3, 3, 1, 0]
    assert scores.monetary_score[rows].tolist() == [4, 3, 5, 1, 1, 0]
    assert scores.segment[rows].tolist() == [
        "champions",  # R5, FM ⌈9/2⌉ = 5
        "loyal",  # R4, FM 3
        "loyal",  # R3, FM 4
        "hibernating",  # R2, FM 2
        "lost",  # R1, FM 1
        "no_purchase",
    ]
    assert scores.recency_score.dtype == np.int64
    assert scores.segment.dtype == object


def test_score_segments_of_an_empty_company(session: Session) -> None:
    frame = read_frame(session, as_of=AS_OF)

    scores = segments.score_segments(frame)

    assert len(scores.segment) == len(frame)
    assert set(scores.segment.tolist()) <= {"no_purchase"}


def test_the_windows_are_calendar_months() -> None:
    from flywheel.analytics.retention import months_before

    assert months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert months_before(date(2024, 3, 31), 1) == date(2024, 2, 29)
    assert months_before(date(2026, 3, 31), 24) == date(2024, 3, 31)
    assert months_before(date(2026, 1, 15), 13) == date(2024, 12, 15)
