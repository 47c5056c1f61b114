"""How much retraining the sentiment model on the company's own scored comments helps, on the demo.

    python benchmarks/bench_feedback_demo.py --customers 5000 [--years 3] [--database-url URL]

Builds the demo company (a fresh temporary SQLite file unless a URL is given; a given database
is rebuilt with --replace), takes every survey comment whose score is in a good or bad band
(9–10 positive, 0–6 negative for NPS; CSAT and CES by their bands), trains the company model on
the older 80% and compares it with the shipped model on the newest 20%: accuracy and macro-F1,
by language and overall. The demo's comments are synthetic, so the figures say how well the
model adapts to a company's vocabulary, not how good it is on real reviews.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.db import make_engine, upgrade_database
from flywheel.demo.service import build_demo
from flywheel.feedback.analysis import evaluate, sentiment_label
from flywheel.models.feedback import SurveyResponse

console = Console()


def scored(engine: Any) -> list[tuple[str, str, str]]:
    """(comment, label, language) of the scored comments, oldest first."""
    with Session(engine) as session:
        rows = session.execute(
            select(
                SurveyResponse.kind,
                SurveyResponse.score,
                SurveyResponse.comment,
                SurveyResponse.language,
            )
            .where(SurveyResponse.comment.is_not(None))
            .order_by(SurveyResponse.answered_at, SurveyResponse.id)
        ).all()
    result = []
    for kind, score, comment, language in rows:
        label = sentiment_label(kind, int(score))
        if label is not None and comment and comment.strip():
            result.append((comment.strip(), label, language))
    return result


def trainer() -> tuple[Callable[[], Any], Callable[[Sequence[str], Sequence[str]], Any]]:
    from flywheel.feedback.text import sentiment

    def company(texts: Sequence[str], labels: Sequence[str]) -> Any:
        return sentiment.train_company_model(texts, labels, base=sentiment.load_model())

    return sentiment.load_model, company


def run(url: str, customers: int, years: int, seed: int, as_of: date) -> None:
    os.environ.setdefault("FLYWHEEL_SECRET_KEY", "bench-feedback-demo-only")
    engine = make_engine(url)
    upgrade_database(engine)
    clock = time.perf_counter()
    build_demo(engine, customers=customers, years=years, seed=seed, as_of=as_of, replace=True)
    built = time.perf_counter() - clock
    rows = scored(engine)
    engine.dispose()
    cut = int(len(rows) * 0.8)
    train, test = rows[:cut], rows[cut:]
    load_model, train_company = trainer()
    shipped = load_model()
    clock = time.perf_counter()
    company = train_company([r[0] for r in train], [r[1] for r in train])
    trained = time.perf_counter() - clock

    table = Table(
        title=f"Sentiment on the demo's held-out comments — {customers:,} customers, seed {seed}"
    )
    for name in ("texts", "n test", "shipped acc", "shipped F1", "company acc", "company F1"):
        table.add_column(name, justify="right" if name != "texts" else "left")
    table.add_column("Δ F1", justify="right")
    for language in ("zh", "en", None):
        part = [r for r in test if language is None or r[2] == language]
        if len(part) < 10:
            continue
        texts = [r[0] for r in part]
        labels = [r[1] for r in part]
        before = evaluate(shipped, texts, labels)
        after = evaluate(company, texts, labels)
        table.add_row(
            language or "all",
            f"{len(part):,}",
            f"{before['accuracy']:.3f}",
            f"{before['macro_f1']:.3f}",
            f"{after['accuracy']:.3f}",
            f"{after['macro_f1']:.3f}",
            f"{after['macro_f1'] - before['macro_f1']:+.3f}",
        )
    console.print(table)
    all_texts = [r[0] for r in test]
    clock = time.perf_counter()
    company.predict(all_texts)
    rate = len(all_texts) / max(time.perf_counter() - clock, 1e-9)
    console.print(
        f"{len(train):,} training comments (older 80%), {len(test):,} held out (newest 20%); "
        f"company model trained in {trained:.1f} s, predicts {rate:,.0f} texts/s; "
        f"demo built in {built:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2025, 6, 30))
    parser.add_argument("--database-url")
    args = parser.parse_args()
    if args.database_url:
        run(args.database_url, args.customers, args.years, args.seed, args.as_of)
        return
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench-feedback.db'}"
        run(url, args.customers, args.years, args.seed, args.as_of)


if __name__ == "__main__":
    main()
