"""Indexes by account for the 360's panels, which read every open row of a table to find one
account's: contract milestones by due day, open feedback loops by due time, open disputes by
SLA day

Revision ID: 5b0c2e7d94a1
Revises: 03de5161d972
Create Date: 2026-12-05 21:45:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5b0c2e7d94a1"
down_revision: str | None = "03de5161d972"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_INDEXES = (
    ("contract_milestones", "ix_contract_milestones_customer_due", ["customer_id", "due_on"]),
    (
        "feedback_loops",
        "ix_feedback_loops_customer_status_due",
        ["customer_id", "status", "due_at"],
    ),
    ("disputes", "ix_disputes_customer_status_sla", ["customer_id", "status", "sla_due_on"]),
)


def upgrade() -> None:
    for table, name, columns in _INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for table, name, _columns in _INDEXES:
        op.drop_index(name, table_name=table)
