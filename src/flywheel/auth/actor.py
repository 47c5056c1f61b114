"""The actor behind a change: a signed-in user, or a named system process."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flywheel.models.enums import Role

if TYPE_CHECKING:
    from flywheel.models.users import User


@dataclass(frozen=True, slots=True)
class Actor:
    name: str
    role: Role = Role.ADMIN
    user_id: int | None = None
    language: str = "zh"
    display_name: str | None = None

    @classmethod
    def system(cls, name: str) -> Actor:
        """A process acting with full rights: the CLI, an import, the demo generator, a job."""
        return cls(name=name, role=Role.ADMIN, user_id=None)

    @classmethod
    def for_user(cls, user: User) -> Actor:
        """A signed-in user acting with the rights of his role."""
        return cls(
            name=user.username,
            role=Role(user.role),
            user_id=user.id,
            language=user.language,
            display_name=user.display_name,
        )


CLI = Actor.system("cli")
