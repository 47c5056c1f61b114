"""Text clean-up shared by the sentiment, topic and urgency code: width, case, repeats, emoji."""

from __future__ import annotations

import re
import unicodedata

_REPEATS = re.compile(r"(.)\1{2,}")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")

# A few emoji carry most of the feeling in short comments; each becomes a word both models know.
EMOJI_WORDS: dict[str, tuple[str, str]] = {
    "👍": ("赞", " good "),
    "👏": ("赞", " great "),
    "😊": ("开心", " happy "),
    "😄": ("开心", " happy "),
    "😀": ("开心", " happy "),
    "🙂": ("好", " good "),
    "❤": ("喜欢", " love "),
    "😍": ("喜欢", " love "),
    "💯": ("满分", " perfect "),
    "👎": ("差", " bad "),
    "😡": ("生气", " angry "),
    "😠": ("生气", " angry "),
    "😤": ("生气", " angry "),
    "😞": ("失望", " disappointed "),
    "😢": ("难过", " sad "),
    "😭": ("难过", " sad "),
    "💩": ("垃圾", " terrible "),
    "🤮": ("恶心", " disgusting "),
}


def detect_language(text: str) -> str:
    """ "zh" when Chinese characters carry the text, else "en" (a mixed comment such as
    "The 发票 is wrong" is English; "订单ABC123还没到" is Chinese)."""
    cjk = len(_CJK.findall(text))
    if cjk == 0:
        return "en"
    latin = len(_LATIN.findall(text))
    return "zh" if cjk * 3 >= latin else "en"


def normalize(text: str, language: str = "zh") -> str:
    """NFKC (full-width → half-width), lower case, runs of 3+ equal characters cut to 2,
    emoji replaced by a word of ``language``."""
    text = unicodedata.normalize("NFKC", text).lower()
    if any(char in text for char in EMOJI_WORDS):
        slot = 0 if language == "zh" else 1
        for emoji, words in EMOJI_WORDS.items():
            if emoji in text:
                text = text.replace(emoji, words[slot])
    return _REPEATS.sub(r"\1\1", text)
