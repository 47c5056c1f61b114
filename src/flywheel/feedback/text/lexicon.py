"""Flywheel's own small zh sentiment lexicon for customer feedback, and its negation-aware scorer.

Written for this project (no third-party word list), so it ships under the project's licence.
It gives the character n-gram model general words the shipped training corpus (book, hotel and
electronics reviews) may lack: delivery speed, service attitude, quality, price.
"""

from __future__ import annotations

import re
from functools import lru_cache

POSITIVE_ZH: tuple[str, ...] = (
    "好", "很好", "不错", "挺好", "满意", "非常满意", "喜欢", "推荐", "值得", "超值", "划算",
    "实惠", "便宜", "快", "很快", "迅速", "及时", "准时", "提前", "神速", "高效", "方便",
    "好吃", "美味", "香", "新鲜", "干净", "卫生", "精致", "漂亮", "好看", "结实", "耐用",
    "质量好", "品质好", "做工好", "正品", "物美价廉", "性价比高", "靠谱", "放心", "专业",
    "耐心", "热情", "周到", "细心", "贴心", "认真", "负责", "礼貌", "客气", "友好", "给力",
    "棒", "很棒", "赞", "点赞", "完美", "优秀", "一流", "舒服", "舒适", "开心", "愉快",
    "感谢", "谢谢", "辛苦了", "好评", "五星", "满分", "惊喜", "流畅", "稳定", "顺利",
    "清楚", "清晰", "详细", "到位", "合理", "诚信", "守时", "回头客", "还会再来", "再次购买",
    "继续合作", "长期合作", "解决了", "及时解决", "态度好", "服务好", "速度快", "包装好",
    "分量足", "量足", "量大", "实在", "好用", "温暖", "用心", "可口", "地道", "正宗",
)  # fmt: skip

NEGATIVE_ZH: tuple[str, ...] = (
    "差", "很差", "太差", "极差", "差劲", "糟糕", "垃圾", "失望", "很失望", "不满", "不满意",
    "慢", "太慢", "很慢", "迟", "迟到", "延迟", "延误", "拖延", "晚到", "超时", "等了",
    "难吃", "难看", "难用", "难闻", "臭", "咸", "太咸", "淡", "凉", "冷了", "馊", "变质",
    "脏", "不卫生", "恶心", "破", "破损", "损坏", "坏了", "漏", "撒了", "洒了", "碎",
    "假货", "劣质", "次品", "瑕疵", "问题", "毛病", "故障", "错", "错误", "发错", "送错",
    "少了", "漏发", "缺货", "不够", "贵", "太贵", "偏贵", "坑", "骗", "欺骗", "忽悠",
    "态度差", "态度恶劣", "敷衍", "推诿", "不理", "不回复", "没人管", "爱答不理", "冷漠",
    "粗鲁", "投诉", "退货", "退款", "差评", "一星", "后悔", "再也不", "不会再", "别买",
    "浪费", "麻烦", "折腾", "失误", "无语", "生气", "气死", "郁闷", "糟心", "崩溃", "坑人",
    "不行", "不好", "一般", "凑合", "勉强", "不值", "不靠谱", "不专业", "不负责", "不及时",
    "不新鲜", "不好吃", "不好用", "不合理", "不清楚", "拖欠", "催了", "催单", "还没到",
    "没送到", "没收到", "未收到", "找不到", "联系不上", "打不通", "不耐烦", "油腻", "硬",
)  # fmt: skip

NEGATORS_ZH: tuple[str, ...] = ("不", "没", "没有", "无", "未", "别", "非", "并不", "不太", "不够")
#: A negator further back than this many characters does not reach the word.
NEGATION_REACH = 3

# Words that start with a negator but are entries of their own (不错 is good, 不满 is bad).
_NEGATION_CHARS = frozenset("不没无未别非")


@lru_cache(maxsize=1)
def _pattern() -> re.Pattern[str]:
    words = sorted({*POSITIVE_ZH, *NEGATIVE_ZH}, key=len, reverse=True)
    return re.compile("|".join(re.escape(w) for w in words))


@lru_cache(maxsize=1)
def _polarity() -> dict[str, int]:
    table = dict.fromkeys(NEGATIVE_ZH, -1)
    table.update(dict.fromkeys(POSITIVE_ZH, 1))
    return table


def _negated(text: str, start: int) -> bool:
    window = text[max(0, start - NEGATION_REACH) : start]
    # A clause break between the negator and the word ends its reach.
    window = re.split(r"[，,。.！!？?；;\s]", window)[-1]
    return any(char in _NEGATION_CHARS for char in window)


def score_zh(text: str) -> tuple[int, int]:
    """(positive, negative) lexicon hits in ``text``; a negated word counts for the other side."""
    polarity = _polarity()
    positive = negative = 0
    for match in _pattern().finditer(text):
        value = polarity[match.group()]
        if match.group()[0] not in _NEGATION_CHARS and _negated(text, match.start()):
            value = -value
        if value > 0:
            positive += 1
        else:
            negative += 1
    return positive, negative
