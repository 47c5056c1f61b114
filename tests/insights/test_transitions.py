"""The transition matrix: accounts by segment (or credit grade) at the end of the month before
against the end of the month, with row shares, for the filter's owner, region and tier and
inside the actor's scope."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from flywheel.auth.actor import Actor
from flywheel.errors import ValidationFailed
from flywheel.insights import snapshot
from flywheel.insights.cube import Accounts, Contribution, Month
from flywheel.insights.periods import InsightFilter
from flywheel.insights.transitions import Matrix, cell_accounts, matrix
from flywheel.models.customers import Customer
from flywheel.models.enums import Role, Segment
from tests.factories import TESTER, make_customer
from tests.insights.league_world import NOV, OCT, build, moves
from tests.loyalty.factories import make_loyalty_score
from tests.loyalty.health_world import make_credit_score
from tests.web.pages import make_person, sign_in


def counts(found: Matrix) -> dict[tuple[str, str], int]:
    return {(c.from_code, c.to_code): c.accounts for r in found.rows for c in r.cells if c.accounts}


def test_segments_moving_into_november(session: Session) -> None:
    world = build(session)
    moves(session, world)

    found = matrix(
        session, actor=TESTER, month=date(2026, 11, 17), kind="segment", flt=InsightFilter()
    )

    assert found.month == NOV
    assert found.since == OCT
    assert found.built
    # Best first, as the segments are ordered; "unscored" last; codes nobody holds left out.
    assert found.codes == ("champions", "loyal", "promising", "at_risk", "lost", "unscored")
    assert counts(found) == {
        ("champions", "champions"): 6,
        ("champions", "loyal"): 2,
        ("loyal", "champions"): 1,
        ("loyal", "loyal"): 4,
        ("loyal", "at_risk"): 2,
        ("at_risk", "lost"): 1,
        ("unscored", "promising"): 3,
    }
    rows = {r.code: r for r in found.rows}
    assert [r.accounts for r in found.rows] == [8, 7, 0, 1, 0, 3]
    assert [c.share for c in rows["champions"].cells] == [0.75, 0.25, 0.0, 0.0, 0.0, 0.0]
    assert rows["loyal"].cells[1].share == pytest.approx(4 / 7)
    assert all(c.share is None for c in rows["promising"].cells)  # nobody was promising
    assert found.column_totals == (7, 6, 3, 2, 1, 0)
    assert (found.accounts, found.stayed, found.moved) == (19, 10, 9)
    assert found.cell("loyal", "at_risk") is not None
    assert found.cell("loyal", "at_risk").accounts == 2  # type: ignore[union-attr]


def test_grades_and_the_filters(session: Session) -> None:
    world = build(session)
    moves(session, world)

    grades = matrix(session, actor=TESTER, month=NOV, kind="grade", flt=InsightFilter())
    key = matrix(session, actor=TESTER, month=NOV, kind="segment", flt=InsightFilter(tier="key"))
    south = matrix(
        session, actor=TESTER, month=NOV, kind="segment", flt=InsightFilter(region="华南")
    )
    of_b = matrix(
        session,
        actor=TESTER,
        month=NOV,
        kind="segment",
        flt=InsightFilter(owner_id=world.rep_b.id),
    )

    assert grades.codes == ("A", "B", "C", "E")
    assert counts(grades) == {("A", "A"): 3, ("A", "B"): 1, ("B", "A"): 2, ("C", "E"): 1}
    assert (grades.stayed, grades.moved) == (3, 4)
    assert (key.accounts, key.stayed) == (11, 5)
    assert counts(south) == {("at_risk", "lost"): 1}
    assert counts(of_b) == {
        ("champions", "champions"): 1,
        ("loyal", "loyal"): 4,
        ("loyal", "at_risk"): 2,
    }


def test_a_sales_rep_sees_his_own_accounts_only(session: Session) -> None:
    world = build(session)
    moves(session, world)
    rep = Actor.for_user(world.rep_b)

    found = matrix(
        session, actor=rep, month=NOV, kind="segment", flt=InsightFilter(owner_id=world.rep_a.id)
    )

    assert found.accounts == 7
    assert counts(found) == {
        ("champions", "champions"): 1,
        ("loyal", "loyal"): 4,
        ("loyal", "at_risk"): 2,
    }


def test_a_month_not_built_is_empty_and_a_bad_kind_refused(session: Session) -> None:
    build(session)

    found = matrix(
        session, actor=TESTER, month=date(2026, 12, 1), kind="grade", flt=InsightFilter()
    )

    assert not found.built
    assert found.rows == ()
    assert found.accounts == 0
    with pytest.raises(ValidationFailed, match="segment or grade"):
        matrix(session, actor=TESTER, month=NOV, kind="tier", flt=InsightFilter())


# ---------------------------------------------------------------- the page


def test_the_page_shows_counts_shares_and_the_diagonal(
    client: TestClient, session: Session
) -> None:
    world = build(session)
    moves(session, world)
    sign_in(client, world.boss.username)

    page = client.get("/insights/transitions?month=2026-11")

    assert page.status_code == 200, page.text
    html = page.text
    assert 'data-testid="matrix" data-kind="segment"' in html
    assert "19 accounts: 10 stayed where they were, 9 moved." in html
    assert '<td data-to="champions" data-accounts="6" class="tr-diag"' in html
    assert '<td data-to="loyal" data-accounts="2"  style=' in html
    assert "75.0%" in html
    assert "25.0%" in html
    assert "Not scored" in html
    assert "Champions" in html

    grades = client.get("/insights/transitions?month=2026-11&kind=grade").text
    assert 'data-kind="grade"' in grades
    assert "6 accounts" not in grades
    assert "7 accounts: 3 stayed where they were, 4 moved." in grades


def test_the_page_in_chinese_for_a_sales_rep(client: TestClient, session: Session) -> None:
    world = build(session)
    moves(session, world)
    world.rep_a.language = "zh"
    session.flush()
    sign_in(client, world.rep_a.username)

    page = client.get("/insights/transitions?month=2026-11&owner=rep.b")

    assert page.status_code == 200, page.text
    assert '<html lang="zh-CN">' in page.text
    assert 'data-accounts="5" class="tr-diag"' in page.text
    assert 'data-accounts="4"' not in page.text  # B's loyal accounts are not his
    assert "12 个客户：5 个留在原处，7 个发生迁移。" in page.text
    assert "未评分" in page.text


# ---------------------------------------------------------------- the accounts behind a cell


def nothing(session: Session, accounts: Accounts, month: Month) -> Mapping[str, Contribution]:
    return {}


def scored_company(session: Session) -> dict[str, Customer]:
    """Six accounts with their segments and grades at the ends of October and November 2026,
    built into the cube by the snapshot itself."""
    rep = make_person(session, "rep.x", role=Role.SALES)
    other = make_person(session, "rep.y", role=Role.SALES)
    c = {
        name: make_customer(session, code=name, owner=owner, created_on=created)
        for name, owner, created in (
            ("TX1", rep, date(2025, 1, 1)),
            ("TX2", rep, date(2025, 1, 1)),
            ("TX3", other, date(2025, 1, 1)),
            ("TX4", rep, date(2025, 1, 1)),
            ("TX5", rep, date(2026, 11, 10)),  # new in November: not counted
            ("TX6", rep, date(2025, 1, 1)),
        )
    }
    for code, day, segment in (
        ("TX1", date(2026, 10, 15), Segment.LOYAL),
        ("TX1", date(2026, 11, 20), Segment.CHAMPIONS),
        ("TX2", date(2026, 10, 15), Segment.LOYAL),
        ("TX3", date(2026, 10, 1), Segment.CHAMPIONS),
        ("TX3", date(2026, 11, 5), Segment.AT_RISK),
        ("TX5", date(2026, 11, 20), Segment.PROMISING),
        ("TX6", date(2026, 11, 2), Segment.PROMISING),
        ("TX6", date(2026, 12, 1), Segment.LOST),  # after November: not counted
    ):
        make_loyalty_score(session, customer=c[code], as_of=day, segment=segment)
    for code, day, grade in (
        ("TX1", date(2026, 10, 31), "B"),
        ("TX1", date(2026, 11, 30), "A"),
        ("TX3", date(2026, 10, 3), "C"),
    ):
        make_credit_score(session, customer=c[code], as_of=day, grade=grade)
    snapshot.run(session, as_of=date(2026, 11, 30), history=2, sources=[nothing])
    return c


def codes_of(session: Session, actor: Actor, kind: str, source: str, to: str) -> list[str]:
    found = cell_accounts(
        session,
        actor=actor,
        month=NOV,
        kind=kind,
        flt=InsightFilter(),
        from_code=source,
        to_code=to,
        size=2,
    )
    rest = cell_accounts(
        session,
        actor=actor,
        month=NOV,
        kind=kind,
        flt=InsightFilter(),
        from_code=source,
        to_code=to,
        page=2,
        size=2,
    )
    codes = [row.code for row in [*found.rows, *rest.rows]]
    assert found.total == len(codes) <= 4
    return codes


def test_each_cell_lists_the_accounts_it_counts(session: Session) -> None:
    company = scored_company(session)

    segments = matrix(session, actor=TESTER, month=NOV, kind="segment", flt=InsightFilter())
    grades = matrix(session, actor=TESTER, month=NOV, kind="grade", flt=InsightFilter())

    # The scores stored; accounts without one take what the cube computes for them.
    assert segments.cell("loyal", "champions").accounts == 1  # type: ignore[union-attr]
    assert segments.cell("champions", "at_risk").accounts == 1  # type: ignore[union-attr]
    assert grades.cell("B", "A").accounts == 1  # type: ignore[union-attr]
    assert codes_of(session, TESTER, "segment", "loyal", "champions") == ["TX1"]
    assert codes_of(session, TESTER, "segment", "champions", "at_risk") == ["TX3"]
    assert codes_of(session, TESTER, "grade", "B", "A") == ["TX1"]
    assert segments.accounts == grades.accounts == 5  # TX5, new in November, is not counted
    for found in (segments, grades):
        listed: list[str] = []
        for row in found.rows:
            for cell in row.cells:
                codes = codes_of(session, TESTER, found.kind, cell.from_code, cell.to_code)
                assert len(codes) == cell.accounts, (found.kind, cell)
                listed += codes
        assert sorted(listed) == sorted(c for c in company if c != "TX5")


def test_the_list_keeps_the_sales_reps_scope(client: TestClient, session: Session) -> None:
    scored_company(session)
    sign_in(client, "rep.y")

    mine = client.get("/insights/transitions/accounts?month=2026-11&from=champions&to=at_risk")
    not_mine = client.get("/insights/transitions/accounts?month=2026-11&from=loyal&to=champions")
    matrix_page = client.get("/insights/transitions?month=2026-11")

    assert mine.status_code == 200, mine.text
    assert 'data-account="TX3"' in mine.text
    assert "Champions → At risk" in mine.text
    assert 'data-account="TX1"' not in not_mine.text
    assert "No account matches these filters." in not_mine.text
    assert (
        'href="/insights/transitions/accounts?month=2026-11&amp;kind=segment&amp;from=champions&amp;to=at_risk"'
        in matrix_page.text
    )
