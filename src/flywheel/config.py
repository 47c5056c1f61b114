"""Settings read from the environment (prefix ``FLYWHEEL_``) and an optional ``.env`` file."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# Set by `flywheel serve --reload` for its worker: templates are re-read when their file changes.
RELOAD_TEMPLATES = "FLYWHEEL_RELOAD_TEMPLATES"


class AllocationOrder(StrEnum):
    """Which open installment an unreferenced payment settles first."""

    OLDEST_DUE = "oldest_due"
    OLDEST_ISSUED = "oldest_issued"


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
    # Send the session cookie over HTTPS only; set it when a TLS proxy fronts the server.
    cookie_secure: bool = False
    # The expert credit scorecard (base points, factor bands, grade bounds) as a JSON file; the
    # built-in card when unset. `flywheel credit scorecard --json` prints the card in use.
    credit_scorecard: Path | None = None
    # Where `flywheel credit train` keeps the trained payment-date model (one file) that
    # `flywheel run` predicts with. Every web process and worker must see the same file.
    model_dir: Path = Path("flywheel-models")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
