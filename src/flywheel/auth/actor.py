"""The actor behind a change: a signed-in user, or a named system process."""

from __future__ import annotations

from dataclasses import dataclass

from flywheel.models.enums import Role


@dataclass(frozen=True, slots=True)
class Actor:
    name: str
    role: Role = Role.ADMIN
    user_id: int | None = None

    @classmethod
    def system(cls, name: str) -> Actor:
        """A process acting with full rights: the CLI, an import, the demo generator, a job."""
        return cls(name=name, role=Role.ADMIN, user_id=None)


CLI = Actor.system("cli")
