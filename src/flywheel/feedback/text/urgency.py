"""Urgency flags of a feedback comment: churn threat, legal, safety, escalation, repeated.

Word lists in zh and en; a phrase preceded closely by a negation ("不会起诉", "we will not
sue") does not count. Returns stable codes; the UI translates them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

CHURN_THREAT = "churn_threat"
LEGAL = "legal"
SAFETY = "safety"
ESCALATION = "escalation"
REPEATED = "repeated"
FLAGS = (CHURN_THREAT, LEGAL, SAFETY, ESCALATION, REPEATED)

#: This many earlier negative comments of the same customer make a new one "repeated".
REPEATED_AFTER = 2

WORDS_ZH: dict[str, tuple[str, ...]] = {
    CHURN_THREAT: (
        "换供应商", "换一家", "换家", "换别家", "不再合作", "终止合作", "停止合作", "取消合同",
        "解除合同", "终止合同", "取消订单", "不续约", "不再续约", "另找", "找别家", "转向竞争对手",
        "不会再买", "不再采购", "停止采购",
    ),
    LEGAL: (
        "律师", "起诉", "法院", "诉讼", "仲裁", "法律途径", "律师函", "打官司", "违约金", "索赔",
        "消协", "工商", "12315",
    ),
    SAFETY: (
        "安全隐患", "受伤", "伤人", "起火", "着火", "火灾", "爆炸", "漏电", "触电", "中毒",
        "烫伤", "危险", "冒烟", "过热", "有毒",
    ),
    ESCALATION: (
        "投诉到", "找你们领导", "找领导", "你们领导", "你们总经理", "找你们老板", "你们高层",
        "要求高层", "向上级投诉", "找上级", "经理出来", "升级投诉", "曝光", "找媒体", "举报",
    ),
    REPEATED: (
        "又是", "又出", "又坏", "又晚", "又迟", "又没", "又错", "又发错", "又延", "又来了", "又一次",
        "又少", "再次出现", "再次发生", "再次延", "再次出错", "又一回", "第二次", "第三次",
        "第四次", "多次", "屡次", "一再", "反复",
        "还是没", "仍然没", "依然没", "还没解决", "每次都", "总是",
    ),
}  # fmt: skip

WORDS_EN: dict[str, tuple[str, ...]] = {
    CHURN_THREAT: (
        "cancel", "cancel the contract", "cancel our contract", "switch supplier",
        "switch suppliers", "switch to another supplier", "switching to", "terminate",
        "termination", "end our contract", "stop ordering", "find another supplier",
        "take our business elsewhere", "not renew", "won't renew", "competitor",
    ),
    LEGAL: (
        "lawyer", "lawyers", "attorney", "sue", "suing", "lawsuit", "legal action", "court",
        "litigation", "arbitration", "breach of contract", "legal",
    ),
    SAFETY: (
        "safety", "unsafe", "hazard", "hazardous", "injury", "injured", "fire", "caught fire",
        "burn", "burned", "explosion", "electric shock", "toxic", "dangerous", "smoke",
        "overheating",
    ),
    ESCALATION: (
        "escalate", "escalating", "escalation", "your management", "senior management",
        "your manager", "your boss", "your ceo", "your director", "head office",
        "complain to", "formal complaint", "report you",
    ),
    REPEATED: (
        "again", "still not", "still no", "still hasn't", "still haven't", "repeatedly",
        "once again", "second time", "third time", "every time", "keeps happening", "yet again",
        "multiple times", "several times",
    ),
}  # fmt: skip

_NEGATION_ZH = re.compile(
    r"(不会|不想|不打算|不至于|没有|没|不|无需|不用|并非|并不)[^，,。.！!？?；;]{0,2}$"
)
_NEGATION_EN = re.compile(
    r"\b(not|no|never|won't|wont|will not|don't|dont|do not|wouldn't|no need to|nothing)"
    r"(\s+\w+){0,2}\s*$",
    re.IGNORECASE,
)


def _alternatives(zh: Sequence[str], en: Sequence[str]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    zh = sorted(zh, key=len, reverse=True)
    en = sorted(en, key=len, reverse=True)
    english = "|".join(r"\s+".join(map(re.escape, w.split())) for w in en)
    return (
        re.compile("|".join(map(re.escape, zh))),
        re.compile(rf"(?<![a-z0-9])(?:{english})(?![a-z0-9])", re.IGNORECASE),
    )


@lru_cache(maxsize=1)
def _patterns() -> dict[str, tuple[re.Pattern[str], re.Pattern[str]]]:
    return {code: _alternatives(WORDS_ZH[code], WORDS_EN[code]) for code in FLAGS}


# What a pattern's ASCII letter matches, any case: the 52 ASCII letters and İ ı ſ K (re's
# IGNORECASE); cheap to look for, unlike the English words.
_LETTER = re.compile(r"[a-z]", re.IGNORECASE)


@lru_cache(maxsize=1)
def _any() -> tuple[re.Pattern[str], re.Pattern[str], bool]:
    """The words of every flag, per language: a text they do not find has no flag of that
    language to look for (most texts have none); and whether every English word has a Latin
    letter (then a text without ``_LETTER`` has no English word)."""
    zh, en = _alternatives(
        [w for code in FLAGS for w in WORDS_ZH[code]], [w for code in FLAGS for w in WORDS_EN[code]]
    )
    needs_letter = all(re.search(r"[A-Za-z]", w) for code in FLAGS for w in WORDS_EN[code])
    return zh, en, needs_letter


def _negated(text: str, start: int, chinese: bool) -> bool:
    before = text[max(0, start - (6 if chinese else 30)) : start]
    pattern = _NEGATION_ZH if chinese else _NEGATION_EN
    return pattern.search(before) is not None


def _found(text: str, code: str, languages: tuple[bool, bool] = (True, True)) -> bool:
    zh, en = _patterns()[code]
    for pattern, chinese, look in ((zh, True, languages[0]), (en, False, languages[1])):
        if not look:
            continue
        for match in pattern.finditer(text):
            if code == REPEATED or not _negated(text, match.start(), chinese):
                return True
    return False


def flags(text: str, prior_negative_count: int = 0) -> list[str]:
    """The urgency flags of ``text`` in ``FLAGS`` order; ``prior_negative_count`` is how many
    negative comments the same customer made before this one."""
    cleaned = unicodedata.normalize("NFKC", text or "")
    any_zh, any_en, needs_letter = _any()
    languages = (
        any_zh.search(cleaned) is not None,
        (not needs_letter or _LETTER.search(cleaned) is not None)
        and any_en.search(cleaned) is not None,
    )
    found: list[str] = []
    if any(languages):
        found = [code for code in FLAGS if code != REPEATED and _found(cleaned, code, languages)]
    if prior_negative_count >= REPEATED_AFTER or (
        any(languages) and _found(cleaned, REPEATED, languages)
    ):
        found.append(REPEATED)
    return found


def flags_batch(
    texts: Sequence[str], prior_negative_counts: Sequence[int] | None = None
) -> list[list[str]]:
    counts = prior_negative_counts or [0] * len(texts)
    return [flags(t, c) for t, c in zip(texts, counts, strict=True)]
