"""The demo key accounts' stakeholder maps and needs (``demo.keyaccounts_map.write_map`` on the
small demo): a row per key-account contact, lines that reach the decision maker without a
circle, every attitude present, needs per key account with promoted survey comments, and a
second run adding nothing."""

from __future__ import annotations

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from flywheel.demo.keyaccounts_map import write_map
from flywheel.demo.service import DemoSummary
from flywheel.keyaccounts import stakeholders
from flywheel.models.customers import Contact, Customer
from flywheel.models.enums import Tier
from flywheel.models.keyaccounts import Need, Stakeholder
from tests.demo.conftest import AS_OF


def test_maps_and_needs_for_every_key_account(built: tuple[Engine, DemoSummary]) -> None:
    engine, summary = built
    counts = summary.counts  # build_demo wrote them
    with Session(engine) as session:
        again = write_map(session, as_of=AS_OF, seed=11)

        key_ids = list(session.scalars(select(Customer.id).where(Customer.tier == Tier.KEY.value)))
        key_contacts = session.scalar(
            select(func.count(Contact.id)).where(Contact.customer_id.in_(key_ids))
        )
        lines = dict(
            session.execute(select(Stakeholder.contact_id, Stakeholder.reports_to_contact_id)).all()
        )
        owners = dict(session.execute(select(Contact.id, Contact.customer_id)).all())
        attitudes = set(session.scalars(select(Stakeholder.attitude).distinct()))
        needy = session.scalar(select(func.count(func.distinct(Need.customer_id))))
        promoted = session.scalar(
            select(func.count(Need.id)).where(Need.source == "survey_comment")
        )
        coverage = stakeholders.coverage_by_customer(session, key_ids, as_of=AS_OF)
        session.rollback()

    assert key_ids
    assert counts["stakeholders"] == key_contacts
    assert again == {"stakeholders": 0, "needs": 0, "needs_promoted": 0}
    # Attitudes follow the accounts' latent satisfaction: mostly friendly, a few resisting.
    assert {"champion", "supporter", "neutral"} <= attitudes
    assert attitudes & {"sceptic", "opponent"}
    assert needy == len(key_ids)
    assert promoted == counts["needs_promoted"]
    assert promoted > 0
    assert 2 * len(key_ids) <= counts["needs"] <= 4 * len(key_ids)
    for contact_id, boss in lines.items():
        seen = {contact_id}
        while boss is not None:
            assert owners[boss] == owners[contact_id]
            assert boss not in seen
            seen.add(boss)
            boss = lines.get(boss)
    assert all(c["mapped"] == c["contacts"] for c in coverage.values())
