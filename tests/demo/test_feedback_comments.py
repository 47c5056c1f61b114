"""The demo's comment composer and protection rule: pure arrays, no database."""

from __future__ import annotations

import numpy as np

from flywheel.demo.feedback_comments import (
    NEGATIVE,
    POSITIVE,
    TOPIC_CODES,
    Comments,
    compose_comments,
)
from flywheel.demo.feedback_history import _recently_surveyed
from flywheel.demo.feedback_text import FRAGMENTS
from flywheel.demo.tables import TextArray, texts


def _compose(seed: int, n: int = 4000) -> tuple[TextArray, Comments]:
    rng = np.random.default_rng(seed)
    band = texts(rng.choice(["detractor", "passive", "promoter"], n).tolist())
    comments = compose_comments(
        rng,
        english=rng.random(n) < 0.3,
        band=band,
        purpose=rng.integers(0, 5, n),
        late=rng.random(n) < 0.1,
        low=rng.random(n) < 0.2,
    )
    return band, comments


def test_same_seed_same_comments() -> None:
    _, first = _compose(3)
    _, again = _compose(3)
    assert first.text.tolist() == again.text.tolist()


def test_tone_share_topics_and_urgency() -> None:
    _, comments = _compose(5)
    present = comments.present
    tone = comments.tone
    assert 0.3 < present.mean() < 0.5
    assert present[tone == NEGATIVE].mean() > present[tone == POSITIVE].mean()
    urgent = comments.urgency != ""
    assert urgent.any()
    assert not (urgent & (tone != NEGATIVE)).any()
    assert 0.05 < urgent[present & (tone == NEGATIVE)].mean() < 0.3
    # A comment naming a topic carries one of that topic's fragments (typos aside).
    text = comments.text.tolist()
    topic = comments.topic
    hits = 0
    named = np.flatnonzero(present & (topic >= 0))
    for row in named.tolist():
        code = TOPIC_CODES[topic[row]]
        phrases = [p for lang in FRAGMENTS.values() for kind in lang[code].values() for p in kind]
        hits += any(p[1:-1].lower() in text[row].lower() for p in phrases)
    assert hits / len(named) > 0.9


def test_both_languages_and_negation_and_mixed_texts() -> None:
    _, comments = _compose(9)
    text = [t for t in comments.text.tolist() if t]
    assert any("不算" in t or "没什么" in t for t in text)
    assert any("not " in t.lower() for t in text)
    assert any("但" in t for t in text)
    assert any(t[:1].isupper() for t in text)


def test_recently_surveyed_keeps_one_invitation_per_gap() -> None:
    contact = np.array([1, 1, 1, 1, 2, 2], dtype=np.int64)
    day = np.array([0, 30, 95, 100, 10, 200], dtype=np.int64)
    skipped = _recently_surveyed(contact, day, gap=90)
    # Day 30 is too close to day 0; 95 is 95 days after the last one sent (0); 100 is too close.
    assert skipped.tolist() == [False, True, False, True, False, False]
