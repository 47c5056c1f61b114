"""The database side of text analytics: every survey comment, touchpoint note and dispute
description analysed once (an edited answer again), what the text package found kept as it
found it, prior complaints counted for urgency, and the company's own model retrained on its
scored comments and kept only when it is not worse."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from flywheel.collections import disputes
from flywheel.config import Settings
from flywheel.feedback import analysis, loops
from flywheel.feedback.text import sentiment as text_sentiment
from flywheel.feedback.text import topics as text_topics
from flywheel.feedback.text import urgency as text_urgency
from flywheel.models.customers import Touchpoint
from flywheel.models.enums import DisputeReason, Sentiment, SurveyKind, TextSource
from flywheel.models.feedback import FeedbackLoop, TextAnalysis
from flywheel.models.receivables import Installment
from tests.factories import TESTER, make_invoice
from tests.feedback.loop_support import NOW, SETTINGS, LoopWorld, analysis_of, answer, build

COMPLAINT = "交货又延迟了一周，包装也破损了，再这样我们就换供应商"
PRAISE = "产品质量很好，服务周到，交货准时"


@pytest.fixture
def world(session: Session) -> LoopWorld:
    analysis.ensure_topics(session)
    return build(session)


def _expected(session: Session, text: str, prior: int = 0) -> dict[str, object]:
    """What the text package itself says of ``text``: the analysis must keep exactly that."""
    [feeling] = text_sentiment.load_model().predict([text])
    hits = text_topics.tag(text, analysis.topic_defs(session))
    return {
        "sentiment": str(feeling.label),
        "topics": list(dict.fromkeys(h.code for h in hits)),
        "urgency": [str(f) for f in text_urgency.flags(text, prior_negative_count=prior)],
    }


def _stored(row: TextAnalysis) -> dict[str, object]:
    return {"sentiment": row.sentiment, "topics": row.topics, "urgency": row.urgency}


def _touchpoint(session: Session, world: LoopWorld, note: str | None, *, days_ago: int) -> int:
    point = Touchpoint(
        reference=f"TP-A-{world.own.id}-{days_ago}-{len(note or '')}",
        customer_id=world.own.id,
        kind="call",
        occurred_at=NOW - timedelta(days=days_ago),
        summary=note,
    )
    session.add(point)
    session.flush()
    return point.id


def test_the_shipped_taxonomy_is_seeded_once(session: Session) -> None:
    first = analysis.ensure_topics(session)
    again = analysis.ensure_topics(session)

    assert first == len(text_topics.DEFAULT_TOPICS) or first == 0
    assert again == 0
    codes = {t.code for t in analysis.topic_defs(session)}
    assert {t.code for t in text_topics.DEFAULT_TOPICS} <= codes


def test_a_comment_is_analysed_and_an_edited_one_again_into_the_same_row(
    session: Session, world: LoopWorld
) -> None:
    response = answer(session, world.own, score=3, comment=COMPLAINT)

    first = analysis.analyse_response(session, response, SETTINGS, now=NOW)

    assert first is not None
    assert (first.source, first.source_id) == (TextSource.RESPONSE.value, response.id)
    assert first.customer_id == world.own.id
    assert _stored(first) == _expected(session, COMPLAINT)
    assert -1.0 <= first.sentiment_score <= 1.0
    assert first.model_version == str(text_sentiment.load_model().version)
    for code, places in first.topic_spans.items():
        assert code in first.topics
        assert all(0 <= s < e <= len(COMPLAINT) for s, e in places)

    response.comment = PRAISE
    second = analysis.analyse_response(session, response, SETTINGS, now=NOW)

    assert second is not None
    assert second.id == first.id
    assert _stored(second) == _expected(session, PRAISE)
    assert session.scalar(select(func.count()).select_from(TextAnalysis)) == 1


def test_a_comment_taken_back_drops_its_analysis_but_not_its_follow_up(
    session: Session, world: LoopWorld
) -> None:
    response = answer(session, world.own, score=2, comment=COMPLAINT)
    analysed = analysis.analyse_response(session, response, SETTINGS, now=NOW)
    loop = loops.open_for_response(session, response, analysed, SETTINGS, now=NOW)
    assert loop is not None

    response.comment = "  "
    assert analysis.analyse_response(session, response, SETTINGS, now=NOW) is None

    assert session.scalar(select(func.count()).select_from(TextAnalysis)) == 0
    session.refresh(loop)
    assert loop.analysis_id is None
    assert loop.reason == "detractor"


def test_prior_negative_texts_of_the_last_90_days_count_for_urgency(
    session: Session, world: LoopWorld
) -> None:
    for days_ago in (10, 40, 120):  # the third is too old to count
        analysis_of(
            session,
            customer=world.own,
            source=TextSource.TOUCHPOINT,
            source_id=_touchpoint(session, world, f"旧投诉 {days_ago}", days_ago=days_ago),
            sentiment=Sentiment.NEGATIVE,
            at=NOW - timedelta(days=days_ago),
        )
    response = answer(session, world.own, score=2, comment=COMPLAINT)

    analysed = analysis.analyse_response(session, response, SETTINGS, now=NOW)

    assert analysed is not None
    assert analysed.urgency == _expected(session, COMPLAINT, prior=2)["urgency"]


def test_praise_is_not_urgent_for_earlier_complaints_or_a_meeting_with_management(
    session: Session, world: LoopWorld
) -> None:
    # Given two recent complaints of the account,
    for days_ago in (5, 20):
        analysis_of(
            session,
            customer=world.own,
            source=TextSource.TOUCHPOINT,
            source_id=_touchpoint(session, world, f"投诉 {days_ago}", days_ago=days_ago),
            sentiment=Sentiment.NEGATIVE,
            at=NOW - timedelta(days=days_ago),
        )
    praise = "客户对交付速度和质量非常满意，安排高层互访，下月再次跟进，合作愉快。"
    response = answer(session, world.own, score=10, comment=praise)

    analysed = analysis.analyse_response(session, response, SETTINGS, now=NOW)

    # a happy customer is neither "repeated" nor asking for management
    assert analysed is not None
    assert analysed.sentiment == Sentiment.POSITIVE.value
    assert analysed.urgency == []


def test_pending_notes_disputes_and_comments_are_analysed_once(
    session: Session, world: LoopWorld
) -> None:
    recent = _touchpoint(session, world, COMPLAINT, days_ago=1)
    old = _touchpoint(session, world, "两年前：" + COMPLAINT, days_ago=400)
    _touchpoint(session, world, "   ", days_ago=2)  # nothing to analyse
    _touchpoint(session, world, None, days_ago=3)
    invoice = make_invoice(session, customer=world.own, amount="800.00")
    installment = session.scalars(
        select(Installment).where(Installment.invoice_id == invoice.id)
    ).one()
    dispute = disputes.open_dispute(
        session,
        actor=TESTER,
        customer=world.own,
        installment_id=installment.id,
        reason=DisputeReason.QUALITY,
        as_of=NOW.date(),
        amount=Decimal("100.00"),
        description="货物质量有问题，要求退货",
    )
    response = answer(session, world.other, score=9, comment=PRAISE)
    answer(session, world.other, kind=SurveyKind.CSAT, score=5)  # no comment

    counts = analysis.analyse_pending(session, SETTINGS, NOW)
    again = analysis.analyse_pending(session, SETTINGS, NOW + timedelta(hours=1))

    rows = {(r.source, r.source_id): r for r in session.scalars(select(TextAnalysis)).all()}
    assert set(rows) == {
        (TextSource.TOUCHPOINT.value, recent),
        (TextSource.TOUCHPOINT.value, old),
        (TextSource.DISPUTE.value, dispute.id),
        (TextSource.RESPONSE.value, response.id),
    }
    urgent_recent = rows[(TextSource.TOUCHPOINT.value, recent)]
    assert urgent_recent.occurred_at == NOW - timedelta(days=1)
    assert rows[(TextSource.DISPUTE.value, dispute.id)].customer_id == world.own.id
    # Only a recent, negative and urgent note opens a follow-up; the old one is history.
    expect_loop = urgent_recent.sentiment == Sentiment.NEGATIVE and bool(urgent_recent.urgency)
    assert counts == {
        "response": 1,
        "touchpoint": 2,
        "dispute": 1,
        "loops_opened": int(expect_loop),
    }
    assert again == {"response": 0, "touchpoint": 0, "dispute": 0, "loops_opened": 0}
    keys = set(session.scalars(select(FeedbackLoop.dedupe_key)))
    assert keys == ({f"text:{urgent_recent.id}"} if expect_loop else set())


# ---------------------------------------------------------------- the company's own model

_GOOD = ["对账很顺利", "开票及时准确", "售后工程师上门很快", "备件一次就配齐了", "账期安排很灵活",
         "技术支持回复专业", "现场安装一次成功", "月结单据清清楚楚"]  # fmt: skip
_BAD = ["对账单总是对不上", "发票抬头又开错了", "售后工程师迟迟不来", "备件型号发错了",
        "账期被无故缩短", "技术支持答非所问", "现场安装返工三次", "月结单据缺了好几张"]  # fmt: skip


def _scored_comments(session: Session, world: LoopWorld, n: int) -> None:
    rng = random.Random(11)
    for i in range(n):
        good = i % 2 == 0
        phrase = rng.choice(_GOOD if good else _BAD)
        score = rng.choice([9, 10]) if good else rng.choice([0, 2, 4, 6])
        answer(
            session,
            world.own,
            score=score,
            comment=f"{phrase}（第{i}单）",
            at=NOW - timedelta(days=n - i),
        )
    answer(session, world.own, score=8, comment="还行")  # a passive teaches nothing


def test_retraining_waits_for_enough_scored_comments(
    session: Session, world: LoopWorld, tmp_path: Path
) -> None:
    _scored_comments(session, world, 30)
    settings = Settings(sentiment_retrain_min=40, model_dir=tmp_path)

    result = analysis.retrain(session, settings, tmp_path)

    assert result.trained is False
    assert result.n_comments == 30
    assert "40" in result.reason
    assert list(tmp_path.iterdir()) == []


def test_the_company_model_is_trained_on_scored_comments_and_kept_when_not_worse(
    session: Session, world: LoopWorld, tmp_path: Path
) -> None:
    _scored_comments(session, world, 240)
    settings = Settings(sentiment_retrain_min=200, model_dir=tmp_path)

    result = analysis.retrain(session, settings, tmp_path, now=NOW)

    assert result.trained is True
    assert result.n_comments == 240
    assert (result.n_train, result.n_test) == (192, 48)
    for metrics in (result.shipped, result.company):
        assert set(metrics) == {"accuracy", "macro_f1"}
        assert 0.0 <= metrics["macro_f1"] <= 1.0
    assert result.kept == (result.company["macro_f1"] >= result.shipped["macro_f1"])
    used = analysis.load_company_or_default(settings)
    if result.kept:
        assert (tmp_path / analysis.COMPANY_DIR / analysis.CURRENT_FILE).exists()
        assert str(used.version) == result.model_version
        again = analysis.retrain(session, settings, tmp_path, now=NOW)
        assert again.trained is False
        assert again.kept is True
        assert again.company == result.company
    else:
        assert not (tmp_path / analysis.COMPANY_DIR).exists()
        assert str(used.version) == str(text_sentiment.load_model().version)


def test_comments_in_the_good_and_bad_bands_are_the_labels() -> None:
    assert analysis.sentiment_label("nps", 9) == "positive"
    assert analysis.sentiment_label("nps", 6) == "negative"
    assert analysis.sentiment_label("nps", 7) is None
    assert analysis.sentiment_label("csat", 4) == "positive"
    assert analysis.sentiment_label("csat", 2) == "negative"
    assert analysis.sentiment_label("ces", 3) == "negative"
    assert analysis.sentiment_label("ces", 4) is None


def test_suggested_topics_come_from_untagged_negative_texts_of_the_readers_accounts(
    session: Session, world: LoopWorld
) -> None:
    for i in range(12):
        analysis_of(
            session,
            customer=world.own,
            source=TextSource.TOUCHPOINT,
            source_id=_touchpoint(
                session, world, f"安装说明书看不懂，螺丝孔位不对 {i}", days_ago=i
            ),
            sentiment=Sentiment.NEGATIVE,
        )
    from flywheel.auth.actor import Actor

    rival_texts, rival_found = analysis.suggestions(session, Actor.for_user(world.rival))
    texts, found = analysis.suggestions(session, Actor.for_user(world.rep))

    assert (rival_texts, rival_found) == (0, [])
    assert texts == 12
    codes = [s.code for s in found]
    assert len(codes) == len(set(codes))
    taken = {t.code for t in analysis.list_topics(session)}
    assert not taken & set(codes)
    for s in found:
        assert s.size >= 1
        assert s.terms
        assert s.examples


def test_the_analyze_command_analyses_then_reports_the_retraining(
    session: Session, world: LoopWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json
    from collections.abc import Iterator
    from contextlib import contextmanager

    from typer.testing import CliRunner

    from flywheel.cli import app as flywheel_app
    from flywheel.config import get_settings
    from flywheel.feedback import loop_cli

    @contextmanager
    def unit_of_work() -> Iterator[Session]:
        savepoint = session.begin_nested()
        try:
            yield session
        except BaseException:
            savepoint.rollback()
            raise
        savepoint.commit()

    monkeypatch.setattr(loop_cli, "unit_of_work", unit_of_work)
    monkeypatch.setattr(get_settings(), "model_dir", tmp_path)
    _touchpoint(session, world, COMPLAINT, days_ago=30)
    answer(session, world.own, score=10, comment=PRAISE)

    result = CliRunner().invoke(flywheel_app, ["feedback", "analyze", "--json"])

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["analysed"] == {
        "response": 1,
        "touchpoint": 1,
        "dispute": 0,
        "loops_opened": 0,
    }
    assert report["retrain"]["trained"] is False
    assert report["retrain"]["n_comments"] == 1
