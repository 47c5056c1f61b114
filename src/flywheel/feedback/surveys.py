"""Survey definitions: the three scales, how a score falls into a band, the follow-up questions
and the surveys the product ships with."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.errors import ValidationFailed
from flywheel.models.enums import ScoreBand, SurveyKind
from flywheel.models.feedback import Survey


@dataclass(frozen=True, slots=True)
class Scale:
    low: int
    high: int
    # The bands from the top: scores >= good are the good band, <= bad the bad band.
    good: int
    bad: int


SCALES: dict[str, Scale] = {
    SurveyKind.NPS: Scale(0, 10, good=9, bad=6),
    SurveyKind.CSAT: Scale(1, 5, good=4, bad=2),
    SurveyKind.CES: Scale(1, 7, good=5, bad=3),
}

QUESTION_KINDS = ("text", "choice")


def scale(kind: str) -> Scale:
    try:
        return SCALES[kind]
    except KeyError:
        raise ValidationFailed(
            f"unknown survey kind {kind!r}; use one of {', '.join(SCALES)}", field="kind"
        ) from None


def band(kind: str, score: int) -> ScoreBand:
    """NPS: promoter 9–10, passive 7–8, detractor 0–6. CSAT: positive 4–5, neutral 3,
    negative 1–2. CES (7 = it was very easy): positive 5–7, neutral 4, negative 1–3."""
    s = scale(kind)
    if not s.low <= score <= s.high:
        raise ValidationFailed(
            f"a {kind.upper()} score is between {s.low} and {s.high}, not {score}", field="score"
        )
    if kind == SurveyKind.NPS:
        if score >= s.good:
            return ScoreBand.PROMOTER
        return ScoreBand.DETRACTOR if score <= s.bad else ScoreBand.PASSIVE
    if score >= s.good:
        return ScoreBand.POSITIVE
    return ScoreBand.NEGATIVE if score <= s.bad else ScoreBand.NEUTRAL


def is_bad(band_: str) -> bool:
    """A detractor or a negative CSAT/CES answer: the closed loop opens on it."""
    return band_ in (ScoreBand.DETRACTOR, ScoreBand.NEGATIVE)


def is_good(band_: str) -> bool:
    return band_ in (ScoreBand.PROMOTER, ScoreBand.POSITIVE)


def check_questions(questions: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Validate follow-up questions; returns them normalised. Errors name the question."""
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for number, q in enumerate(questions, start=1):
        where = f"question {number}"
        key = str(q.get("key") or "").strip()
        if not key or not key.replace("_", "").isalnum():
            raise ValidationFailed(
                f"{where}: a key of letters, digits and _ is needed", field="key"
            )
        if key in seen:
            raise ValidationFailed(f"{where}: the key {key!r} is used twice", field="key")
        seen.add(key)
        kind = q.get("kind")
        if kind not in QUESTION_KINDS:
            raise ValidationFailed(f"{where}: kind must be text or choice", field="kind")
        text_zh = str(q.get("text_zh") or "").strip()
        text_en = str(q.get("text_en") or "").strip()
        if not text_zh or not text_en:
            raise ValidationFailed(f"{where}: the text is needed in Chinese and English")
        item: dict[str, Any] = {
            "key": key,
            "kind": kind,
            "text_zh": text_zh,
            "text_en": text_en,
            "required": bool(q.get("required", False)),
        }
        if kind == "choice":
            choices = [
                {
                    "value": str(c.get("value") or "").strip(),
                    "zh": str(c.get("zh") or "").strip(),
                    "en": str(c.get("en") or "").strip(),
                }
                for c in q.get("choices") or []
            ]
            if len(choices) < 2 or any(not (c["value"] and c["zh"] and c["en"]) for c in choices):
                raise ValidationFailed(
                    f"{where}: a choice question needs at least two choices, each with a value "
                    "and its Chinese and English text",
                    field="choices",
                )
            if len({c["value"] for c in choices}) != len(choices):
                raise ValidationFailed(f"{where}: two choices share a value", field="choices")
            item["choices"] = choices
        out.append(item)
    return out


def check_answers(survey: Survey, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The follow-up answers a respondent gave, checked against the survey's questions."""
    out: dict[str, Any] = {}
    for q in survey.questions or []:
        raw = answers.get(q["key"])
        value = str(raw).strip() if raw is not None else ""
        if not value:
            if q.get("required"):
                raise ValidationFailed(f"the question {q['key']!r} needs an answer", field=q["key"])
            continue
        if q["kind"] == "choice" and value not in {c["value"] for c in q["choices"]}:
            raise ValidationFailed(f"{value!r} is not one of the choices", field=q["key"])
        out[q["key"]] = value[:2000]
    return out


def text_of(survey: Survey, language: str) -> dict[str, str | None]:
    zh = language.startswith("zh")
    return {
        "name": survey.name_zh if zh else survey.name_en,
        "question": survey.question_zh if zh else survey.question_en,
        "comment": survey.comment_zh if zh else survey.comment_en,
    }


# ----------------------------------------------------------------------------- what ships

_REASON_CHOICES = [
    {"value": "quality", "zh": "产品质量", "en": "Product quality"},
    {"value": "delivery", "zh": "交付与物流", "en": "Delivery"},
    {"value": "service", "zh": "服务与沟通", "en": "Service and communication"},
    {"value": "price", "zh": "价格与账期", "en": "Price and payment terms"},
    {"value": "other", "zh": "其他", "en": "Other"},
]

DEFAULT_SURVEYS: list[dict[str, Any]] = [
    {
        "code": "nps-relationship",
        "kind": SurveyKind.NPS,
        "name_zh": "客户关系调查（NPS）",
        "name_en": "Relationship survey (NPS)",
        "question_zh": "您有多大可能向同事或合作伙伴推荐我们？",
        "question_en": "How likely are you to recommend us to a colleague or business partner?",
        "comment_zh": "请告诉我们您打这个分数的主要原因。",
        "comment_en": "What is the main reason for your score?",
        "questions": [
            {
                "key": "main_reason",
                "kind": "choice",
                "text_zh": "对您的评分影响最大的是？",
                "text_en": "What mattered most for your score?",
                "choices": _REASON_CHOICES,
            }
        ],
    },
    {
        "code": "csat-delivery",
        "kind": SurveyKind.CSAT,
        "name_zh": "交付满意度（CSAT）",
        "name_en": "Delivery satisfaction (CSAT)",
        "question_zh": "您对本次交付满意吗？",
        "question_en": "How satisfied are you with this delivery?",
        "comment_zh": "有什么我们可以做得更好的？",
        "comment_en": "What could we have done better?",
        "questions": [],
    },
    {
        "code": "ces-service",
        "kind": SurveyKind.CES,
        "name_zh": "服务便捷度（CES）",
        "name_en": "Ease of service (CES)",
        "question_zh": "我们让您的问题很容易得到解决。",
        "question_en": "We made it easy for you to get your issue resolved.",
        "comment_zh": "哪里让您觉得麻烦？",
        "comment_en": "What made it hard?",
        "questions": [],
    },
]


def save(session: Session, data: Mapping[str, Any], survey: Survey | None = None) -> Survey:
    """Create or change a survey from checked data (code, kind, names, question texts, comment
    prompts, questions). The kind of a survey that has answers cannot change."""
    for field in ("code", "kind", "name_zh", "name_en", "question_zh", "question_en"):
        if not str(data.get(field) or "").strip():
            raise ValidationFailed(f"{field} is needed", field=field)
    kind = str(data["kind"])
    scale(kind)
    code = str(data["code"]).strip()
    clash = session.scalar(select(Survey.id).where(Survey.code == code))
    if clash is not None and (survey is None or clash != survey.id):
        raise ValidationFailed(f"a survey with the code {code!r} exists", field="code")
    if survey is not None and survey.kind != kind:
        from flywheel.models.feedback import SurveyResponse

        if session.scalar(select(SurveyResponse.id).where(SurveyResponse.survey_id == survey.id)):
            raise ValidationFailed("the survey has answers: its kind cannot change", field="kind")
    questions = check_questions(data.get("questions") or [])
    if survey is None:
        survey = Survey(code=code, kind=kind)
        session.add(survey)
    survey.code = code
    survey.kind = kind
    for field in ("name_zh", "name_en", "question_zh", "question_en"):
        setattr(survey, field, str(data[field]).strip())
    for field in ("comment_zh", "comment_en"):
        setattr(survey, field, (str(data.get(field) or "").strip() or None))
    survey.questions = questions
    survey.active = bool(data.get("active", True))
    session.flush()
    return survey


def ensure_defaults(session: Session) -> list[Survey]:
    """Create the shipped surveys that are missing (by code); existing ones are left alone."""
    have = set(session.scalars(select(Survey.code)))
    made = [save(session, spec) for spec in DEFAULT_SURVEYS if spec["code"] not in have]
    return made
