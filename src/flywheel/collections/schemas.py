"""Input and output shapes of collections in the API and the CLI: the worklist, actions and
logged calls, promises to pay, disputes, payment arrangements, strategies, credit holds and
statements. Accounts are named by code and people by username, as elsewhere in the API."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, model_validator

from flywheel.collections.strategies import OFFSET_RANGE, StepIn
from flywheel.collections.worklist import WorkItem
from flywheel.kit.shapes import InputModel, Moment, MoneyText, OutputModel, PositiveAmount
from flywheel.models.collections import (
    CollectionAction,
    CollectionStrategy,
    CreditHoldPlacement,
    Dispute,
    PaymentArrangement,
    PromiseToPay,
    Statement,
)
from flywheel.models.customers import Customer
from flywheel.models.enums import (
    CallOutcome,
    CollectionChannel,
    DisputeReason,
    DisputeResolution,
)

Note = Annotated[str | None, Field(max_length=2000)]
Reason = Annotated[str, Field(min_length=1, max_length=2000)]
Username = Annotated[str | None, Field(max_length=64, description="A user's username.")]
# Ids in a body: larger numbers can name nothing (and SQLite cannot bind them).
RecordId = Annotated[int, Field(ge=1, le=2**63 - 1)]


class WorkChannel(StrEnum):
    """What the worklist can be narrowed to: an action's channel, or promises and disputes."""

    EMAIL = "email"
    WEBHOOK = "webhook"
    CALL = "call"
    LETTER = "letter"
    ESCALATION = "escalation"
    CREDIT_HOLD = "credit_hold"
    LEGAL = "legal"
    PROMISE = "promise"
    DISPUTE = "dispute"


# ---------------------------------------------------------------- input


class PromiseTerms(InputModel):
    """What the customer promised on a call."""

    amount: PositiveAmount
    promised_on: date
    installment_ids: Annotated[
        list[RecordId],
        Field(max_length=500, description="The items it covers (default: the oldest open ones)."),
    ] = []


class DisputeTerms(InputModel):
    """What the customer disputes on a call."""

    installment_id: RecordId
    reason: DisputeReason
    amount: Annotated[
        PositiveAmount | None,
        Field(description="The disputed part (default: all that is open and undisputed)."),
    ] = None
    description: Note = None


class CallNew(InputModel):
    """A logged call. ``promised`` needs ``promise``, ``disputed`` needs ``dispute``."""

    outcome: CallOutcome
    note: Note = None
    contact_id: RecordId | None = None
    promise: PromiseTerms | None = None
    dispute: DisputeTerms | None = None


class ActionDone(InputModel):
    note: Note = None


class ActionCancel(InputModel):
    reason: Reason


class PromiseNew(InputModel):
    amount: PositiveAmount
    promised_on: date
    currency: Annotated[
        str | None, Field(pattern=r"^[A-Z]{3}$", description="Default: the account's currency.")
    ] = None
    contact_id: RecordId | None = None
    channel: Annotated[
        str | None, Field(max_length=16, description="call, email, visit, chat …")
    ] = None
    note: Note = None
    installment_ids: Annotated[
        list[RecordId],
        Field(max_length=500, description="The items it covers (default: the oldest open ones)."),
    ] = []


class PromiseCancel(InputModel):
    reason: Reason


class DisputeNew(InputModel):
    installment_id: RecordId
    reason: DisputeReason
    amount: Annotated[
        PositiveAmount | None,
        Field(description="The disputed part (default: all that is open and undisputed)."),
    ] = None
    description: Note = None
    owner: Username = None


class DisputeResolve(InputModel):
    resolution: DisputeResolution
    note: Annotated[
        str | None,
        Field(max_length=2000, description="Required unless the resolution is a credit note."),
    ] = None
    credit_amount: Annotated[
        PositiveAmount | None,
        Field(description="A credit note's amount (default: the disputed amount)."),
    ] = None
    credit_note_number: Annotated[str | None, Field(min_length=1, max_length=64)] = None


class DisputeReassign(InputModel):
    owner: Annotated[str | None, Field(max_length=64, description="A username; null: nobody.")]


class PlanNew(InputModel):
    installments: Annotated[int, Field(ge=2, le=36)]
    first_due_on: date
    frequency_days: Annotated[
        int, Field(ge=7, le=92, description="7 weekly … 92 quarterly; 30 means monthly.")
    ] = 30
    reason: Reason
    installment_ids: Annotated[
        list[RecordId],
        Field(max_length=500, description="The items to restructure (default: all open ones)."),
    ] = []
    annual_interest_rate: Annotated[
        float | None, Field(ge=0, le=0.5, description="0.06 = 6 % a year.")
    ] = None
    currency: Annotated[
        str | None, Field(pattern=r"^[A-Z]{3}$", description="Default: the account's currency.")
    ] = None


class ExtensionNew(InputModel):
    installment_id: RecordId
    new_due_on: date
    reason: Reason


class ArrangementDecision(InputModel):
    note: Note = None


class ArrangementConfirm(InputModel):
    confirmed_on: Annotated[date | None, Field(description="Default: today.")] = None
    confirmation: Annotated[
        str, Field(min_length=1, max_length=2000, description="Who confirmed it, and how.")
    ]


class StepNew(InputModel):
    """One step of a strategy."""

    day_offset: Annotated[
        int,
        Field(
            ge=OFFSET_RANGE[0],
            le=OFFSET_RANGE[1],
            description="Days from the due date; negative = before it.",
        ),
    ]
    channel: CollectionChannel
    template: Annotated[
        str | None, Field(max_length=64, description="Needed by email, webhook and letter steps.")
    ] = None
    automatic: bool = True
    target: Annotated[
        str | None,
        Field(max_length=500, description='Escalation: "owner" or "manager"; webhook: a URL.'),
    ] = None

    @model_validator(mode="after")
    def _valid_step(self) -> StepNew:
        self.as_step()  # the strategy's own rules, as a 422
        return self

    def as_step(self) -> StepIn:
        return StepIn(
            day_offset=self.day_offset,
            channel=self.channel,
            template=self.template,
            automatic=self.automatic,
            target=self.target,
        )


class StrategySave(InputModel):
    name: Annotated[str, Field(min_length=1, max_length=120)]
    active: bool = True
    steps: Annotated[list[StepNew], Field(max_length=60)]


class HoldNew(InputModel):
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class StatementNew(InputModel):
    contact_id: Annotated[
        RecordId | None,
        Field(description="Default: the finance contact with an e-mail, else the first with one."),
    ] = None
    send: Annotated[
        bool, Field(description="false: store it (and its link) without e-mailing it.")
    ] = True


# ---------------------------------------------------------------- answers


class WorkItemOut(OutputModel):
    source: str = Field(description='"action", "promise" or "dispute".')
    id: int = Field(description="The action's, promise's or dispute's id.")
    priority: int = Field(description="0 promises due or broken, 1 disputes near SLA, 2 the rest.")
    value: float = Field(description="Expected value of acting: the order within a priority.")
    customer: str = Field(description="The account's code.")
    customer_name: str
    grade: str | None
    kind: str
    channel: str | None
    amount: MoneyText | None
    currency: str | None
    days_overdue: int | None
    due_on: date
    assigned_to: str | None = Field(description="A username.")
    note: str | None

    @classmethod
    def of(cls, item: WorkItem, users: Mapping[int, str]) -> WorkItemOut:
        return cls(
            source=item.source.value,
            id=item.id,
            priority=item.priority,
            value=round(item.value, 2),
            customer=item.customer_code,
            customer_name=item.customer_name,
            grade=item.grade,
            kind=item.kind,
            channel=item.channel,
            amount=item.amount,
            currency=item.currency,
            days_overdue=item.days_overdue,
            due_on=item.due_on,
            assigned_to=users.get(item.assigned_to_id) if item.assigned_to_id else None,
            note=item.note,
        )


class WorklistPage(OutputModel):
    as_of: date
    items: list[WorkItemOut]
    total: int
    page: int
    page_size: int


class ActionOut(OutputModel):
    id: int
    customer: str = Field(description="The account's code.")
    due_on: date
    kind: str
    channel: str
    status: str
    automatic: bool
    grade: str | None
    template: str | None
    language: str | None
    amount: MoneyText | None
    overdue_amount: MoneyText | None
    currency: str | None
    max_days_overdue: int | None
    assigned_to: str | None = Field(description="A username.")
    outcome: str | None
    note: str | None
    delivery: dict[str, Any] | None = Field(description="The outbox's last result.")
    created_at: Moment
    completed_at: Moment | None

    @classmethod
    def of(cls, action: CollectionAction, code: str, users: Mapping[int, str]) -> ActionOut:
        return cls(
            id=action.id,
            customer=code,
            due_on=action.due_on,
            kind=action.kind,
            channel=action.channel,
            status=action.status,
            automatic=action.automatic,
            grade=action.grade,
            template=action.template,
            language=action.language,
            amount=action.amount,
            overdue_amount=action.overdue_amount,
            currency=action.currency,
            max_days_overdue=action.max_days_overdue,
            assigned_to=users.get(action.assigned_to_id) if action.assigned_to_id else None,
            outcome=action.outcome,
            note=action.note,
            delivery=action.delivery,
            created_at=action.created_at,
            completed_at=action.completed_at,
        )


class PromiseOut(OutputModel):
    id: int
    customer: str = Field(description="The account's code.")
    customer_name: str
    amount: MoneyText
    currency: str
    promised_on: date
    made_on: date
    grace_days: int
    contact_id: int | None
    channel: str | None
    note: str | None
    status: str
    paid_amount: MoneyText
    resolved_on: date | None
    installment_ids: list[int]
    action_id: int | None
    created_by: str | None = Field(description="A username.")

    @classmethod
    def of(cls, promise: PromiseToPay, customer: Customer, users: Mapping[int, str]) -> PromiseOut:
        return cls(
            id=promise.id,
            customer=customer.code,
            customer_name=customer.name,
            amount=promise.amount,
            currency=promise.currency,
            promised_on=promise.promised_on,
            made_on=promise.made_on,
            grace_days=promise.grace_days,
            contact_id=promise.contact_id,
            channel=promise.channel,
            note=promise.note,
            status=promise.status,
            paid_amount=promise.paid_amount,
            resolved_on=promise.resolved_on,
            installment_ids=sorted(item.installment_id for item in promise.items),
            action_id=promise.action_id,
            created_by=users.get(promise.created_by_id) if promise.created_by_id else None,
        )


class PromisePage(OutputModel):
    items: list[PromiseOut]
    total: int
    page: int
    page_size: int


class DisputeOut(OutputModel):
    id: int
    customer: str = Field(description="The account's code.")
    customer_name: str
    invoice: str = Field(description="The invoice's number.")
    installment_id: int | None
    reason: str
    amount: MoneyText
    currency: str
    description: str | None
    owner: str | None = Field(description="A username.")
    status: str
    opened_on: date
    sla_due_on: date
    escalated_on: date | None
    source: str
    resolution: str | None
    resolution_note: str | None
    resolved_on: date | None
    credit_note: str | None = Field(description="The credit note's number.")

    @classmethod
    def of(
        cls,
        dispute: Dispute,
        customer: Customer,
        *,
        invoice: str,
        credit_note: str | None,
        users: Mapping[int, str],
    ) -> DisputeOut:
        return cls(
            id=dispute.id,
            customer=customer.code,
            customer_name=customer.name,
            invoice=invoice,
            installment_id=dispute.installment_id,
            reason=dispute.reason,
            amount=dispute.amount,
            currency=dispute.currency,
            description=dispute.description,
            owner=users.get(dispute.owner_id) if dispute.owner_id else None,
            status=dispute.status,
            opened_on=dispute.opened_on,
            sla_due_on=dispute.sla_due_on,
            escalated_on=dispute.escalated_on,
            source=dispute.source,
            resolution=dispute.resolution,
            resolution_note=dispute.resolution_note,
            resolved_on=dispute.resolved_on,
            credit_note=credit_note,
        )


class DisputePage(OutputModel):
    items: list[DisputeOut]
    total: int
    page: int
    page_size: int


class ScheduleLineOut(OutputModel):
    due_on: date
    amount: MoneyText
    interest: MoneyText | None


class ArrangementItemOut(OutputModel):
    installment_id: int
    original_due_on: date
    original_amount: MoneyText
    open_amount: MoneyText
    new_due_on: date | None
    created: bool = Field(description="A new installment the plan made.")


class ArrangementOut(OutputModel):
    id: int
    customer: str = Field(description="The account's code.")
    customer_name: str
    kind: str
    status: str
    reason: str
    amount: MoneyText
    currency: str
    installments: int
    first_due_on: date
    frequency_days: int | None
    annual_interest_rate: float | None
    interest_amount: MoneyText | None
    schedule: list[ScheduleLineOut]
    items: list[ArrangementItemOut]
    requested_by: str | None = Field(description="A username.")
    decided_by: str | None = Field(description="A username.")
    decided_at: Moment | None
    decision_note: str | None
    customer_confirmed_on: date | None
    customer_confirmation: str | None
    created_at: Moment

    @classmethod
    def of(
        cls, arrangement: PaymentArrangement, customer: Customer, users: Mapping[int, str]
    ) -> ArrangementOut:
        def name(user_id: int | None) -> str | None:
            return users.get(user_id) if user_id else None

        return cls(
            id=arrangement.id,
            customer=customer.code,
            customer_name=customer.name,
            kind=arrangement.kind,
            status=arrangement.status,
            reason=arrangement.reason,
            amount=arrangement.amount,
            currency=arrangement.currency,
            installments=arrangement.installments,
            first_due_on=arrangement.first_due_on,
            frequency_days=arrangement.frequency_days,
            annual_interest_rate=arrangement.annual_interest_rate,
            interest_amount=arrangement.interest_amount,
            schedule=[
                ScheduleLineOut(
                    due_on=date.fromisoformat(line["due_on"]),
                    amount=line["amount"],
                    interest=line.get("interest"),
                )
                for line in arrangement.schedule
            ],
            items=[
                ArrangementItemOut(
                    installment_id=item.installment_id,
                    original_due_on=item.original_due_on,
                    original_amount=item.original_amount,
                    open_amount=item.open_amount,
                    new_due_on=item.new_due_on,
                    created=item.created,
                )
                for item in sorted(arrangement.items, key=lambda it: (it.created, it.id or 0))
            ],
            requested_by=name(arrangement.requested_by_id),
            decided_by=name(arrangement.decided_by_id),
            decided_at=arrangement.decided_at,
            decision_note=arrangement.decision_note,
            customer_confirmed_on=arrangement.customer_confirmed_on,
            customer_confirmation=arrangement.customer_confirmation,
            created_at=arrangement.created_at,
        )


class ArrangementPage(OutputModel):
    items: list[ArrangementOut]
    total: int
    page: int
    page_size: int


class StepOut(OutputModel):
    id: int
    day_offset: int
    channel: str
    template: str | None
    automatic: bool
    target: str | None


class StrategyOut(OutputModel):
    id: int
    grade: str
    tier: str | None = Field(description="null: the grade's general strategy.")
    name: str
    active: bool
    updated_at: Moment
    steps: list[StepOut] = Field(description="By day offset.")

    @classmethod
    def of(cls, strategy: CollectionStrategy) -> StrategyOut:
        return cls(
            id=strategy.id,
            grade=strategy.grade,
            tier=strategy.tier,
            name=strategy.name,
            active=strategy.active,
            updated_at=strategy.updated_at,
            steps=[
                StepOut(
                    id=s.id,
                    day_offset=s.day_offset,
                    channel=s.channel,
                    template=s.template,
                    automatic=s.automatic,
                    target=s.target,
                )
                for s in sorted(strategy.steps, key=lambda s: (s.day_offset, s.channel))
            ],
        )


class StrategyList(OutputModel):
    items: list[StrategyOut]


class CreditHoldOut(OutputModel):
    customer: str = Field(description="The account's code.")
    on_hold: bool
    placed_on: date | None
    reason: str | None
    placed_by: str | None = Field(description="A username; null for the daily cycle.")
    action_id: int | None = Field(description="The strategy step's action that placed it.")

    @classmethod
    def of(
        cls, code: str, hold: CreditHoldPlacement | None, users: Mapping[int, str]
    ) -> CreditHoldOut:
        if hold is None:
            return cls(
                customer=code,
                on_hold=False,
                placed_on=None,
                reason=None,
                placed_by=None,
                action_id=None,
            )
        return cls(
            customer=code,
            on_hold=True,
            placed_on=hold.placed_on,
            reason=hold.reason,
            placed_by=users.get(hold.placed_by_id) if hold.placed_by_id else None,
            action_id=hold.action_id,
        )


class StatementOut(OutputModel):
    id: int
    customer: str = Field(description="The account's code.")
    as_of: date
    contact_id: int | None
    language: str
    currency: str
    total: MoneyText
    overdue: MoneyText
    lines: int = Field(description="How many open items it lists.")
    status: str = Field(description="sent, confirmed or disputed.")
    answered_at: Moment | None
    answer_note: str | None
    action_id: int | None = Field(description="The e-mail's action; null when not sent.")
    created_at: Moment

    @classmethod
    def of(cls, statement: Statement, code: str) -> StatementOut:
        return cls(
            id=statement.id,
            customer=code,
            as_of=statement.as_of,
            contact_id=statement.contact_id,
            language=statement.language,
            currency=statement.currency,
            total=statement.total,
            overdue=statement.overdue,
            lines=len(statement.lines),
            status=statement.status,
            answered_at=statement.answered_at,
            answer_note=statement.answer_note,
            action_id=statement.action_id,
            created_at=statement.created_at,
        )


class CallOut(OutputModel):
    action: ActionOut
    promise: PromiseOut | None
    dispute: DisputeOut | None


class CustomerCollectionsOut(OutputModel):
    customer: str = Field(description="The account's code.")
    customer_name: str
    hold: CreditHoldOut
    actions: list[ActionOut] = Field(description="The newest 50, newest first.")
    promises: list[PromiseOut]
    disputes: list[DisputeOut]
    arrangements: list[ArrangementOut]
    statements: list[StatementOut] = Field(description="The newest 5.")
