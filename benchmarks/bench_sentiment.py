"""The shipped feedback sentiment model on public held-out review sets: accuracy, macro-F1, speed.

    python benchmarks/bench_sentiment.py [--eval-dir ../shared/data/eval] [--repeats 3]

The eval files (never used for training; see their README.md):

  sentiment_zh_waimai.csv   Chinese food-delivery reviews (label,review; 1 positive, 0 negative)
  sentiment_en_uci.tsv      English review sentences, UCI Sentiment Labelled Sentences (text,label)

The decision measured is yes/no: positive when the score is > 0 (the "neutral" band of the
3-way label is reported as a share, not counted). Speed is texts per second of
``SentimentModel.predict`` over the whole file, best of --repeats, after a warm-up.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table
from sklearn.metrics import f1_score

from flywheel.feedback.text.sentiment import NEUTRAL_BAND, load_model

console = Console(width=max(Console().width, 120))
EVAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "eval"


def load_eval(folder: Path) -> dict[str, tuple[list[str], np.ndarray]]:
    sets: dict[str, tuple[list[str], np.ndarray]] = {}
    zh = folder / "sentiment_zh_waimai.csv"
    if zh.is_file():
        frame = pd.read_csv(zh)
        sets["zh"] = ([str(t) for t in frame["review"]], frame["label"].to_numpy(dtype=int))
    en = folder / "sentiment_en_uci.tsv"
    if en.is_file():
        frame = pd.read_csv(en, sep="\t", quoting=3)
        sets["en"] = ([str(t) for t in frame["text"]], frame["label"].to_numpy(dtype=int))
    return sets


def measure(
    scorer: Callable[[Sequence[str]], np.ndarray], texts: list[str], repeats: int
) -> tuple[np.ndarray, float]:
    scorer(texts[:50])
    best = float("inf")
    scores = np.zeros(0)
    for _ in range(repeats):
        started = time.perf_counter()
        scores = scorer(texts)
        best = min(best, time.perf_counter() - started)
    return scores, len(texts) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--eval-dir", type=Path, default=EVAL_DIR)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not args.eval_dir.is_dir():
        console.print(f"[yellow]{args.eval_dir} not found: nothing to measure (see --eval-dir)")
        return
    sets = load_eval(args.eval_dir)
    if not sets:
        console.print(f"[yellow]no sentiment eval files in {args.eval_dir}")
        return
    started = time.perf_counter()
    model = load_model()
    console.print(f"model {model.version} loaded in {time.perf_counter() - started:.2f} s")
    scorers: list[tuple[str, Callable[[Sequence[str]], np.ndarray]]] = [
        ("default", lambda texts: np.array([s.score for s in model.predict(texts)])),
    ]
    table = Table(title="feedback sentiment on held-out reviews (positive when score > 0)")
    for column in ("model", "language", "n", "accuracy", "macro-F1", "neutral share", "texts/s"):
        table.add_column(column, justify="left" if column in ("model", "language") else "right")
    for name, scorer in scorers:
        for language, (texts, labels) in sets.items():
            scores, speed = measure(scorer, texts, args.repeats)
            predicted = (scores > 0).astype(int)
            table.add_row(
                name,
                language,
                f"{len(texts):,}",
                f"{(predicted == labels).mean():.3f}",
                f"{f1_score(labels, predicted, average='macro'):.3f}",
                f"{(np.abs(scores) < NEUTRAL_BAND).mean():.1%}",
                f"{speed:,.0f}",
            )
    console.print(table)


if __name__ == "__main__":
    main()
