"""Topic tagging with highlight spans, the model fallback, and topic suggestions."""

from __future__ import annotations

from flywheel.feedback.text.topics import (
    DEFAULT_TOPICS,
    Suggestion,
    TopicDef,
    TopicHit,
    suggest_topics,
    tag,
    tag_batch,
)

BILLING = TopicDef("billing", "开票与对账", "Billing", ("发票", "对账"), ("invoice", "credit note"))
DELIVERY = TopicDef("delivery", "交付", "Delivery", ("送货", "到货"), ("late", "delivery"))


def test_the_default_taxonomy_is_bilingual_and_has_unique_codes() -> None:
    codes = [t.code for t in DEFAULT_TOPICS]

    assert len(codes) == len(set(codes))
    assert {"delivery", "product_quality", "price", "service", "billing", "communication"} <= set(
        codes
    )
    assert {"packaging", "returns", "documentation", "payment_terms", "technical_support"} <= set(
        codes
    )
    for topic in DEFAULT_TOPICS:
        assert topic.name_zh
        assert topic.name_en
        assert topic.keywords_zh
        assert topic.keywords_en


def test_keywords_are_found_with_spans_in_text_order() -> None:
    text = "Delivery was LATE and the Invoice was wrong; 发票也开错了"

    hits = tag(text, [BILLING, DELIVERY])

    assert hits == [
        TopicHit("billing", ["invoice", "发票"], [(26, 33), (45, 47)]),
        TopicHit("delivery", ["delivery", "late"], [(0, 8), (13, 17)]),
    ]
    assert [text[s:e] for s, e in hits[0].spans] == ["Invoice", "发票"]


def test_english_keywords_match_whole_words_only_and_phrases_across_spaces() -> None:
    assert tag("The chocolate was lately invoiced", [BILLING, DELIVERY]) == []
    assert tag("Please send a credit  note", [BILLING]) == [
        TopicHit("billing", ["credit  note"], [(14, 26)])
    ]


def test_chinese_keywords_match_as_substrings() -> None:
    assert tag("上个月的对账单不对", [BILLING]) == [TopicHit("billing", ["对账"], [(4, 6)])]


def test_untagged_texts_fall_back_to_the_nearest_topic_of_the_batch() -> None:
    texts = [
        "发票开错了，税号不对",
        "发票抬头写错，税号也错",
        "发票税号错误，请重开",
        "送货太慢了，司机迟到",
        "到货晚了三天，司机迟到",
        "送货延误，司机不接电话",
        "税号又写错了，请重开",  # no keyword: like the invoice texts
        "今天天气很好",  # like nothing
    ]

    hits = tag_batch(texts, [BILLING, DELIVERY])

    assert [h.code for h in hits[0]] == ["billing"]
    assert hits[0][0].via == "keyword"
    assert hits[6] == [TopicHit("billing", [], [], via="model")]
    assert hits[7] == []


def test_without_enough_tagged_texts_there_is_no_fallback() -> None:
    hits = tag_batch(["发票开错了", "税号又写错了"], [BILLING])

    assert hits == [[TopicHit("billing", ["发票"], [(0, 2)])], []]


def test_suggestions_cluster_comments_and_name_them_by_their_terms() -> None:
    texts = [
        "叉车司机卸货太粗暴",
        "卸货时叉车撞坏了托盘",
        "叉车卸货把箱子弄坏",
        "叉车司机卸货不小心",
        "APP login keeps failing",
        "cannot login to the portal app",
        "portal login error again",
        "the app login page is broken",
    ]

    found = suggest_topics(texts, k=2)

    assert len(found) == 2
    assert all(isinstance(s, Suggestion) and s.size == 4 for s in found)
    terms = [set(s.terms) for s in found]
    assert any({"叉车", "卸货"} <= t for t in terms)
    assert any({"login", "app"} <= t for t in terms)
    for suggestion in found:
        assert 1 <= len(suggestion.examples) <= 3
        assert set(suggestion.examples) <= set(texts)


def test_too_few_texts_give_no_suggestions() -> None:
    assert suggest_topics(["太慢", "太贵"]) == []


def test_suggested_chinese_terms_are_not_fragments_across_words() -> None:
    texts = [
        "很失望，请重视。",
        "非常失望，请尽快重视。",
        "很失望，体验太差，请重视。",
        "客户对新产品有兴趣，但预算尚未确定。",
        "对新产品感兴趣，但预算还没批。",
        "新产品的预算尚未确定，等待审批。",
    ]
    terms = [term for found in suggest_topics(texts, k=2) for term in found.terms]
    # "失望" and "重视" name a cluster; "很失", "但预" or "对新" never do
    assert "失望" in terms
    assert not {"很失", "但预", "对新"} & set(terms)
