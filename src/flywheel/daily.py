"""The daily flywheel cycle (``flywheel run``, and the worker once a day): credit scores and
limits, payment-date predictions and the cash forecast, then the collection strategies, then
the feedback campaigns, text analysis and follow-up escalations, then loyalty: segments, CLV,
health, churn risk, referral rewards and the next best actions, then the key-account follow-up:
contract renewal reminders, overdue milestones and expired contracts; last, the insights
cube the flywheel dashboard reads (the running month and the one before, and any month of its
history not yet built) and the management reports that fall due."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from flywheel.config import get_settings
from flywheel.credit import predictions, service, trained
from flywheel.db import unit_of_work
from flywheel.receivables.ledger_columns import cut_ledger, import_readers, read_ledger


def _load_models(model_dir: Path) -> tuple[Any, Any]:
    """The trained scorecard and the payment-date model, each None when there is none."""
    return trained.load_card(model_dir), predictions.load_model(model_dir)


def run_daily_cycle(day: date) -> dict[str, Any]:
    """Run every part of the cycle for ``day`` and return what it did (the ``--json`` shape of
    ``flywheel run``). Each part commits on its own, so collections act on the day's grades."""
    from flywheel.collections import cycle
    from flywheel.feedback import daily as feedback
    from flywheel.insights import daily as insights
    from flywheel.keyaccounts import daily as key_accounts
    from flywheel.loyalty import cycle as loyalty

    settings = get_settings()
    card = service.load_scorecard(settings.credit_scorecard)
    with unit_of_work() as session, ThreadPoolExecutor(max_workers=1) as loader:
        # One columnar read of the ledger serves the scores and, once a payment-date model
        # exists, the predictions: their installments reach further back (the customers'
        # payment history), the allocations only as far as the scores need. Nothing is
        # written yet, so the read may use a connection of its own. The trained models load
        # (mostly importing scikit-learn) while the rows arrive; both count as reading.
        clock = time.perf_counter()
        import_readers()
        models = loader.submit(_load_models, settings.model_dir)
        ledger = scored_ledger = None
        if predictions.model_path(settings.model_dir).exists():
            since = day - timedelta(days=service.HISTORY_DAYS)
            ledger = read_ledger(
                session,
                as_of=day,
                since=since,
                history_since=day - timedelta(days=predictions.history_days()),
                committed=True,
            )
            scored_ledger = cut_ledger(ledger, as_of=day, since=since)
        trained_card, payment_model = models.result()
        shared_read = time.perf_counter() - clock
        result = service.score_all(
            session, as_of=day, card=card, trained_card=trained_card, ledger=scored_ledger
        )
        result.seconds["read"] = result.seconds.get("read", 0.0) + shared_read
        predicted = predictions.predict(
            session,
            as_of=day,
            model_dir=settings.model_dir,
            ledger=ledger,
            loaded=payment_model,
        )
    with unit_of_work() as session:
        collected = cycle.run(session, as_of=day, settings=settings)
    with unit_of_work() as session:
        heard = feedback.run(session, as_of=day, settings=settings)
    with unit_of_work() as session:
        kept = loyalty.run(session, as_of=day, settings=settings)
    with unit_of_work() as session:
        followed = key_accounts.run(session, as_of=day, settings=settings)
    with unit_of_work() as session:
        seen = insights.run(session, as_of=day, settings=settings)
    return {
        "as_of": day.isoformat(),
        "credit": {
            "customers": result.customers,
            "model": result.model,
            "grades": result.grades,
            "grade_changes": result.grade_changes,
            "limit_reviews": {
                "proposed": result.limit_reviews_proposed,
                "refreshed": result.limit_reviews_refreshed,
            },
            "seconds": {k: round(v, 3) for k, v in result.seconds.items()},
        },
        "payments": None
        if predicted is None
        else {
            "installments_predicted": predicted.predicted,
            "forecast_weeks": predicted.weeks,
            "seconds": {k: round(v, 3) for k, v in predicted.seconds.items()},
        },
        "collections": collected.as_dict(),
        "feedback": heard,
        "loyalty": kept.as_dict(),
        "key_accounts": followed,
        "insights": seen,
    }
