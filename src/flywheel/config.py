"""Settings read from the environment (prefix ``FLYWHEEL_``) and an optional ``.env`` file."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Set by `flywheel serve --reload` for its worker: templates are re-read when their file changes.
RELOAD_TEMPLATES = "FLYWHEEL_RELOAD_TEMPLATES"


class AllocationOrder(StrEnum):
    """Which open installment an unreferenced payment settles first."""

    OLDEST_DUE = "oldest_due"
    OLDEST_ISSUED = "oldest_issued"


class CatchUp(StrEnum):
    LATEST = "latest"
    ALL = "all"


class SmtpTls(StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    SSL = "ssl"


class WebhookStyle(StrEnum):
    WECOM = "wecom"  # {"msgtype": "markdown", "markdown": {"content": …}}
    DINGTALK = "dingtalk"  # {"msgtype": "markdown", "markdown": {"title": …, "text": …}}
    FEISHU = "feishu"  # {"msg_type": "text", "content": {"text": …}}
    JSON = "json"  # Flywheel's own: {"customer": …, "subject": …, "text": …, "items": […]}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FLYWHEEL_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = Field(
        default="sqlite:///./flywheel.db",
        description="SQLAlchemy URL; SQLite file by default, postgresql+psycopg://… for PostgreSQL.",
    )
    base_currency: str = Field(default="CNY", min_length=3, max_length=3)
    default_payment_terms: str = Field(default="NET30")
    allocation_order: AllocationOrder = AllocationOrder.OLDEST_DUE
    import_batch_size: int = Field(default=5000, ge=100)
    # Files uploaded for import, kept between the steps of the import page (a folder per upload,
    # removed after a day), and the rejected rows of imported batches (kept 30 days). Every web
    # process must see the same folder. Default: "flywheel-uploads" in the temporary directory.
    upload_dir: Path | None = None
    echo_sql: bool = False
    # Signs the session cookie. When unset, a random key is created once in ``secret_file`` and
    # shared by every worker that starts in the same directory.
    secret_key: SecretStr | None = None
    secret_file: Path = Path("flywheel.secret")
    session_hours: int = Field(default=12, ge=1, description="Idle hours before a sign-out.")
    # GET/HEAD requests one `flywheel serve` process works on at once; the rest wait their turn
    # (web/admission.py). 0: no limit.
    web_concurrency: int = Field(default=3, ge=0)
    # Send the session cookie over HTTPS only; set it when a TLS proxy fronts the server.
    cookie_secure: bool = False
    # The expert credit scorecard (base points, factor bands, grade bounds) as a JSON file; the
    # built-in card when unset. `flywheel credit scorecard --json` prints the card in use.
    credit_scorecard: Path | None = None
    # Where `flywheel credit train` keeps the trained payment-date model (one file) that
    # `flywheel run` predicts with. Every web process and worker must see the same file.
    model_dir: Path = Path("flywheel-models")

    # Collections. The daily cycle fires, per open installment, only the latest strategy step
    # that is due ("latest"), or every missed one after days off ("all").
    collections_catch_up: CatchUp = CatchUp.LATEST
    collections_thank_you: bool = Field(
        default=True, description="Thank an overdue customer who has paid in full."
    )
    # Statements (对账单) e-mailed to every customer with open items on this day of the month
    # (1–28); 0: only when someone sends one.
    statement_day: int = Field(default=0, ge=0, le=28)
    promise_grace_days: int = Field(default=3, ge=0, le=60)
    dispute_sla_days: int = Field(default=10, ge=1, le=365)
    # The largest arrangement (plan or extension) each role may approve, in the base currency;
    # a role not listed may propose but not approve. JSON, e.g. {"collector": 50000}.
    arrangement_approval_limits: dict[str, Decimal | None] = Field(
        default_factory=lambda: {"finance": None, "admin": None, "collector": Decimal("50000")}
    )
    # Public address of the web app, for the links in statements ("http://host:8000").
    public_url: str = "http://127.0.0.1:8000"
    company_name: str = "Flywheel Demo Co."
    # Outgoing mail (the outbox worker). No host: e-mails stay in the outbox as pending.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_tls: SmtpTls = SmtpTls.NONE
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "ar@flywheel.local"
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    # The chat robot the webhook steps post to when a step names no URL of its own, and the JSON
    # shape it expects.
    webhook_url: str | None = None
    webhook_style: WebhookStyle = WebhookStyle.WECOM
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    # Outbox retries: the n-th failure waits backoff × 2^(n-1) seconds (at most an hour);
    # after max_attempts the message is dead-lettered.
    outbox_max_attempts: int = Field(default=6, ge=1, le=50)
    outbox_backoff_seconds: float = Field(default=30.0, ge=0)
    # A message claimed by a worker that died is claimed again after this many seconds.
    outbox_claim_timeout_seconds: int = Field(default=300, ge=10)
    # The worker runs the daily cycle once a day at this local time (HH:MM, server clock).
    worker_run_at: str = Field(default="06:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    # Feedback. A contact is invited to a survey at most once in this many days (any campaign).
    survey_min_days_between: int = Field(default=90, ge=0, le=3650)
    # An answer may be changed through its link for this many hours after it was first given.
    survey_edit_hours: int = Field(default=72, ge=0, le=24 * 90)
    # A detractor, a negative comment or an urgent flag opens a follow-up for the account owner
    # due in this many hours; past it, it escalates to the manager.
    feedback_loop_sla_hours: int = Field(default=48, ge=1, le=24 * 60)
    # Account-level NPS weighs each stakeholder's latest answer by his buying role (JSON).
    account_nps_weights: dict[str, float] = Field(
        default_factory=lambda: {
            "decision_maker": 3.0,
            "finance": 2.0,
            "influencer": 2.0,
            "user": 1.0,
            "gatekeeper": 1.0,
            "": 1.0,
        }
    )
    # A promoter's thank-you asks for a referral or a reference at most once in this many days
    # per contact (0: never ask).
    referral_ask_days: int = Field(default=180, ge=0, le=3650)
    # The sentiment model retrains on the company's own scored comments once this many exist
    # (with both positive and negative ones).
    sentiment_retrain_min: int = Field(default=200, ge=20)
    # Loyalty. The purchase model behind probability alive and CLV: "bgnbd" or "pareto".
    loyalty_clv_model: Literal["bgnbd", "pareto"] = "bgnbd"
    # CLV sums the expected margin-free revenue of this many months, discounted at this yearly
    # rate (0.10: ten per cent a year, applied monthly).
    loyalty_clv_months: int = Field(default=36, ge=1, le=240)
    loyalty_discount_rate: float = Field(default=0.10, ge=0.0, le=1.0)
    # The health score's factors and their weights (JSON; a weight of 0 leaves a factor out).
    # The weights are shares of 100 points, rescaled when they do not add up to 100.
    loyalty_health_weights: dict[str, float] = Field(
        default_factory=lambda: {
            "nps": 15.0,
            "csat": 10.0,
            "purchase_recency": 20.0,
            "spend_trend": 15.0,
            "credit_grade": 10.0,
            "days_beyond_terms": 10.0,
            "open_issues": 10.0,
            "engagement": 5.0,
            "support_load": 5.0,
        }
    )
    # Accounts of these tiers buy on contracts: their churn risk is a renewal risk.
    loyalty_contract_tiers: list[str] = Field(default_factory=lambda: ["key"])
    # A referred account's orders count as the referral's revenue for this many days after won.
    referral_attribution_days: int = Field(default=365, ge=1, le=3650)
    # Key accounts. The company's yearly cost of capital: what a day of credit costs.
    cost_of_capital: float = Field(default=0.06, ge=0.0, le=1.0)
    # Expected loss (share of the amount) of credit given to a customer of each grade.
    expected_loss_by_grade: dict[str, float] = Field(
        default_factory=lambda: {"A": 0.002, "B": 0.005, "C": 0.015, "D": 0.04, "E": 0.10}
    )
    # The longest payment terms (days) the credit policy allows for each grade (0: prepay).
    max_terms_by_grade: dict[str, int] = Field(
        default_factory=lambda: {"A": 90, "B": 60, "C": 45, "D": 30, "E": 0}
    )
    # A concession above either threshold waits for a manager's approval.
    concession_max_discount_percent: float = Field(default=5.0, ge=0.0, le=100.0)
    concession_max_payment_days: int = Field(default=60, ge=0, le=3650)
    # Renewal reminders: a task for the owner this many days before a contract's renewal date.
    renewal_reminder_days: list[int] = Field(default_factory=lambda: [90, 60, 30])
    # Insights: how many months of the dashboard's monthly snapshot the daily cycle keeps built.
    insights_history_months: int = Field(default=24, ge=2, le=120)
    # The management report: weekly (on Mondays, about the week before) and monthly (on the
    # first, about the month before), sent to the managers; "weekly,monthly", one, or "".
    management_reports: str = "weekly,monthly"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
