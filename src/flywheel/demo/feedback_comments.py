"""Survey comments for the demo, composed from phrase fragments whose tone follows the score and
whose topics follow the journey stage; vectorised over all answers at once."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flywheel.demo import feedback_text as words
from flywheel.demo.tables import (
    TEXT,
    BoolArray,
    Float64Array,
    Int64Array,
    TextArray,
    join,
    texts,
)
from flywheel.models.enums import ScoreBand

NEGATIVE, NEUTRAL, POSITIVE = 0, 1, 2
_TONES = ("negative", "neutral", "positive")
_FRAGMENT_KINDS = ("negative", "positive", "negated")
_LANGS = ("zh", "en")
TOPIC_CODES = words.TOPICS
DELIVERY = TOPIC_CODES.index("delivery")

# How often each topic comes up, by purpose (NPS key, NPS base, CSAT delivery, support, CES).
# Columns follow ``TOPICS``: delivery quality price service billing communication packaging
# returns documentation.
_TOPIC_WEIGHTS = np.array(
    [
        [0.14, 0.18, 0.14, 0.16, 0.07, 0.15, 0.04, 0.04, 0.08],
        [0.18, 0.20, 0.20, 0.14, 0.06, 0.10, 0.04, 0.04, 0.04],
        [0.38, 0.20, 0.00, 0.00, 0.04, 0.06, 0.16, 0.06, 0.10],
        [0.00, 0.15, 0.00, 0.45, 0.00, 0.25, 0.00, 0.10, 0.05],
        [0.00, 0.00, 0.10, 0.20, 0.35, 0.20, 0.00, 0.10, 0.05],
    ]
)
# How a comment reads (rows) given its score's band (negative, neutral, positive).
_WRITTEN_GIVEN_SCORE = np.array([[0.82, 0.13, 0.05], [0.25, 0.50, 0.25], [0.04, 0.14, 0.82]])
# The NPS survey's "what mattered most" choice for each topic.
MAIN_REASON = ("delivery", "quality", "price", "service", "price", "service", "delivery",
               "service", "other")  # fmt: skip


@dataclass(slots=True)
class Comments:
    """One entry per answer, the generator's ground truth: the comment ("" without one), the
    tone of the score's band and the tone the comment is written in, the topics it names (-1:
    none) and the urgency it carries ("" for none)."""

    text: TextArray
    present: BoolArray
    tone: Int64Array  # of the score's band
    written: Int64Array  # how the comment reads
    topic: Int64Array  # the first topic, -1 when the comment names none
    second_topic: Int64Array
    urgency: TextArray


class _Bank:
    """A list of phrases per language, drawn from by row."""

    def __init__(self, options: dict[str, list[str]]) -> None:
        self._zh = texts(options["zh"])
        self._en = texts(options["en"])

    def draw(self, rng: np.random.Generator, english: BoolArray) -> TextArray:
        n = len(english)
        zh = self._zh[rng.integers(0, len(self._zh), n)]
        en = self._en[rng.integers(0, len(self._en), n)]
        result: TextArray = np.where(english, en, zh)
        return result


class _Fragments:
    """All topic fragments in one array with offsets by (language, topic, kind)."""

    def __init__(self) -> None:
        flat: list[str] = []
        shape = (len(_LANGS), len(TOPIC_CODES), len(_FRAGMENT_KINDS))
        self._offset = np.zeros(shape, dtype=np.int64)
        self._count = np.zeros(shape, dtype=np.int64)
        for li, lang in enumerate(_LANGS):
            for ti, topic in enumerate(TOPIC_CODES):
                for ki, kind in enumerate(_FRAGMENT_KINDS):
                    options = words.FRAGMENTS[lang][topic][kind]
                    self._offset[li, ti, ki] = len(flat)
                    self._count[li, ti, ki] = len(options)
                    flat.extend(options)
        self._flat = texts(flat)

    def draw(
        self, rng: np.random.Generator, english: BoolArray, topic: Int64Array, kind: int
    ) -> TextArray:
        lang = english.astype(np.int64)
        offset = self._offset[lang, topic, kind]
        count = self._count[lang, topic, kind]
        picked = offset + (rng.random(len(topic)) * count).astype(np.int64)
        result: TextArray = self._flat[picked]
        return result


_FRAGMENTS = _Fragments()
_CONCESSION = _Bank(words.CONCESSIONS)
_AND = _Bank(words.AND)
_BUT = _Bank(words.BUT)
_WISH = _Bank(words.WISHES)
_FILLER = _Bank(words.FILLERS)
_GENERIC = {tone: _Bank({k: words.GENERIC[k][tone] for k in _LANGS}) for tone in _TONES}
_ENDING = {tone: _Bank({k: words.ENDINGS[k][tone] for k in _LANGS}) for tone in _TONES}


def tone_of(band: TextArray) -> Int64Array:
    bad = (band == ScoreBand.DETRACTOR.value) | (band == ScoreBand.NEGATIVE.value)
    good = (band == ScoreBand.PROMOTER.value) | (band == ScoreBand.POSITIVE.value)
    tone: Int64Array = np.where(bad, NEGATIVE, np.where(good, POSITIVE, NEUTRAL)).astype(np.int64)
    return tone


def choose_topics(
    rng: np.random.Generator, purpose: Int64Array, late: BoolArray | None = None
) -> Int64Array:
    weights = _TOPIC_WEIGHTS[purpose]
    cumulative = np.cumsum(weights, axis=1)
    draw = rng.random(len(purpose))[:, None] * cumulative[:, -1:]
    topic: Int64Array = np.minimum((draw >= cumulative).sum(axis=1), len(TOPIC_CODES) - 1)
    if late is not None:
        topic = np.where(late & (rng.random(len(purpose)) < 0.7), DELIVERY, topic)
    return topic.astype(np.int64)


def compose_comments(
    rng: np.random.Generator,
    *,
    english: BoolArray,
    band: TextArray,
    purpose: Int64Array,
    late: BoolArray,
    low: BoolArray,
) -> Comments:
    """Comments for about 40% of the answers (more of the unhappy ones), in each one's language.

    Detractors complain about one or two topics, sometimes after a word of praise and, for a
    few, with a churn threat, a legal word or an escalation; passives mix praise and complaint
    or write a negated complaint ("不算慢", "not bad"); promoters praise, some with a wish."""
    n = len(band)
    tone = tone_of(band)
    wants = rng.random(n) < np.array([0.6, 0.35, 0.3])[tone]
    # What people write does not always read like their score: a detractor praises the product
    # and marks down the price, a promoter grumbles about one late truck.
    cumulative = np.cumsum(_WRITTEN_GIVEN_SCORE, axis=1)[tone]
    written = (rng.random(n)[:, None] >= cumulative).sum(axis=1).astype(np.int64)
    first = choose_topics(rng, purpose, late & (tone == NEGATIVE))
    second = (first + 1 + rng.integers(0, len(TOPIC_CODES) - 1, n)) % len(TOPIC_CODES)
    second = second.astype(np.int64)
    form = rng.random(n)
    two = rng.random(n) < 0.45
    neg1 = _FRAGMENTS.draw(rng, english, first, 0)
    neg2 = _FRAGMENTS.draw(rng, english, second, 0)
    pos1 = _FRAGMENTS.draw(rng, english, first, 1)
    pos2 = _FRAGMENTS.draw(rng, english, second, 1)
    soft1 = _FRAGMENTS.draw(rng, english, first, 2)
    soft2 = _FRAGMENTS.draw(rng, english, second, 2)
    joint = _AND.draw(rng, english)
    but = _BUT.draw(rng, english)
    empty = np.full(n, "", dtype=TEXT)
    ending = {t: _ENDING[t].draw(rng, english) for t in _TONES}
    generic = {t: _GENERIC[t].draw(rng, english) for t in _TONES}

    more_neg = np.where(two, join(joint, neg2), empty)
    more_pos = np.where(two, join(joint, pos2), empty)
    more_soft = np.where(two, join(joint, soft2), empty)
    negative = np.where(
        form < 0.15,
        join(generic["negative"], ending["negative"]),
        np.where(
            form < 0.40,
            join(_CONCESSION.draw(rng, english), neg1, ending["negative"]),
            join(neg1, more_neg, ending["negative"]),
        ),
    )
    neutral = np.where(
        form < 0.35,
        join(pos1, but, neg2, ending["neutral"]),
        np.where(
            form < 0.60,
            join(generic["neutral"], ending["neutral"]),
            np.where(
                form < 0.85,
                join(soft1, more_soft, ending["neutral"]),
                join(neg1, ending["neutral"]),
            ),
        ),
    )
    space = np.where(english, " ", "").astype(TEXT)
    positive = np.where(
        form < 0.15,
        join(generic["positive"], ending["positive"]),
        np.where(
            form < 0.72,
            join(pos1, more_pos, ending["positive"]),
            np.where(
                form < 0.82,
                join(soft1, joint, pos2, ending["positive"]),
                np.where(
                    form < 0.90,
                    join(neg1, but, pos2, ending["positive"]),
                    join(pos1, ending["positive"], space, _WISH.draw(rng, english)),
                ),
            ),
        ),
    )
    body = np.where(written == NEGATIVE, negative, np.where(written == NEUTRAL, neutral, positive))

    # Which topics a comment names, by the form it took.
    filler = rng.random(n) < 0.04
    body = np.where(filler, _FILLER.draw(rng, english), body)
    generic_form = filler | np.where(
        written == NEUTRAL, (form >= 0.35) & (form < 0.60), form < 0.15
    )
    names_second = np.where(
        written == NEUTRAL,
        (form < 0.35) | ((form >= 0.60) & (form < 0.85) & two),
        np.where(written == POSITIVE, ((form >= 0.15) & (form < 0.72) & two) | ((form >= 0.72) & (form < 0.90)), two & (form >= 0.40)),
    )  # fmt: skip
    topic = np.where(generic_form, -1, first).astype(np.int64)
    second = np.where(generic_form | ~names_second, -1, second).astype(np.int64)

    # A few detractors threaten to leave, call the lawyers or go to the boss.
    urgent_share = np.where(low, 0.22, 0.08)
    urgent = wants & (tone == NEGATIVE) & (written == NEGATIVE) & ~filler
    urgent &= rng.random(n) < urgent_share
    sentences = {lang: words.URGENT[lang] for lang in _LANGS}
    pick = rng.integers(0, min(len(sentences["zh"]), len(sentences["en"])), n)
    flag = texts([f for f, _ in sentences["zh"]])[pick]
    sentence = np.where(
        english, texts([s for _, s in sentences["en"]])[pick], texts([s for _, s in sentences["zh"]])[pick]
    )  # fmt: skip
    body = np.where(urgent, join(body, space, sentence), body)
    body = _capitalised(body, english)
    body = _typos(rng, body, english)

    empty_text = np.full(n, "", dtype=TEXT)
    return Comments(
        text=np.where(wants, body, empty_text),
        present=wants,
        tone=tone,
        written=written,
        topic=np.where(wants, topic, -1).astype(np.int64),
        second_topic=np.where(wants, second, -1).astype(np.int64),
        urgency=np.where(urgent, flag, empty_text),
    )


def _capitalised(body: TextArray, english: BoolArray) -> TextArray:
    head = np.strings.upper(np.strings.slice(body, 0, 1))
    result: TextArray = np.where(english, join(head, np.strings.slice(body, 1, None)), body)
    return result


def _typos(rng: np.random.Generator, body: TextArray, english: BoolArray) -> TextArray:
    """Real comments have typos: a dropped letter in English, a half-width comma in Chinese."""
    n = len(body)
    result = body.copy()
    rows = np.flatnonzero(english & (rng.random(n) < 0.06))
    if len(rows):
        length = np.strings.str_len(result[rows])
        at = 1 + (rng.random(len(rows)) * np.maximum(length - 3, 1)).astype(np.int64)
        result[rows] = join(
            np.strings.slice(result[rows], 0, at), np.strings.slice(result[rows], at + 1, None)
        )
    rows = np.flatnonzero(~english & (rng.random(n) < 0.05))
    if len(rows):
        result[rows] = np.strings.replace(result[rows], "，", ",")
    return result


def main_reasons(
    rng: np.random.Generator, comments: Comments, purpose: Int64Array, nps: BoolArray
) -> TextArray:
    """The NPS follow-up answer: the topic the comment names first, else one drawn by weight;
    about a third of the respondents skip the question ("")."""
    topic = np.where(comments.topic >= 0, comments.topic, choose_topics(rng, purpose))
    reason: TextArray = texts(MAIN_REASON)[topic]
    skipped = ~nps | (rng.random(len(topic)) < 0.3)
    result: TextArray = np.where(skipped, np.full(len(topic), "", dtype=TEXT), reason)
    return result


def dispute_notes(rng: np.random.Generator, english: BoolArray, reasons: list[str]) -> TextArray:
    """A collector's note on each dispute, in the customer's language, by dispute reason."""
    result = np.empty(len(reasons), dtype=TEXT)
    reason = texts(reasons)
    for lang, by_reason in words.DISPUTE_NOTES.items():
        for name, options in by_reason.items():
            rows = np.flatnonzero((reason == name) & (english == (lang == "en")))
            result[rows] = texts(options)[rng.integers(0, len(options), len(rows))]
    missing = np.flatnonzero(result == "") if len(result) else np.zeros(0, dtype=np.int64)
    result[missing] = texts(["客户提出异议，需要进一步核实。"])[0]
    return result


def scores_from(
    rng: np.random.Generator, latent: Float64Array, kind: TextArray, rating: Int64Array
) -> Int64Array:
    """A score on each survey's own scale from a latent satisfaction around 0..1."""
    # The satisfaction the owner noted on the touchpoint asked about (1–5) pulls the answer.
    latent = np.where(rating > 0, 0.6 * latent + 0.4 * (rating - 1) / 4.0, latent)
    nps = np.clip(np.rint(rng.normal(1.0 + 10.0 * latent, 1.5)), 0, 10)
    csat = np.clip(np.rint(rng.normal(0.8 + 4.6 * latent, 0.8)), 1, 5)
    ces = np.clip(np.rint(rng.normal(1.2 + 6.3 * latent, 1.0)), 1, 7)
    score = np.where(kind == "nps", nps, np.where(kind == "csat", csat, ces))
    result: Int64Array = score.astype(np.int64)
    return result
