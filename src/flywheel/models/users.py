"""Users: the people who own accounts and act in Flywheel."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from flywheel.models.base import Base, IdPk, utcnow
from flywheel.models.enums import Role


class User(Base):
    __tablename__ = "users"

    id: Mapped[IdPk]
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(16), default=Role.SALES.value)
    language: Mapped[str] = mapped_column(String(5), default="zh")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Sign-in throttling: consecutive failed sign-ins, and the moment a lock ends.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None]
