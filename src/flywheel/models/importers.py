"""Import batches: one row per imported file, so every imported record can be traced."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from flywheel.models.base import Base, BigId, IdPk, utcnow


class ImportBatch(Base):
    __tablename__ = "import_batches"

    id: Mapped[IdPk]
    entity: Mapped[str] = mapped_column(String(32))
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64), index=True)
    rows: Mapped[int] = mapped_column(Integer)
    inserted: Mapped[int] = mapped_column(Integer)
    updated: Mapped[int] = mapped_column(Integer)
    unchanged: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(120))
    actor_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    finished_at: Mapped[datetime] = mapped_column(default=utcnow)
