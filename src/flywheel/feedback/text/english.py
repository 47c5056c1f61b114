"""English sentiment from a valence lexicon, with negation, intensifiers and contrast ("but").

The word valences are the VADER lexicon (Hutto & Gilbert 2014, MIT licence) as shipped in the
``vaderSentiment`` wheel; the build step copies them into the model file, so nothing of that
package is imported at run time. The scoring rules below are Flywheel's own.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?|[:;=][\-o^']?[()\[\]dp/\\|]|[!?]")

NEGATORS_EN = frozenset(
    [
        "not",
        "no",
        "never",
        "none",
        "nobody",
        "nothing",
        "neither",
        "nor",
        "nowhere",
        "without",
        "hardly",
        "barely",
        "cannot",
        "cant",
        "dont",
        "doesnt",
        "didnt",
        "isnt",
        "arent",
        "wasnt",
        "werent",
        "wont",
        "wouldnt",
        "shouldnt",
        "couldnt",
        "havent",
        "hasnt",
        "hadnt",
        "aint",
        "lacks",
        "lacking",
    ]
)
BOOSTERS_EN: Mapping[str, float] = {
    **dict.fromkeys(
        [
            "very",
            "really",
            "extremely",
            "so",
            "too",
            "totally",
            "absolutely",
            "incredibly",
            "highly",
            "super",
            "completely",
            "utterly",
            "truly",
            "most",
            "especially",
            "quite",
            "deeply",
        ],
        0.3,
    ),
    **dict.fromkeys(
        ["slightly", "somewhat", "barely", "kinda", "sorta", "little", "rather", "fairly"], -0.3
    ),
}
# Words of B2B feedback the general-purpose VADER list lacks (on its −4…4 scale): how orders,
# deliveries, invoices and support go wrong or right.
BUSINESS_WORDS_EN: Mapping[str, float] = {
    "slow": -1.5, "slower": -1.5, "sluggish": -1.5, "late": -1.5, "delays": -1.3,
    "overdue": -1.2, "overcharged": -2.0, "overbilled": -2.0, "unresolved": -1.6,
    "unanswered": -1.4, "unreachable": -1.5, "unresponsive": -1.8, "leaking": -1.6,
    "cracked": -1.4, "dented": -1.3, "churn": -1.5, "backorder": -1.0, "backordered": -1.0,
    "shortage": -1.3, "mislabeled": -1.5, "misdelivered": -1.6,
    "prompt": 1.2, "promptly": 1.2, "reliable": 1.6, "reliably": 1.4, "smooth": 1.4,
    "smoothly": 1.4, "fast": 1.2, "quick": 1.0, "quickly": 0.8,
    "punctual": 1.4,
}  # fmt: skip

CONTRASTS_EN = frozenset({"but", "however", "although", "though", "yet"})
#: How far back (in tokens) a negator reaches.
NEGATION_REACH = 3
#: A negated word keeps this share of its valence, with the sign turned.
NEGATION_FACTOR = -0.75
#: Normalises the summed valence into -1..1 as sum / sqrt(sum² + ALPHA).
ALPHA = 15.0


def _plain(token: str) -> str:
    return token.replace("'", "")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def valence(text: str, lexicon: Mapping[str, float]) -> float:
    """The text's summed word valence mapped to -1..1 (0 when no lexicon word occurs)."""
    words = tokens(text)
    if not words:
        return 0.0
    values: list[float] = []
    contrast_at = -1
    for position, word in enumerate(words):
        if word in CONTRASTS_EN:
            contrast_at = len(values)
        value = lexicon.get(word)
        if value is None:
            value = lexicon.get(_plain(word))
        if value is None or _plain(word) in BOOSTERS_EN:
            values.append(0.0)
            continue
        window = [_plain(w) for w in words[max(0, position - NEGATION_REACH) : position]]
        for distance, before in enumerate(reversed(window)):
            boost = BOOSTERS_EN.get(before)
            if boost is not None:
                value += math.copysign(boost * (0.95**distance), value)
        if any(w in NEGATORS_EN for w in window):
            value *= NEGATION_FACTOR
        values.append(value)
    if contrast_at >= 0:
        # What follows "but" says more than what precedes it.
        values = [v * 0.5 for v in values[:contrast_at]] + [v * 1.5 for v in values[contrast_at:]]
    total = sum(values)
    if total == 0.0:
        return 0.0
    exclaim = min(words.count("!"), 4) * 0.29
    total += math.copysign(exclaim, total)
    return total / math.sqrt(total * total + ALPHA)


def parse_lexicon(text: str) -> dict[str, float]:
    """The ``word<TAB>mean<TAB>…`` lines of a VADER-format lexicon as {word: mean valence}."""
    table: dict[str, float] = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2:
            try:
                table[parts[0].strip().lower()] = float(parts[1])
            except ValueError:
                continue
    return table
