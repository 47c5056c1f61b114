"""The fast paths of topic tagging and urgency give what the straightforward ones gave."""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer

from flywheel.feedback.text import topics, urgency

TEXTS = [
    "发票开错了，税号不对",
    "Delivery was LATE and the Invoice was wrong; 发票也开错了",
    "A  b\tC\n\nd",
    "İstanbul ſhip K",
    "😀 x",
    " 多  空格 ",
    "x",
    "ab ab ab",
    "我们不会起诉，但是又坏了",
    "We will switch suppliers and call our lawyer again",
]


def test_char_counts_are_the_tfidf_vectorizer_counts() -> None:
    fitted, rest = TEXTS[:5], TEXTS
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True)
    expected = vectorizer.fit(fitted).transform(rest)

    counts, vocabulary = topics._char_counts(fitted)
    tfidf = TfidfTransformer(sublinear_tf=True).fit(counts)
    got = tfidf.transform(topics._char_counts(rest, vocabulary)[0])

    assert len(vocabulary) == len(vectorizer.vocabulary_)
    assert np.array_equal(got.indptr, expected.indptr)
    assert np.array_equal(got.indices, expected.indices)
    assert np.array_equal(got.data, expected.data)


def test_a_taxonomy_with_an_english_keyword_without_letters_still_finds_it() -> None:
    numbers = topics.TopicDef("hotline", "热线", "Hotline", (), ("12315",))

    assert topics.tag("打了12315", [numbers]) == [topics.TopicHit("hotline", ["12315"], [(2, 7)])]


def test_urgency_of_texts_without_any_flag_word_is_only_the_prior_count() -> None:
    assert urgency.flags("今天天气很好", prior_negative_count=2) == [urgency.REPEATED]
    assert urgency.flags("今天天气很好") == []
    assert urgency.flags("ｃａｎｃｅｌ the order") == [urgency.CHURN_THREAT]
