"""The database side of text analytics: the editable topic taxonomy, the analysis of every
survey comment, touchpoint note and dispute description into ``TextAnalysis`` rows, and the
company's own sentiment model, retrained on its scored survey comments."""

from __future__ import annotations

import bisect
import json
import logging
import re
import shutil
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Table, and_, func, insert, select, update
from sqlalchemy.orm import Session

from flywheel.audit import service as audit
from flywheel.auth import permissions
from flywheel.auth.actor import Actor
from flywheel.auth.permissions import Permission
from flywheel.config import Settings
from flywheel.errors import NotFound, ValidationFailed
from flywheel.feedback import surveys
from flywheel.models.base import utcnow
from flywheel.models.collections import Dispute
from flywheel.models.customers import Touchpoint
from flywheel.models.enums import Sentiment, TextSource, UrgencyFlag
from flywheel.models.feedback import FeedbackLoop, FeedbackTopic, SurveyResponse, TextAnalysis

# A customer's negative texts in this many days before a text count as its prior complaints.
REPEAT_WINDOW = timedelta(days=90)
BATCH = 2000
COMPANY_DIR = "sentiment_company"
CURRENT_FILE = "current.json"
# Of the company's scored comments, this share is kept out of training to compare the models.
HELD_OUT = 0.2

log = logging.getLogger(__name__)

TOPIC_AUDITED = ("code", "name_zh", "name_en", "keywords_zh", "keywords_en", "active")
_CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
MAX_KEYWORDS = 200
MAX_KEYWORD_LENGTH = 40


# ----------------------------------------------------------------------------- the taxonomy


def _text() -> Any:
    """The text analytics package (imported when first needed: it loads scikit-learn)."""
    from flywheel.feedback.text import sentiment, topics, urgency

    return SimpleNamespace(sentiment=sentiment, topics=topics, urgency=urgency)


def parse_keywords(value: str | Iterable[str] | None) -> list[str]:
    """Keywords from a list, or from text with one per line or separated by commas (, ，、;)."""
    if value is None:
        return []
    parts = re.split(r"[\n,，、;；]+", value) if isinstance(value, str) else list(value)
    seen: dict[str, None] = {}
    for part in parts:
        word = " ".join(str(part).split())
        if word and word.casefold() not in {w.casefold() for w in seen}:
            seen[word] = None
    return list(seen)


def check_topic(data: Mapping[str, Any]) -> dict[str, Any]:
    """A topic's fields checked and normalised; errors name the field."""
    code = str(data.get("code") or "").strip().lower()
    if not _CODE.match(code):
        raise ValidationFailed(
            "code: 2 to 40 characters, lowercase letters, digits and _, starting with a letter",
            field="code",
        )
    out: dict[str, Any] = {"code": code}
    for name in ("name_zh", "name_en"):
        text = " ".join(str(data.get(name) or "").split())
        if not text:
            raise ValidationFailed(f"{name}: the topic needs a name", field=name)
        if len(text) > 80:
            raise ValidationFailed(f"{name}: at most 80 characters", field=name)
        out[name] = text
    for name in ("keywords_zh", "keywords_en"):
        words = parse_keywords(data.get(name))
        if len(words) > MAX_KEYWORDS:
            raise ValidationFailed(f"{name}: at most {MAX_KEYWORDS} keywords", field=name)
        long = [w for w in words if len(w) > MAX_KEYWORD_LENGTH]
        if long:
            raise ValidationFailed(
                f"{name}: {long[0]!r} is longer than {MAX_KEYWORD_LENGTH} characters", field=name
            )
        out[name] = words
    if not out["keywords_zh"] and not out["keywords_en"]:
        raise ValidationFailed(
            "keywords_zh: a topic needs at least one keyword, Chinese or English",
            field="keywords_zh",
        )
    return out


def ensure_topics(session: Session) -> int:
    """Seed the taxonomy the product ships with: topics missing by code are added, existing
    ones (perhaps edited) are left alone. Returns how many were added."""
    have = set(session.scalars(select(FeedbackTopic.code)))
    rows = []
    for topic in _text().topics.DEFAULT_TOPICS:
        if topic.code in have:
            continue
        rows.append(
            {
                **check_topic(
                    {
                        "code": topic.code,
                        "name_zh": topic.name_zh,
                        "name_en": topic.name_en,
                        "keywords_zh": list(topic.keywords_zh),
                        "keywords_en": list(topic.keywords_en),
                    }
                ),
                "active": True,
                "updated_at": utcnow(),
            }
        )
        have.add(topic.code)
    if rows:
        session.execute(insert(cast(Table, FeedbackTopic.__table__)), rows)
    return len(rows)


def list_topics(session: Session, *, active_only: bool = False) -> list[FeedbackTopic]:
    stmt = select(FeedbackTopic).order_by(FeedbackTopic.active.desc(), FeedbackTopic.code)
    if active_only:
        stmt = stmt.where(FeedbackTopic.active.is_(True))
    return list(session.scalars(stmt))


def get_topic(session: Session, code: str) -> FeedbackTopic:
    topic = session.scalar(select(FeedbackTopic).where(FeedbackTopic.code == code))
    if topic is None:
        raise NotFound(f"topic {code!r} not found", code=code)
    return topic


def save_topic(
    session: Session, actor: Actor, data: Mapping[str, Any], *, code: str | None = None
) -> FeedbackTopic:
    """Add a topic (``code`` None) or change the topic ``code``: names, keywords, active.
    A topic's code is its identity in past analyses, so it cannot change."""
    permissions.check(actor, Permission.MANAGE_SURVEYS)
    topic = get_topic(session, code) if code is not None else None
    merged = dict(data)
    if topic is not None:
        for name in TOPIC_AUDITED:
            merged.setdefault(name, getattr(topic, name))
        if str(merged["code"]).strip().lower() != topic.code:
            raise ValidationFailed("code: a topic's code cannot change", field="code")
    values = check_topic(merged)
    values["active"] = bool(merged.get("active", True))
    if topic is None:
        if session.scalar(select(FeedbackTopic.id).where(FeedbackTopic.code == values["code"])):
            raise ValidationFailed(f"code: the topic {values['code']!r} exists", field="code")
        topic = FeedbackTopic(**values)
        session.add(topic)
        session.flush()
        audit.record(
            session,
            actor,
            "feedback_topic.created",
            subject_type="feedback_topic",
            subject_id=topic.id,
            customer_id=None,
            after=audit.snapshot(topic, TOPIC_AUDITED),
        )
        return topic
    audit.apply_update(
        session,
        actor,
        topic,
        values,
        action="feedback_topic.changed",
        subject_type="feedback_topic",
        customer_id=None,
        fields=TOPIC_AUDITED,
    )
    return topic


def deactivate_topic(session: Session, actor: Actor, code: str) -> FeedbackTopic:
    """Stop tagging new texts with the topic; past analyses keep it."""
    permissions.check(actor, Permission.MANAGE_SURVEYS)
    topic = get_topic(session, code)
    audit.apply_update(
        session,
        actor,
        topic,
        {"active": False},
        action="feedback_topic.deactivated",
        subject_type="feedback_topic",
        customer_id=None,
        fields=TOPIC_AUDITED,
    )
    return topic


def topic_defs(session: Session) -> list[Any]:
    """The active taxonomy in the shape ``text.topics`` tags with."""
    return [
        _text().topics.TopicDef(
            code=t.code,
            name_zh=t.name_zh,
            name_en=t.name_en,
            keywords_zh=tuple(t.keywords_zh or ()),
            keywords_en=tuple(t.keywords_en or ()),
        )
        for t in list_topics(session, active_only=True)
    ]


# ----------------------------------------------------------------------------- the model


@dataclass(frozen=True, slots=True)
class CompanyModel:
    """What ``retrain`` kept: the model and how it compared with the shipped one."""

    model: Any
    version: str
    trained_at: str
    n_train: int
    n_test: int
    metrics: dict[str, dict[str, float]]
    folder: Path


def company_dir(settings: Settings) -> Path:
    """Where the company's models live: one folder per retraining (the text package's own
    format: weights .npz and JSON, no pickle) and ``CURRENT_FILE`` naming the one in use."""
    return Path(settings.model_dir) / COMPANY_DIR


_current: dict[str, tuple[int, CompanyModel | None]] = {}


def load_company(settings: Settings) -> CompanyModel | None:
    """The company's own model when ``retrain`` kept one; read again only when it changed."""
    return _company_at(Path(settings.model_dir))


def _company_at(model_dir: Path) -> CompanyModel | None:
    pointer = model_dir / COMPANY_DIR / CURRENT_FILE
    try:
        stamp = pointer.stat().st_mtime_ns
    except FileNotFoundError:
        return None
    cached = _current.get(str(pointer))
    if cached is not None and cached[0] == stamp:
        return cached[1]
    try:
        kept = json.loads(pointer.read_text(encoding="utf-8"))
        folder = pointer.parent / str(kept["folder"])
        company: CompanyModel | None = CompanyModel(
            model=_text().sentiment.load_model(folder),
            version=str(kept["version"]),
            trained_at=str(kept["trained_at"]),
            n_train=int(kept["n_train"]),
            n_test=int(kept["n_test"]),
            metrics=dict(kept["metrics"]),
            folder=folder,
        )
    except (OSError, ValueError, KeyError):
        log.warning(
            "the company sentiment model in %s cannot be read; using the shipped one",
            pointer.parent,
        )
        company = None
    _current[str(pointer)] = (stamp, company)
    return company


def load_company_or_default(settings: Settings) -> Any:
    """The sentiment model to use: the company's when one was kept, else the shipped one."""
    company = load_company(settings)
    return company.model if company is not None else _text().sentiment.load_model()


def _keep(model: Any, directory: Path, *, trained_at: datetime, metrics: dict[str, Any]) -> Path:
    """Save ``model`` in a new folder under ``directory``, point ``CURRENT_FILE`` at it and
    remove the folders of earlier models."""
    name = trained_at.strftime("%Y%m%dT%H%M%S%f")
    folder = directory / name
    _text().sentiment.save_model(model, folder)
    pointer = directory / CURRENT_FILE
    temporary = pointer.with_suffix(".tmp")
    temporary.write_text(
        json.dumps(
            {
                "folder": name,
                "version": str(model.version),
                "trained_at": trained_at.isoformat(),
                **metrics,
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    temporary.replace(pointer)
    for old in directory.iterdir():
        if old.is_dir() and old.name != name:
            shutil.rmtree(old, ignore_errors=True)
    return folder


# ----------------------------------------------------------------------------- analysing


@dataclass(frozen=True, slots=True)
class _Text:
    source: str
    source_id: int
    customer_id: int
    occurred_at: datetime
    text: str
    language: str | None = None


@dataclass
class _Negatives:
    """Per customer, the sorted moments of its negative texts: the prior complaints a text's
    urgency counts (the database's, and those of the batch so far)."""

    moments: dict[int, list[datetime]] = field(default_factory=lambda: defaultdict(list))

    def load(self, session: Session, items: Sequence[_Text]) -> None:
        customers = {i.customer_id for i in items if i.customer_id not in self.moments}
        if not customers:
            return
        since = min(i.occurred_at for i in items) - REPEAT_WINDOW
        ids = sorted(customers)
        negative = Sentiment.NEGATIVE.value
        for start in range(0, len(ids), BATCH):
            # The tone is checked here, not in the query: with it there, SQLite reads the
            # (far larger) set of all negative analyses through their index instead of the
            # few of these customers, which grows slow as the analyses pile up.
            rows = session.execute(
                select(
                    TextAnalysis.customer_id, TextAnalysis.occurred_at, TextAnalysis.sentiment
                ).where(
                    TextAnalysis.customer_id.in_(ids[start : start + BATCH]),
                    TextAnalysis.occurred_at >= since,
                )
            ).all()
            for customer_id, moment, sentiment in rows:
                if sentiment == negative:
                    self.moments[int(customer_id)].append(moment)
        for customer_id in customers:
            self.moments[customer_id].sort()

    def before(self, customer_id: int, moment: datetime) -> int:
        seen = self.moments[customer_id]
        return bisect.bisect_left(seen, moment) - bisect.bisect_left(seen, moment - REPEAT_WINDOW)

    def add(self, customer_id: int, moment: datetime) -> None:
        bisect.insort(self.moments[customer_id], moment)


TONE_DEPENDENT_FLAGS = frozenset({UrgencyFlag.ESCALATION.value, UrgencyFlag.REPEATED.value})


def _clamp(score: float) -> float:
    return max(-1.0, min(1.0, float(score)))


def _analyse(
    items: Sequence[_Text],
    *,
    model: Any,
    defs: Sequence[Any],
    negatives: _Negatives,
    now: datetime,
) -> list[dict[str, Any]]:
    """The analysis rows of ``items`` (in the order of their moments)."""
    package = _text()
    texts = [i.text for i in items]
    # Notes written from a template repeat: the model (pure, text by text) reads each once.
    distinct = list(dict.fromkeys(texts))
    felt = dict(zip(distinct, model.predict(distinct), strict=True))
    feelings = [felt[t] for t in texts]
    hits = package.topics.tag_batch(texts, defs)
    version = str(model.version)[:64]
    rows: list[dict[str, Any]] = []
    for item, feeling, found in zip(items, feelings, hits, strict=True):
        label = str(feeling.label)
        # Earlier complaints make only a complaint "repeated"; a positive text keeps the flags
        # that matter whatever the tone (churn, legal, safety), not escalation or repetition
        # ("安排高层互访", "下月再次跟进").
        prior = (
            negatives.before(item.customer_id, item.occurred_at)
            if label == Sentiment.NEGATIVE.value
            else 0
        )
        flags = [str(f) for f in package.urgency.flags(item.text, prior_negative_count=prior)]
        if label == Sentiment.POSITIVE.value:
            flags = [f for f in flags if f not in TONE_DEPENDENT_FLAGS]
        spans: dict[str, list[list[int]]] = {}
        for hit in found:
            spans.setdefault(hit.code, []).extend([int(s), int(e)] for s, e in hit.spans)
        if label == Sentiment.NEGATIVE.value:
            negatives.add(item.customer_id, item.occurred_at)
        rows.append(
            {
                "source": item.source,
                "source_id": item.source_id,
                "customer_id": item.customer_id,
                "language": (feeling.language or item.language or "zh")[:5],
                "sentiment": label,
                "sentiment_score": _clamp(feeling.score),
                "topics": list(spans),
                "topic_spans": spans,
                "urgency": flags,
                "model_version": version,
                "occurred_at": item.occurred_at,
                "analysed_at": now,
            }
        )
    return rows


def analyse_response(
    session: Session, response: SurveyResponse, settings: Settings, *, now: datetime | None = None
) -> TextAnalysis | None:
    """Analyse a survey answer's comment (None when it has none); an edited answer is analysed
    again into the same row."""
    now = now or utcnow()
    existing = session.scalar(
        select(TextAnalysis).where(
            TextAnalysis.source == TextSource.RESPONSE.value,
            TextAnalysis.source_id == response.id,
        )
    )
    comment = (response.comment or "").strip()
    if not comment:
        if existing is not None:
            # The comment was taken back; a follow-up it opened stays (the score still counts).
            session.execute(
                update(FeedbackLoop)
                .where(FeedbackLoop.analysis_id == existing.id)
                .values(analysis_id=None)
            )
            session.delete(existing)
            session.flush()
        return None
    item = _Text(
        TextSource.RESPONSE.value,
        response.id,
        response.customer_id,
        response.answered_at,
        comment,
        response.language,
    )
    negatives = _Negatives()
    negatives.load(session, [item])
    if existing is not None and existing.sentiment == Sentiment.NEGATIVE.value:
        # Its own earlier reading is no prior complaint.
        moments = negatives.moments[item.customer_id]
        if existing.occurred_at in moments:
            moments.remove(existing.occurred_at)
    [row] = _analyse(
        [item],
        model=load_company_or_default(settings),
        defs=topic_defs(session),
        negatives=negatives,
        now=now,
    )
    analysis = existing or TextAnalysis()
    for key, value in row.items():
        setattr(analysis, key, value)
    if existing is None:
        session.add(analysis)
    session.flush()
    return analysis


def _pending_keys(session: Session) -> list[tuple[datetime, str, int, int]]:
    """(moment, source, id, customer) of every text not analysed yet."""

    def missing(source: TextSource, id_column: Any) -> Any:
        return (
            ~select(TextAnalysis.id)
            .where(TextAnalysis.source == source.value, TextAnalysis.source_id == id_column)
            .exists()
        )

    def written(column: Any) -> Any:
        return and_(column.is_not(None), func.length(func.trim(column)) > 0)

    queries = [
        (
            TextSource.RESPONSE,
            select(SurveyResponse.answered_at, SurveyResponse.id, SurveyResponse.customer_id).where(
                written(SurveyResponse.comment), missing(TextSource.RESPONSE, SurveyResponse.id)
            ),
        ),
        (
            TextSource.TOUCHPOINT,
            select(Touchpoint.occurred_at, Touchpoint.id, Touchpoint.customer_id).where(
                written(Touchpoint.summary), missing(TextSource.TOUCHPOINT, Touchpoint.id)
            ),
        ),
        (
            TextSource.DISPUTE,
            select(Dispute.created_at, Dispute.id, Dispute.customer_id).where(
                written(Dispute.description), missing(TextSource.DISPUTE, Dispute.id)
            ),
        ),
    ]
    keys: list[tuple[datetime, str, int, int]] = []
    for source, stmt in queries:
        keys.extend((m, source.value, int(i), int(c)) for m, i, c in session.execute(stmt))
    keys.sort()
    return keys


def _texts_of(session: Session, keys: Sequence[tuple[datetime, str, int, int]]) -> list[_Text]:
    wanted: dict[str, list[int]] = defaultdict(list)
    for _m, source, ident, _c in keys:
        wanted[source].append(ident)
    found: dict[tuple[str, int], tuple[str | None, str | None]] = {}
    if wanted[TextSource.RESPONSE.value]:
        for i, text, language in session.execute(
            select(SurveyResponse.id, SurveyResponse.comment, SurveyResponse.language).where(
                SurveyResponse.id.in_(wanted[TextSource.RESPONSE.value])
            )
        ):
            found[(TextSource.RESPONSE.value, int(i))] = (text, language)
    for source, model_id, column in (
        (TextSource.TOUCHPOINT, Touchpoint.id, Touchpoint.summary),
        (TextSource.DISPUTE, Dispute.id, Dispute.description),
    ):
        if wanted[source.value]:
            for i, text in session.execute(
                select(model_id, column).where(model_id.in_(wanted[source.value]))
            ):
                found[(source.value, int(i))] = (text, None)
    return [
        _Text(
            source,
            ident,
            customer,
            moment,
            (found[(source, ident)][0] or "").strip(),
            found[(source, ident)][1],
        )
        for moment, source, ident, customer in keys
    ]


# Texts older than this at analysis time are history: they are analysed, but open no loop.
LOOP_LOOKBACK = timedelta(days=14)


def analyse_pending(
    session: Session, settings: Settings, now: datetime, *, open_loops: bool = True
) -> dict[str, int]:
    """Analyse every survey comment, touchpoint note and dispute description that has no
    analysis yet, oldest first, in batches of ``BATCH`` (one predict, one tagging and one
    insert each), with the company's model when one was kept. Texts of the last
    ``LOOP_LOOKBACK`` open their follow-ups. Returns how many of each source were analysed
    and ``loops_opened``."""
    from flywheel.feedback import loops

    model = load_company_or_default(settings)
    defs = topic_defs(session)
    counts = {s.value: 0 for s in TextSource}
    opened = 0
    keys = _pending_keys(session)
    negatives = _Negatives()
    table = cast(Table, TextAnalysis.__table__)
    for start in range(0, len(keys), BATCH):
        items = _texts_of(session, keys[start : start + BATCH])
        negatives.load(session, items)
        rows = _analyse(items, model=model, defs=defs, negatives=negatives, now=now)
        session.execute(insert(table), rows)
        for row in rows:
            counts[row["source"]] += 1
        if open_loops:
            opened += loops.open_for_new_analyses(
                session, rows, settings, since=now - LOOP_LOOKBACK, now=now
            )
    session.flush()
    return {**counts, "loops_opened": opened}


# ----------------------------------------------------------------------------- retraining


def sentiment_label(kind: str, score: int) -> str | None:
    """The label a scored comment teaches: the good band positive, the bad band negative (NPS
    9–10 / 0–6, CSAT 4–5 / 1–2, CES 5–7 / 1–3); the middle teaches nothing."""
    band = surveys.band(kind, score)
    if surveys.is_good(band):
        return Sentiment.POSITIVE.value
    if surveys.is_bad(band):
        return Sentiment.NEGATIVE.value
    return None


@dataclass(frozen=True, slots=True)
class RetrainResult:
    trained: bool  # a model was fitted and evaluated
    kept: bool  # and saved: not worse than the shipped one on the held-out comments
    reason: str
    n_comments: int
    n_train: int = 0
    n_test: int = 0
    shipped: dict[str, float] = field(default_factory=dict)  # accuracy, macro_f1
    company: dict[str, float] = field(default_factory=dict)
    model_version: str | None = None
    path: str | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "trained": self.trained,
            "kept": self.kept,
            "reason": self.reason,
            "n_comments": self.n_comments,
            "n_train": self.n_train,
            "n_test": self.n_test,
            "shipped": self.shipped,
            "company": self.company,
            "model_version": self.model_version,
            "path": self.path,
            "seconds": round(self.seconds, 3),
        }


def scored_comments(session: Session) -> tuple[list[str], list[str]]:
    """(comments, labels) of every answer in a good or bad band with a comment, oldest first."""
    rows = session.execute(
        select(SurveyResponse.kind, SurveyResponse.score, SurveyResponse.comment)
        .where(
            SurveyResponse.comment.is_not(None),
            func.length(func.trim(SurveyResponse.comment)) > 0,
        )
        .order_by(SurveyResponse.answered_at, SurveyResponse.id)
    ).all()
    texts: list[str] = []
    labels: list[str] = []
    for kind, score, comment in rows:
        label = sentiment_label(kind, int(score))
        if label is not None and comment:
            texts.append(comment.strip())
            labels.append(label)
    return texts, labels


def evaluate(model: Any, texts: Sequence[str], labels: Sequence[str]) -> dict[str, float]:
    """Accuracy and macro-F1 over positive/negative (a neutral prediction counts as wrong)."""
    from sklearn.metrics import f1_score  # type: ignore[import-untyped]

    predicted = [str(p.label) for p in model.predict(list(texts))]
    accuracy = sum(p == t for p, t in zip(predicted, labels, strict=True)) / len(labels)
    macro = f1_score(
        list(labels),
        predicted,
        labels=[Sentiment.NEGATIVE.value, Sentiment.POSITIVE.value],
        average="macro",
        zero_division=0,
    )
    return {"accuracy": round(float(accuracy), 4), "macro_f1": round(float(macro), 4)}


def retrain(
    session: Session,
    settings: Settings,
    model_dir: Path | None = None,
    *,
    now: datetime | None = None,
) -> RetrainResult:
    """Train the company's sentiment model on its scored comments once
    ``settings.sentiment_retrain_min`` exist; keep it only if, on a held-out fifth of them, it
    is not worse (macro-F1) than the shipped model. Kept under ``model_dir`` (default
    ``settings.model_dir``) in ``sentiment_company/``; nothing is retrained while the number of
    scored comments is the one the model in use was trained and tested on."""
    from sklearn.model_selection import train_test_split  # type: ignore[import-untyped]

    clock = time.perf_counter()
    texts, labels = scored_comments(session)
    n = len(texts)
    if n < settings.sentiment_retrain_min:
        return RetrainResult(
            False,
            False,
            f"{n} scored comments; retraining needs {settings.sentiment_retrain_min}",
            n,
        )
    base = Path(model_dir) if model_dir is not None else Path(settings.model_dir)
    current = _company_at(base)
    if current is not None and current.n_train + current.n_test == n:
        return RetrainResult(
            False,
            True,
            "no new scored comments since the company model in use was trained",
            n,
            n_train=current.n_train,
            n_test=current.n_test,
            shipped=dict(current.metrics.get("shipped", {})),
            company=dict(current.metrics.get("company", {})),
            model_version=current.version,
            path=str(current.folder),
        )
    if len(set(labels)) < 2 or min(labels.count(x) for x in set(labels)) < 5:
        return RetrainResult(False, False, "the scored comments are nearly all of one kind", n)
    train_x, test_x, train_y, test_y = train_test_split(
        texts, labels, test_size=HELD_OUT, random_state=0, stratify=labels
    )
    shipped = _text().sentiment.load_model()
    company_model = _text().sentiment.train_company_model(train_x, train_y, base=shipped)
    shipped_metrics = evaluate(shipped, test_x, test_y)
    company_metrics = evaluate(company_model, test_x, test_y)
    kept = company_metrics["macro_f1"] >= shipped_metrics["macro_f1"]
    path: Path | None = None
    version = str(company_model.version)
    if kept:
        path = _keep(
            company_model,
            base / COMPANY_DIR,
            trained_at=now or utcnow(),
            metrics={
                "n_train": len(train_x),
                "n_test": len(test_x),
                "metrics": {"shipped": shipped_metrics, "company": company_metrics},
            },
        )
    reason = (
        "kept: not worse than the shipped model on the held-out comments"
        if kept
        else "not kept: worse than the shipped model on the held-out comments"
    )
    return RetrainResult(
        True,
        kept,
        reason,
        n,
        n_train=len(train_x),
        n_test=len(test_x),
        shipped=shipped_metrics,
        company=company_metrics,
        model_version=version,
        path=str(path) if path else None,
        seconds=time.perf_counter() - clock,
    )


# ----------------------------------------------------------------------------- new topics


@dataclass(frozen=True, slots=True)
class Suggestion:
    terms: list[str]
    size: int
    examples: list[str]
    code: str


SUGGEST_FROM = 5000  # the latest untagged negative texts clustered


def _code_from(terms: Sequence[str], taken: set[str]) -> str:
    ascii_terms = [re.sub(r"[^a-z0-9]+", "_", t.lower()).strip("_") for t in terms]
    base = "_".join(t for t in ascii_terms if t)[:30] or "topic"
    if not base[0].isalpha():
        base = "t_" + base
    code, n = base, 2
    while code in taken:
        code, n = f"{base}_{n}", n + 1
    taken.add(code)
    return code


def untagged_negative_texts(
    session: Session, actor: Actor, *, limit: int = SUGGEST_FROM
) -> list[str]:
    """The latest negative texts no topic tagged, of the accounts the actor may see."""
    from flywheel.auth.scope import visible_customers
    from flywheel.models.customers import Customer

    rows = session.execute(
        select(TextAnalysis.source, TextAnalysis.source_id, TextAnalysis.topics)
        .join(Customer, Customer.id == TextAnalysis.customer_id)
        .where(visible_customers(actor), TextAnalysis.sentiment == Sentiment.NEGATIVE.value)
        .order_by(TextAnalysis.occurred_at.desc(), TextAnalysis.id.desc())
        .limit(limit * 4)
    ).all()
    keys = [
        (datetime.min.replace(tzinfo=UTC), source, int(source_id), 0)
        for source, source_id, topics in rows
        if not topics
    ][:limit]
    return [t.text for t in _texts_of(session, keys) if t.text]


def suggestions(
    session: Session, actor: Actor, *, limit: int = SUGGEST_FROM
) -> tuple[int, list[Suggestion]]:
    """Clusters of the untagged negative texts (``text.topics.suggest_topics``): candidates
    for new topics, each with its terms, size, examples and a code to start from. Returns
    (how many texts were clustered, the suggestions)."""
    texts = untagged_negative_texts(session, actor, limit=limit)
    if not texts:
        return 0, []
    taken = set(session.scalars(select(FeedbackTopic.code)))
    found = []
    for cluster in _text().topics.suggest_topics(texts):
        terms = [str(t) for t in cluster.terms]
        found.append(
            Suggestion(
                terms=terms,
                size=int(cluster.size),
                examples=[str(e) for e in cluster.examples],
                code=_code_from(terms, taken),
            )
        )
    return len(texts), found
