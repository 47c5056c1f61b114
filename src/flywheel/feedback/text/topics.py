"""Topics of feedback comments: the default bilingual taxonomy, keyword tagging with spans, a
model fallback for comments no keyword finds, and topic suggestions from untagged comments."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

#: A comment whose nearest topic centroid is less similar than this gets no model topic.
FALLBACK_MIN_SIMILARITY = 0.25
#: The fallback needs at least this many keyword-tagged comments of a topic in the batch.
FALLBACK_MIN_EXAMPLES = 3
SUGGEST_MIN_TEXTS = 6
SUGGEST_TERMS = 5
SUGGEST_EXAMPLES = 3


@dataclass(frozen=True, slots=True)
class TopicDef:
    code: str
    name_zh: str
    name_en: str
    keywords_zh: tuple[str, ...] = ()
    keywords_en: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TopicHit:
    code: str
    words: list[str] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)
    via: str = "keyword"  # "keyword" | "model"


@dataclass(frozen=True, slots=True)
class Suggestion:
    terms: list[str]
    size: int
    examples: list[str]


DEFAULT_TOPICS: tuple[TopicDef, ...] = (
    TopicDef(
        "delivery", "交付与物流", "Delivery",
        ("送货", "发货", "到货", "物流", "快递", "配送", "交货", "交期", "延期", "迟到", "送达", "运输", "货期"),
        ("delivery", "deliver", "delivered", "shipping", "shipment", "shipped", "late", "delay", "delayed", "arrive", "arrived", "lead time", "courier", "logistics"),
    ),
    TopicDef(
        "product_quality", "产品质量", "Product quality",
        ("质量", "品质", "做工", "瑕疵", "次品", "故障", "坏了", "损坏", "不合格", "耐用", "性能", "精度"),
        ("quality", "defect", "defective", "broken", "faulty", "durable", "malfunction", "performance", "reliable", "failure"),
    ),
    TopicDef(
        "price", "价格", "Price",
        ("价格", "价钱", "贵", "便宜", "涨价", "报价", "折扣", "优惠", "性价比", "费用"),
        ("price", "pricing", "expensive", "cheap", "cost", "discount", "quote", "overpriced", "value for money"),
    ),
    TopicDef(
        "service", "服务态度", "Service",
        ("服务", "态度", "客服", "销售", "业务员", "热情", "耐心", "专业", "敷衍"),
        ("service", "staff", "attitude", "rude", "friendly", "helpful", "sales rep", "account manager", "professional"),
    ),
    TopicDef(
        "billing", "开票与对账", "Billing",
        ("发票", "开票", "对账", "账单", "账期", "扣款", "多收", "收费", "结算", "红冲"),
        ("invoice", "invoices", "invoicing", "billing", "bill", "statement", "reconciliation", "overcharged", "charged", "credit note"),
    ),
    TopicDef(
        "communication", "沟通", "Communication",
        ("沟通", "回复", "联系", "电话", "邮件", "通知", "不回", "联系不上", "反馈", "响应"),
        ("communication", "respond", "response", "reply", "replied", "call back", "email", "contact", "update", "informed", "unreachable"),
    ),
    TopicDef(
        "packaging", "包装", "Packaging",
        ("包装", "纸箱", "破损", "漏液", "泄漏", "外箱", "标签", "防护"),
        ("packaging", "package", "packed", "box", "carton", "label", "leaking", "damaged in transit"),
    ),
    TopicDef(
        "returns", "退换货", "Returns",
        ("退货", "换货", "退款", "退换", "售后", "返修", "召回"),
        ("return", "returns", "refund", "exchange", "replacement", "rma", "recall"),
    ),
    TopicDef(
        "documentation", "资料与单据", "Documentation",
        ("说明书", "资料", "文档", "合格证", "证书", "检测报告", "单据", "装箱单", "手册"),
        ("documentation", "manual", "instructions", "certificate", "datasheet", "paperwork", "packing list", "coa"),
    ),
    TopicDef(
        "payment_terms", "付款条件", "Payment terms",
        ("付款", "账期", "回款", "预付", "信用额度", "催款", "结款", "月结"),
        ("payment terms", "payment", "credit limit", "prepayment", "net 30", "net 60", "due date", "dunning"),
    ),
    TopicDef(
        "technical_support", "技术支持", "Technical support",
        ("技术支持", "安装", "调试", "培训", "维修", "工程师", "上门", "技术问题"),
        ("technical support", "support", "installation", "install", "setup", "training", "engineer", "repair", "maintenance", "troubleshoot"),
    ),
)  # fmt: skip


def _english_pattern(words: Sequence[str]) -> re.Pattern[str] | None:
    words = sorted({w.strip().lower() for w in words if w.strip()}, key=len, reverse=True)
    if not words:
        return None
    alternatives = "|".join(r"\s+".join(map(re.escape, w.split())) for w in words)
    return re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])", re.IGNORECASE)


def _chinese_pattern(words: Sequence[str]) -> re.Pattern[str] | None:
    words = sorted({w.strip() for w in words if w.strip()}, key=len, reverse=True)
    if not words:
        return None
    return re.compile("|".join(map(re.escape, words)))


_Patterns = tuple[re.Pattern[str] | None, re.Pattern[str] | None]
_compiled: dict[tuple[tuple[str, ...], tuple[str, ...]], _Patterns] = {}


def _patterns(topic: TopicDef) -> _Patterns:
    key = (tuple(topic.keywords_zh), tuple(topic.keywords_en))
    found = _compiled.get(key)
    if found is None:
        if len(_compiled) > 512:
            _compiled.clear()
        found = (_chinese_pattern(key[0]), _english_pattern(key[1]))
        _compiled[key] = found
    return found


def tag(text: str, topics: Sequence[TopicDef]) -> list[TopicHit]:
    """The topics whose keywords occur in ``text``, with the words found and their
    [start, end) character spans in ``text`` (English: whole words, any case; Chinese:
    substrings). Topics in taxonomy order; spans in text order."""
    hits: list[TopicHit] = []
    for topic in topics:
        spans: list[tuple[int, int]] = []
        for pattern in _patterns(topic):
            if pattern is not None:
                spans.extend(m.span() for m in pattern.finditer(text))
        if spans:
            spans.sort()
            words = list(dict.fromkeys(text[s:e].lower() for s, e in spans))
            hits.append(TopicHit(topic.code, words, spans))
    return hits


def _vectorizer() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]

    return TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True, min_df=1)


def tag_batch(texts: Sequence[str], topics: Sequence[TopicDef]) -> list[list[TopicHit]]:
    """``tag`` for every text; a text no keyword finds gets the topic whose centroid (char
    n-gram tf-idf of the keyword-tagged texts of the same batch) is nearest, with
    ``via="model"`` and no spans, when the cosine similarity reaches
    ``FALLBACK_MIN_SIMILARITY``."""
    import numpy as np

    results = [tag(text or "", topics) for text in texts]
    untagged = [i for i, hits in enumerate(results) if not hits and (texts[i] or "").strip()]
    members: dict[str, list[int]] = {}
    for i, hits in enumerate(results):
        for hit in hits:
            members.setdefault(hit.code, []).append(i)
    codes = [code for code, rows in members.items() if len(rows) >= FALLBACK_MIN_EXAMPLES]
    if not untagged or not codes:
        return results
    from sklearn.preprocessing import normalize  # type: ignore[import-untyped]

    vectorizer = _vectorizer()
    tagged_rows = sorted({i for code in codes for i in members[code]})
    vectorizer.fit([texts[i] for i in tagged_rows])
    matrix = vectorizer.transform(list(texts))
    centroids = normalize(
        np.vstack([np.asarray(matrix[members[code]].mean(axis=0)) for code in codes])
    )
    similarity = np.asarray(matrix[untagged] @ centroids.T)
    for row, i in enumerate(untagged):
        best = int(np.argmax(similarity[row]))
        if similarity[row, best] >= FALLBACK_MIN_SIMILARITY:
            results[i] = [TopicHit(codes[best], [], [], via="model")]
    return results


_WORD_TOKEN = re.compile(r"[a-z][a-z']+|[\u4e00-\u9fff]+")
_STOP_EN = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "but",
        "to",
        "of",
        "in",
        "on",
        "for",
        "with",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "it",
        "this",
        "that",
        "they",
        "we",
        "you",
        "i",
        "my",
        "our",
        "your",
        "not",
        "no",
        "very",
        "too",
        "so",
        "have",
        "has",
        "had",
        "do",
        "does",
        "did",
        "at",
        "as",
        "by",
        "from",
        "again",
        "still",
    ]
)
_STOP_ZH = frozenset(
    [
        "的",
        "了",
        "是",
        "我",
        "我们",
        "你们",
        "他们",
        "也",
        "都",
        "很",
        "太",
        "就",
        "还",
        "又",
        "在",
        "和",
        "有",
        "没",
        "不",
        "这",
        "那",
        "吧",
        "啊",
    ]
)


def _terms(text: str) -> list[str]:
    """Words of English text and character 2-grams of Chinese runs, without stop words."""
    out: list[str] = []
    for token in _WORD_TOKEN.findall(text.lower()):
        if token[0] <= "z":
            if token not in _STOP_EN:
                out.append(token)
        else:
            out.extend(
                token[i : i + 2]
                for i in range(max(1, len(token) - 1))
                if token[i : i + 2] not in _STOP_ZH and len(token[i : i + 2]) == 2
            )
    return out


def suggest_topics(texts: Sequence[str], k: int | None = None) -> list[Suggestion]:
    """Clusters of (untagged, negative) comments as candidate topics: tf-idf over English words
    and Chinese character pairs, k-means (k ≈ √(n/2), 2..8 unless given), each cluster named by
    its top terms, largest first."""
    import numpy as np
    from sklearn.cluster import KMeans  # type: ignore[import-untyped]
    from sklearn.feature_extraction.text import TfidfVectorizer

    cleaned = list(dict.fromkeys(t.strip() for t in texts if t and t.strip()))
    if len(cleaned) < SUGGEST_MIN_TEXTS:
        return []
    vectorizer = TfidfVectorizer(analyzer=_terms, sublinear_tf=True, min_df=2)
    try:
        matrix = vectorizer.fit_transform(cleaned)
    except ValueError:  # no term occurs twice
        return []
    # Texts sharing no term with any other cannot be named; leave them out.
    kept = np.flatnonzero(np.diff(matrix.indptr) > 0)
    if len(kept) < SUGGEST_MIN_TEXTS:
        return []
    cleaned = [cleaned[i] for i in kept]
    matrix = matrix[kept]
    distinct = len(
        {
            (matrix.indices[a:b].tobytes(), np.round(matrix.data[a:b], 6).tobytes())
            for a, b in zip(matrix.indptr[:-1], matrix.indptr[1:], strict=True)
        }
    )
    if k is None:
        k = round((len(cleaned) / 2) ** 0.5)
    k = max(1, min(k, 8, len(cleaned) // 2, distinct))
    kmeans = KMeans(n_clusters=k, n_init=10, random_state=0).fit(matrix)
    vocabulary = np.array(vectorizer.get_feature_names_out())
    suggestions: list[Suggestion] = []
    for cluster in range(k):
        rows = np.flatnonzero(kmeans.labels_ == cluster)
        if len(rows) < 2:
            continue
        weights = np.asarray(matrix[rows].mean(axis=0)).ravel()
        top = [str(vocabulary[j]) for j in np.argsort(-weights)[:SUGGEST_TERMS] if weights[j] > 0]
        if not top:
            continue
        centre = kmeans.cluster_centers_[cluster]
        nearest = rows[np.argsort(-(matrix[rows] @ centre))][:SUGGEST_EXAMPLES]
        suggestions.append(Suggestion(top, len(rows), [cleaned[i] for i in nearest]))
    suggestions.sort(key=lambda s: -s.size)
    return suggestions
