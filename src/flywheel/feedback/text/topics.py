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
        ("服务", "态度", "客服", "售后", "销售", "业务员", "热情", "耐心", "专业", "敷衍"),
        ("service", "staff", "attitude", "rude", "friendly", "helpful", "sales rep", "account manager", "professional"),
    ),
    TopicDef(
        "billing", "开票与对账", "Billing",
        ("发票", "开票", "对账", "账单", "账期", "扣款", "多收", "收费", "结算", "红冲"),
        ("invoice", "invoices", "invoicing", "billing", "bill", "statement", "reconciliation", "overcharged", "charged", "credit note"),
    ),
    TopicDef(
        "communication", "沟通", "Communication",
        ("沟通", "回复", "不回", "联系不上", "打不通", "没人接", "没人理", "通知", "响应"),
        ("communication", "respond", "responding", "response", "reply", "replied", "call back", "no one answers", "kept us informed", "informed", "unreachable"),
    ),
    TopicDef(
        "packaging", "包装", "Packaging",
        ("包装", "纸箱", "破损", "漏液", "泄漏", "外箱", "标签", "防护"),
        ("packaging", "package", "packed", "box", "carton", "label", "leaking", "damaged in transit"),
    ),
    TopicDef(
        "returns", "退换货", "Returns",
        ("退货", "换货", "退款", "退换", "返修", "召回"),
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


@dataclass(frozen=True, slots=True)
class _Taxonomy:
    """The patterns of a taxonomy: each topic's, and one per language for all the keywords of
    all topics. A text the latter do not find has no keyword of that language, so the topics'
    own patterns need not look (most texts are in one language). When every English keyword
    has a Latin letter, a text without one (``_LETTER``) has none of them either."""

    topics: tuple[tuple[str, _Patterns], ...]
    any_zh: re.Pattern[str] | None
    any_en: re.Pattern[str] | None
    en_needs_letter: bool


# What a pattern's ASCII letter matches, any case: the 52 ASCII letters and İ ı ſ K (re's
# IGNORECASE); cheap to look for, unlike a whole-word English pattern.
_LETTER = re.compile(r"[a-z]", re.IGNORECASE)
_ASCII_LETTER = re.compile(r"[A-Za-z]")
_taxonomies: dict[tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...], _Taxonomy] = {}


def _taxonomy(topics: Sequence[TopicDef]) -> _Taxonomy:
    key = tuple((t.code, tuple(t.keywords_zh), tuple(t.keywords_en)) for t in topics)
    found = _taxonomies.get(key)
    if found is None:
        if len(_taxonomies) > 64:
            _taxonomies.clear()
        found = _Taxonomy(
            topics=tuple((topic.code, _patterns(topic)) for topic in topics),
            any_zh=_chinese_pattern([w for t in topics for w in t.keywords_zh]),
            any_en=_english_pattern([w for t in topics for w in t.keywords_en]),
            en_needs_letter=all(_ASCII_LETTER.search(w) for t in topics for w in t.keywords_en),
        )
        _taxonomies[key] = found
    return found


def _tag(text: str, taxonomy: _Taxonomy) -> list[TopicHit]:
    zh = taxonomy.any_zh is not None and taxonomy.any_zh.search(text) is not None
    en = (
        taxonomy.any_en is not None
        and (not taxonomy.en_needs_letter or _LETTER.search(text) is not None)
        and taxonomy.any_en.search(text) is not None
    )
    if not zh and not en:
        return []
    hits: list[TopicHit] = []
    for code, (chinese, english) in taxonomy.topics:
        spans = [m.span() for m in chinese.finditer(text)] if zh and chinese is not None else []
        if en and english is not None:
            spans += [m.span() for m in english.finditer(text)]
        if spans:
            spans.sort()
            words = list(dict.fromkeys(text[s:e].lower() for s, e in spans))
            hits.append(TopicHit(code, words, spans))
    return hits


def tag(text: str, topics: Sequence[TopicDef]) -> list[TopicHit]:
    """The topics whose keywords occur in ``text``, with the words found and their
    [start, end) character spans in ``text`` (English: whole words, any case; Chinese:
    substrings). Topics in taxonomy order; spans in text order."""
    return _tag(text, _taxonomy(topics))


def _char_grams(texts: Sequence[str]) -> tuple[Any, Any]:
    """(row, code) of every character 1- to 3-gram of every text: scikit-learn's
    ``analyzer="char_wb"``, ``ngram_range=(1, 3)`` tokens (the lowercased text's words, each
    padded with a space at both ends), found with numpy for a whole batch at once. A gram's
    code holds its code points (+1) left-aligned in 21 bits each, so codes sort as the grams
    do as strings. The texts are written ``" w1  w2 "``, one after the other: the n-grams of
    the padded words are then exactly the substrings holding no two spaces."""
    import numpy as np

    parts = []
    for text in texts:
        words = text.lower().split()
        parts.append(f" {'  '.join(words)} " if words else "")
    joined = "".join(parts).encode("utf-32-le", "surrogatepass")
    points = np.frombuffer(joined, dtype=np.uint32).astype(np.int64) + 1
    sizes = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
    rows = np.repeat(np.arange(len(parts), dtype=np.int64), sizes)
    space = points == ord(" ") + 1
    apart = ~(space[:-1] & space[1:])  # no two spaces from here
    two = (points[:-1] << 42) | (points[1:] << 21)
    three = two[:-1] | points[2:]
    apart3 = apart[:-1] & apart[1:]
    return (
        np.concatenate([rows, rows[:-1][apart], rows[:-2][apart3]]),
        np.concatenate([points << 42, two[apart], three[apart3]]),
    )


def _char_counts(texts: Sequence[str], vocabulary: Any = None) -> tuple[Any, Any]:
    """(counts, vocabulary): the texts' character n-gram counts as a sparse matrix over
    ``vocabulary`` (sorted gram codes; grams outside it left out), or over all their grams
    when it is None: what ``TfidfVectorizer``'s counting gives (float counts, columns in the
    grams' sorted order, indices sorted)."""
    import numpy as np
    from scipy import sparse  # type: ignore[import-untyped]

    rows, codes = _char_grams(texts)
    order = np.lexsort((codes, rows))
    rows, codes = rows[order], codes[order]
    first = np.ones(len(codes), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (codes[1:] != codes[:-1])
    starts = np.flatnonzero(first)
    counts = np.diff(np.append(starts, len(codes)))
    rows, codes = rows[starts], codes[starts]
    if vocabulary is None:
        vocabulary = np.unique(codes)
    columns = np.searchsorted(vocabulary, codes)
    known = columns < len(vocabulary)
    known[known] = vocabulary[columns[known]] == codes[known]
    indptr = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows[known], minlength=len(texts)), out=indptr[1:])
    matrix = sparse.csr_matrix(
        (counts[known].astype(np.float64), columns[known], indptr),
        shape=(len(texts), len(vocabulary)),
    )
    matrix.sort_indices()
    return matrix, vocabulary


def tag_batch(texts: Sequence[str], topics: Sequence[TopicDef]) -> list[list[TopicHit]]:
    """``tag`` for every text; a text no keyword finds gets the topic whose centroid (char
    n-gram tf-idf of the keyword-tagged texts of the same batch) is nearest, with
    ``via="model"`` and no spans, when the cosine similarity reaches
    ``FALLBACK_MIN_SIMILARITY``."""
    import numpy as np

    taxonomy = _taxonomy(topics)
    # Notes written from a template repeat within a batch: each text is tagged once.
    once = {text: _tag(text, taxonomy) for text in dict.fromkeys(t or "" for t in texts)}
    results = [list(once[text or ""]) for text in texts]
    untagged = [i for i, hits in enumerate(results) if not hits and (texts[i] or "").strip()]
    members: dict[str, list[int]] = {}
    for i, hits in enumerate(results):
        for hit in hits:
            members.setdefault(hit.code, []).append(i)
    codes = [code for code, rows in members.items() if len(rows) >= FALLBACK_MIN_EXAMPLES]
    if not untagged or not codes:
        return results
    from sklearn.feature_extraction.text import TfidfTransformer  # type: ignore[import-untyped]
    from sklearn.preprocessing import normalize  # type: ignore[import-untyped]

    # The tf-idf of char_wb 1-3-grams (sublinear tf), fitted on the texts of the fallback's
    # topics; each text is split into n-grams once.
    tagged_rows = sorted({i for code in codes for i in members[code]})
    position = {row: k for k, row in enumerate(tagged_rows)}
    counts, vocabulary = _char_counts([texts[i] for i in tagged_rows])
    tfidf = TfidfTransformer(sublinear_tf=True).fit(counts)
    tagged = tfidf.transform(counts, copy=False)
    centroids = normalize(
        np.vstack(
            [
                np.asarray(tagged[[position[i] for i in members[code]]].mean(axis=0))
                for code in codes
            ]
        )
    )
    others = tfidf.transform(_char_counts([texts[i] for i in untagged], vocabulary)[0], copy=False)
    similarity = np.asarray(others @ centroids.T)
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


# A Chinese character pair holding one of these is a fragment across words ("但预", "很失"),
# not a term a topic could be named by.
_FUNCTION_CHARS_ZH = frozenset(
    "的了是我你他她它们这那和与及或但而且也都就还在有把被让给对向从很太挺更最吧呢吗啊呀哦么个"
)


def _terms(text: str) -> list[str]:
    """Words of English text and character 2-grams of Chinese runs, without stop words and
    without pairs that hold a function character."""
    out: list[str] = []
    for token in _WORD_TOKEN.findall(text.lower()):
        if token[0] <= "z":
            if token not in _STOP_EN:
                out.append(token)
        else:
            out.extend(
                token[i : i + 2]
                for i in range(max(1, len(token) - 1))
                if token[i : i + 2] not in _STOP_ZH
                and len(token[i : i + 2]) == 2
                and not _FUNCTION_CHARS_ZH.intersection(token[i : i + 2])
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
