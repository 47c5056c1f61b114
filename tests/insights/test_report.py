"""The management report's content: which periods fall due on which day, and what a report of
the hand-made company (``report_world``) holds — the dashboard's figures, the week's events,
the biggest movements and the top actions — frozen once per kind and period."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.errors import ValidationFailed
from flywheel.insights import figures, report, snapshot
from flywheel.insights.report import MONTHLY, WEEKLY, ReportPeriod
from flywheel.models.insights import InsightReport
from tests.insights.report_world import REPORT_DAY, build


def period(kind: str, start: str, end: str) -> ReportPeriod:
    return ReportPeriod(kind=kind, start=date.fromisoformat(start), end=date.fromisoformat(end))


# ---------------------------------------------------------------- periods


def test_a_monday_that_is_the_first_makes_both_reports() -> None:
    assert report.due_periods(REPORT_DAY, ["weekly", "monthly"]) == [
        period(WEEKLY, "2026-05-25", "2026-05-31"),
        period(MONTHLY, "2026-05-01", "2026-05-31"),
    ]


def test_the_cycle_catches_up_two_days_and_no_more() -> None:
    kinds = report.parse_kinds("weekly,monthly")
    assert report.due_periods(date(2026, 6, 3), kinds) == [
        period(WEEKLY, "2026-05-25", "2026-05-31"),
        period(MONTHLY, "2026-05-01", "2026-05-31"),
    ]
    assert report.due_periods(date(2026, 6, 4), kinds) == []  # Thursday the 4th
    assert report.due_periods(date(2026, 6, 8), kinds) == [
        period(WEEKLY, "2026-06-01", "2026-06-07")
    ]
    assert report.due_periods(date(2026, 3, 1), kinds) == [  # a Sunday
        period(MONTHLY, "2026-02-01", "2026-02-28")
    ]


def test_the_setting_chooses_the_kinds() -> None:
    assert report.parse_kinds(" Monthly ") == [MONTHLY]
    assert report.parse_kinds("") == []
    assert report.parse_kinds("daily,weekly") == [WEEKLY]
    assert report.due_periods(REPORT_DAY, report.parse_kinds("monthly")) == [
        period(MONTHLY, "2026-05-01", "2026-05-31")
    ]


def test_a_period_must_have_ended() -> None:
    week = ReportPeriod.containing(WEEKLY, date(2026, 6, 3))
    assert week == period(WEEKLY, "2026-06-01", "2026-06-07")
    with pytest.raises(ValidationFailed):
        report.check_period(week, today=date(2026, 6, 7))
    assert report.check_period(week, today=date(2026, 6, 8)) == week
    with pytest.raises(ValidationFailed):
        ReportPeriod.containing("daily", REPORT_DAY)


def test_totals_of_events_are_told_from_rates_and_states() -> None:
    flows = {k.code for k in figures.KPIS if report._adds_up_over_months(k)}
    assert {"new_customers", "collected", "pipeline_created", "detractors"} <= flows
    assert not flows & {"win_rate", "nps", "dso", "cei", "overdue", "expansions", "retention"}


# ---------------------------------------------------------------- content


@pytest.fixture
def made(session: Session) -> dict[str, InsightReport]:
    build(session)
    snapshot.run(session, as_of=REPORT_DAY, history=3)
    out = {}
    for kind in (WEEKLY, MONTHLY):
        found, new = report.make_report(
            session, ReportPeriod.containing(kind, date(2026, 5, 31)), as_of=REPORT_DAY
        )
        assert new
        out[kind] = found
    return out


def kpi(content: dict, code: str) -> dict:
    [found] = [k for k in content["figures"]["kpis"] if k["code"] == code]
    return found


def test_the_monthly_report_shows_may_against_april(made: dict[str, InsightReport]) -> None:
    monthly = made[MONTHLY]
    content = monthly.content

    assert (monthly.period_start, monthly.period_end, monthly.as_of) == (
        date(2026, 5, 1),
        date(2026, 5, 31),
        REPORT_DAY,
    )
    assert content["figures"]["month"] == "2026-05-01"
    assert content["figures"]["month_to_date"] is False
    assert content["figures"]["missing_months"] == []
    new = kpi(content, "new_customers")
    assert (new["value"], new["previous"], new["change"], new["improved"]) == (4.0, 1.0, 3.0, True)
    assert content["week"] is None
    assert {
        "source": "kpi",
        "code": "new_customers",
        "unit": "count",
        "value": 4.0,
        "previous": 1.0,
        "relative": 3.0,
        "gain": 3.0,
    } in content["movements"]["improved"]
    assert monthly.note is None


def test_the_weekly_report_counts_the_weeks_events(made: dict[str, InsightReport]) -> None:
    week = made[WEEKLY].content["week"]

    assert week["counts"] == {
        "new_customers": 2,
        "deals_won": 1,
        "nps_responses": 3,
        "nps_detractors": 2,
        "payments": 2,
        "promises_broken": 1,
        "collected": {"CNY": "3500.50"},
    }
    assert week["previous"] == {
        "new_customers": 1,
        "deals_won": 0,
        "nps_responses": 1,
        "nps_detractors": 0,
        "payments": 1,
        "promises_broken": 2,
        "collected": {"CNY": "800.00"},
    }
    moves = made[WEEKLY].content["movements"]
    week_moves = {m["code"]: m["relative"] for m in moves["improved"] if m["source"] == "week"}
    assert week_moves.get("nps_responses") == 2.0
    declined = {m["code"] for m in moves["declined"] if m["source"] == "week"}
    assert "promises_broken" not in declined  # fewer broken promises is better


def test_accounts_whose_health_or_segment_dropped(made: dict[str, InsightReport]) -> None:
    for kind in (WEEKLY, MONTHLY):
        moves = made[kind].content["movements"]
        assert moves["health"]["count"] == 1
        [health] = moves["health"]["accounts"]
        assert (health["code"], health["from"], health["to"]) == ("RW-OLD1", "green", "red")
        assert (health["owner"], health["revenue_12m"]) == ("李销售", "300000.00")
        assert moves["segment"]["count"] == 1
        [segment] = moves["segment"]["accounts"]
        assert (segment["code"], segment["from"], segment["to"]) == (
            "RW-OLD2",
            "champions",
            "at_risk",
        )


def test_the_top_actions(made: dict[str, InsightReport]) -> None:
    actions = made[WEEKLY].content["actions"]

    assert [(a["code"], a["action"], a["score"]) for a in actions["next_actions"]] == [
        ("RW-OLD2", "rescue_detractor", 90.0),
        ("RW-MAY1", "referral_ask", 70.0),
        ("RW-OLD1", "gentle_reminder", 50.0),
    ]
    assert actions["next_actions"][0]["owner"] == "李销售"
    assert [(a["code"], a["overdue"], a["total"]) for a in actions["overdue_accounts"]] == [
        ("RW-OLD1", "50000.00", "50000.00"),
        ("RW-OLD2", "20000.00", "20000.00"),
    ]
    assert [(loop["code"], loop["hours_late"]) for loop in actions["late_loops"]] == [
        ("RW-OLD2", 63.0)
    ]


def test_a_report_is_made_once_per_kind_and_period(
    session: Session, made: dict[str, InsightReport]
) -> None:
    first = made[WEEKLY]
    frozen = dict(first.content)

    again, new = report.make_report(
        session, ReportPeriod.containing(WEEKLY, date(2026, 5, 27)), as_of=date(2026, 6, 9)
    )

    assert (again.id, new) == (first.id, False)
    assert again.content == frozen
    assert again.as_of == REPORT_DAY
    assert session.scalar(select(func.count()).select_from(InsightReport)) == 2


def test_a_weekly_report_of_a_running_month_does_not_compare_its_totals(
    session: Session,
) -> None:
    build(session)
    snapshot.run(session, as_of=date(2026, 6, 8), history=3)

    weekly, _ = report.make_report(
        session, ReportPeriod.containing(WEEKLY, date(2026, 6, 1)), as_of=date(2026, 6, 8)
    )

    part = weekly.content["figures"]
    assert (part["month"], part["built_through"], part["month_to_date"]) == (
        "2026-06-01",
        "2026-06-08",
        True,
    )
    new = kpi(weekly.content, "new_customers")
    assert (new["value"], new["previous"], new["comparable"], new["change"]) == (
        0.0,
        4.0,
        False,
        None,
    )
    moves = weekly.content["movements"]
    assert [m["source"] for m in moves["declined"] if m["code"] == "new_customers"] == ["week"]
    assert kpi(weekly.content, "overdue")["comparable"] is True
