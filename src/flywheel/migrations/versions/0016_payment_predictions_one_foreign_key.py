"""Payment predictions: only the installment's foreign key (the customer's was a second check
per row for what the installment's already covers)

Revision ID: 03de5161d972
Revises: 36191f190ea3
Create Date: 2026-12-05 20:07:34.199330
"""

from collections.abc import Sequence

from alembic import op

revision: str = "03de5161d972"
down_revision: str | None = "36191f190ea3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("payment_predictions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_payment_predictions_customer_id_customers"), type_="foreignkey"
        )


def downgrade() -> None:
    with op.batch_alter_table("payment_predictions", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_payment_predictions_customer_id_customers"),
            "customers",
            ["customer_id"],
            ["id"],
            ondelete="CASCADE",
        )
