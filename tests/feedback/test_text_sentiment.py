"""The shipped zh/en sentiment model: clear comments, neutral band, model file, company retraining."""

from __future__ import annotations

from pathlib import Path

import pytest

from flywheel.feedback.text import sentiment
from flywheel.feedback.text.normalize import detect_language, normalize

CLEAR = [
    ("送货很快，质量很好，非常满意", "positive", "zh"),
    ("客服态度热情，问题当天就解决了，谢谢", "positive", "zh"),
    ("性价比高，会继续合作", "positive", "zh"),
    ("太慢了，等了两个星期还没到货，很失望", "negative", "zh"),
    ("质量太差，用了两天就坏了", "negative", "zh"),
    ("发票开错了三次，对账非常麻烦", "negative", "zh"),
    ("Great service and fast delivery, very happy with it.", "positive", "en"),
    ("Excellent quality, I would recommend this supplier.", "positive", "en"),
    ("The product broke after two days, terrible quality.", "negative", "en"),
    ("Very disappointed, nobody answered our complaint.", "negative", "en"),
    ("I am not happy with the wrong invoice.", "negative", "en"),
]


@pytest.fixture(scope="module")
def model() -> sentiment.SentimentModel:
    return sentiment.load_model()


@pytest.mark.parametrize(("text", "label", "language"), CLEAR)
def test_clear_comments_get_their_sentiment(
    model: sentiment.SentimentModel, text: str, label: str, language: str
) -> None:
    (result,) = model.predict([text])

    assert result.label == label
    assert result.language == language
    assert -1.0 <= result.score <= 1.0
    assert (result.score > 0) == (label == "positive")


def test_empty_and_sentimentless_text_is_neutral(model: sentiment.SentimentModel) -> None:
    results = model.predict(["", "   ", "The order number is 4711."])

    assert [r.label for r in results] == ["neutral", "neutral", "neutral"]
    assert [r.score for r in results[:2]] == [0.0, 0.0]
    assert abs(results[2].score) < sentiment.NEUTRAL_BAND


def test_the_neutral_band_lies_around_zero() -> None:
    band = sentiment.NEUTRAL_BAND

    assert sentiment.label_from_score(0.0) == "neutral"
    assert sentiment.label_from_score(band - 0.01) == "neutral"
    assert sentiment.label_from_score(-band + 0.01) == "neutral"
    assert sentiment.label_from_score(band) == "positive"
    assert sentiment.label_from_score(-band) == "negative"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("送货很快", "zh"),
        ("Fast delivery", "en"),
        ("The 发票 is wrong, please fix it", "en"),
        ("订单ABC123还没到", "zh"),
        ("12345", "en"),
    ],
)
def test_language_is_detected(text: str, language: str) -> None:
    assert detect_language(text) == language
    assert sentiment.detect_language(text) == language


def test_normalisation_folds_width_case_repeats_and_emoji() -> None:
    assert normalize("ＡＢＣ１２３！！！！好好好好👍") == "abc123!!好好赞"
    assert normalize("Good 👍", "en") == "good  good "


def test_the_model_is_cached_and_versioned(model: sentiment.SentimentModel) -> None:
    assert sentiment.load_model() is model
    assert model.version.startswith("shipped-ngram-nbsvm-")


def test_a_saved_model_loads_back_with_the_same_predictions(
    model: sentiment.SentimentModel, tmp_path: Path
) -> None:
    texts = [text for text, _, _ in CLEAR]

    sentiment.save_model(model, tmp_path / "copy")
    again = sentiment.load_model(tmp_path / "copy")

    assert sorted(p.name for p in (tmp_path / "copy").iterdir()) == [
        "sentiment.json",
        "sentiment_zh.npz",
    ]
    assert again.version == model.version
    assert again.predict(texts) == model.predict(texts)


def test_loading_from_an_empty_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no sentiment model"):
        sentiment.load_model(tmp_path)


def test_company_retraining_learns_the_companys_own_words(
    model: sentiment.SentimentModel,
) -> None:
    # A trade word the shipped corpus does not know: "拖柜" (the container was held up).
    negative = [f"第{i}批货又拖柜了" for i in range(120)] + [f"这次拖柜{i}天" for i in range(100)]
    positive = [f"第{i}批货按时到港" for i in range(120)] + [f"对接顺畅{i}" for i in range(100)]
    texts = negative + positive
    labels = ["negative"] * len(negative) + ["positive"] * len(positive)

    company = sentiment.train_company_model(texts, labels, base=model, min_comments=200)

    assert company.version.startswith("company-")
    assert company.meta["n_company"] == 440
    assert [r.label for r in company.predict(["又拖柜"])] == ["negative"]
    assert company.predict(["Great service, very happy"])[0].label == "positive"


def test_company_retraining_refuses_too_few_or_one_sided_comments() -> None:
    with pytest.raises(ValueError, match="retraining needs at least 200"):
        sentiment.train_company_model(["好"] * 10, [1] * 10, min_comments=200)
    with pytest.raises(ValueError, match="both positive and negative"):
        sentiment.train_company_model(["好"] * 10, [1] * 10)
    with pytest.raises(ValueError, match="'maybe' is not a sentiment label"):
        sentiment.train_company_model(["好", "差"], [1, "maybe"])


@pytest.mark.parametrize(
    "text",
    [
        "support is too slow, churn risk",
        "Delivery was late and we were overcharged.",
        "Our emails went unanswered for a week.",
    ],
)
def test_english_business_complaints_are_negative(text: str) -> None:
    # words VADER's general list lacks (slow, late, overcharged, unanswered) carry the tone
    assert sentiment.load_model().predict([text])[0].label == "negative"
