"""The demo key accounts' contracts (``demo.keyaccounts_contracts.write_contracts`` on the small
demo): a live contract per key account, some renewing within 90 days with their reminder tasks,
milestones with checkpoints and payments linked to the account's own invoices, and a second
run adding nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from flywheel.demo.keyaccounts_contracts import write_contracts
from flywheel.demo.service import DemoSummary
from flywheel.models.customers import Customer
from flywheel.models.enums import CustomerStatus, Tier
from flywheel.models.keyaccounts import AccountTask, Contract, ContractMilestone
from flywheel.models.receivables import Invoice
from tests.demo.conftest import AS_OF


def test_contracts_and_milestones_for_every_key_account(
    built: tuple[Engine, DemoSummary],
) -> None:
    engine, summary = built
    counts = summary.counts  # build_demo wrote them
    with Session(engine) as session:
        again = write_contracts(session, as_of=AS_OF, seed=11)

        key_ids = set(
            session.scalars(
                select(Customer.id).where(
                    Customer.tier == Tier.KEY.value,
                    Customer.status == CustomerStatus.ACTIVE.value,
                    Customer.created_on <= AS_OF,
                )
            )
        )
        live = session.execute(
            select(Contract.customer_id, Contract.renewal_on).where(Contract.status == "active")
        ).all()
        renewing = [r for _c, r in live if AS_OF < r <= AS_OF + timedelta(days=90)]
        renewal_tasks = session.scalar(
            select(func.count(AccountTask.id)).where(AccountTask.kind == "renewal")
        )
        wrong_invoices = session.scalar(
            select(func.count(ContractMilestone.id))
            .join(Invoice, Invoice.id == ContractMilestone.invoice_id)
            .where(Invoice.customer_id != ContractMilestone.customer_id)
        )
        linked = session.scalar(
            select(func.count(ContractMilestone.id)).where(
                ContractMilestone.invoice_id.is_not(None)
            )
        )
        checkpoints = set(session.scalars(select(ContractMilestone.checkpoint).distinct()))
        session.rollback()

    assert key_ids
    assert {c for c, _r in live} == key_ids
    assert renewing
    assert renewal_tasks == len(renewing)
    assert counts["contracts"] >= len(key_ids)
    assert counts["contract_milestones"] >= 4 * len(key_ids)
    assert again == {"contracts": 0, "contract_milestones": 0, "account_tasks": 0}
    assert wrong_invoices == 0
    assert linked
    assert {"survey", "task", None} <= checkpoints
