"""The feedback part of the daily cycle: events and schedules become invitations, invitations
due are sent through the outbox (after the rules that protect customers), non-responders get
one reminder, and links past their day expire.

- Idempotent: an event invites at most once per campaign (the invitation's dedupe key), and
  every e-mail has a dedupe key in the outbox, so running the cycle again sends nothing twice.
- Set-based: one query per campaign finds its events of the last days; contacts, opt-outs and
  recent surveys are read in chunks, and invitations are written in bulk.
- After days without a run, events of the last ``delay + CATCH_UP_DAYS`` (7) days are still
  planned; older ones are let go rather than asked about weeks late.
- The protection rules are applied on the send day: a contact who opted out is never
  surveyed, one surveyed (by any campaign) within ``survey_min_days_between`` days is skipped,
  each campaign sends to its ``sample_rate`` of invitations (chosen by a hash of the dedupe
  key, so a re-run chooses the same ones), and a contact gets at most one survey per run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from flywheel.config import Settings
from flywheel.feedback import campaigns as campaign_service
from flywheel.feedback import invitation_planning as planning
from flywheel.feedback import invitation_sending as sending
from flywheel.models.base import utcnow
from flywheel.models.enums import CampaignTrigger
from flywheel.models.feedback import SurveyCampaign
from flywheel.web.sessions import secret_key


@dataclass
class FeedbackCycleResult:
    as_of: date
    planned: dict[str, int] = field(default_factory=dict)  # invitations created, by trigger
    no_contact: int = 0  # events whose account has no contact the campaign may ask
    schedules_run: int = 0  # scheduled campaigns that ran
    sent: int = 0  # invitations queued in the outbox
    skipped: dict[str, int] = field(default_factory=dict)  # by SkipReason
    deferred: int = 0  # a second survey for a contact in one run, left for the next run
    reminded: int = 0
    expired: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def add_planned(self, trigger: str, planned: planning.Planned) -> None:
        if planned.invitations:
            self.planned[trigger] = self.planned.get(trigger, 0) + planned.invitations
        self.no_contact += planned.no_contact

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "planned": sum(self.planned.values()),
            "planned_by_trigger": dict(sorted(self.planned.items())),
            "no_contact": self.no_contact,
            "schedules_run": self.schedules_run,
            "sent": self.sent,
            "skipped": sum(self.skipped.values()),
            "skipped_by_reason": dict(sorted(self.skipped.items())),
            "deferred": self.deferred,
            "reminded": self.reminded,
            "expired": self.expired,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


def moment_of(as_of: date) -> datetime:
    """The instant a run for ``as_of`` acts at: now when ``as_of`` is today, else the same time
    of day on ``as_of`` (a run for a past or future day is reproducible by its date)."""
    now = utcnow()
    if as_of == now.date():
        return now
    return datetime.combine(as_of, now.time(), tzinfo=UTC)


def _keyed(settings: Settings) -> Settings:
    """Settings whose secret key is read once, not once per token."""
    if settings.secret_key is not None:
        return settings
    return settings.model_copy(update={"secret_key": SecretStr(secret_key(settings))})


# ---------------------------------------------------------------- the run


def run(
    session: Session, as_of: date, settings: Settings, *, now: datetime | None = None
) -> FeedbackCycleResult:
    """Plan, send, remind and expire for ``as_of``; flushes, the caller commits."""
    result = FeedbackCycleResult(as_of=as_of)
    moment = now or moment_of(as_of)
    settings = _keyed(settings)
    session.flush()
    clock = time.perf_counter()
    campaign_service.ensure_default_campaigns(session, as_of=as_of)
    active = list(
        session.scalars(
            select(SurveyCampaign)
            .where(SurveyCampaign.active.is_(True))
            .order_by(SurveyCampaign.id)
        )
    )
    for campaign in active:
        if campaign.trigger == CampaignTrigger.SCHEDULE:
            invited = planning.run_schedule(session, campaign, as_of=as_of, settings=settings)
            if invited is None:
                continue
            result.schedules_run += 1
            result.add_planned(campaign.trigger, planning.Planned(invitations=invited))
        else:
            since = as_of - timedelta(days=campaign.delay_days + planning.CATCH_UP_DAYS)
            found = planning.events(session, campaign, since=since, until=as_of)
            planned = planning.plan(session, campaign, found, settings=settings)
            result.add_planned(campaign.trigger, planned)
    result.seconds["plan"] = time.perf_counter() - clock
    clock = time.perf_counter()
    result.expired = sending.expire(session, moment)
    result.seconds["expire"] = time.perf_counter() - clock
    clock = time.perf_counter()
    outcome = sending.send_due(session, as_of=as_of, moment=moment, settings=settings)
    result.sent, result.skipped, result.deferred = outcome.sent, outcome.skipped, outcome.deferred
    result.seconds["send"] = time.perf_counter() - clock
    clock = time.perf_counter()
    result.reminded = sending.remind(session, as_of=as_of, moment=moment, settings=settings)
    result.seconds["remind"] = time.perf_counter() - clock
    session.flush()
    # Bulk statements went past the identity map: what the caller holds is read again.
    session.expire_all()
    return result


def record_event(
    session: Session,
    *,
    trigger: CampaignTrigger | str,
    customer_id: int,
    ref: str,
    occurred_on: date,
    settings: Settings,
    contact_id: int | None = None,
    stage: str | None = None,
) -> int:
    """An event another module knows of (a contract milestone done): every active campaign of
    ``trigger`` plans its invitation now. ``ref`` names the event ("milestone:12"); the same
    ref again plans nothing. Returns how many invitations were planned."""
    settings = _keyed(settings)
    event = planning.Event(customer_id, ref, occurred_on, contact_id, stage)
    planned = 0
    for campaign in session.scalars(
        select(SurveyCampaign).where(
            SurveyCampaign.trigger == CampaignTrigger(trigger).value,
            SurveyCampaign.active.is_(True),
        )
    ):
        planned += planning.plan(session, campaign, [event], settings=settings).invitations
    return planned
