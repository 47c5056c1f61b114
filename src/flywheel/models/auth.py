"""API tokens: bearer credentials for scripts, stored only as a SHA-256 digest."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from flywheel.models.base import Base, BigId, IdPk, utcnow
from flywheel.models.users import User


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[IdPk]
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    # The first characters of the token, enough to tell tokens apart in a list.
    prefix: Mapped[str] = mapped_column(String(8))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")
