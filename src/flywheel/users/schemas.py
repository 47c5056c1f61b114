"""Input and output shapes for managing users (the admin's API and pages)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, ClassVar

from pydantic import Field, StringConstraints

from flywheel.kit.shapes import ChangesModel, InputModel, Moment, OutputModel
from flywheel.models.enums import Language, Role

if TYPE_CHECKING:
    from flywheel.models.users import User

# A password is taken exactly as typed: no stripping.
Password = Annotated[str, StringConstraints(strip_whitespace=False, min_length=1, max_length=256)]


class UserNew(InputModel):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    display_name: Annotated[str | None, Field(max_length=120, description="Default: username.")] = (
        None
    )
    email: Annotated[str | None, Field(max_length=254)] = None
    role: Role = Role.SALES
    language: Language = Language.ZH
    password: Annotated[
        Password | None, Field(description="Without one the user cannot sign in yet.")
    ] = None


class UserChanges(ChangesModel):
    required: ClassVar[frozenset[str]] = frozenset({"role", "active", "display_name", "language"})

    role: Role | None = None
    active: bool | None = Field(default=None, description="False: no sign-in, no API tokens.")
    display_name: Annotated[str | None, Field(min_length=1, max_length=120)] = None
    email: Annotated[str | None, Field(max_length=254)] = None
    language: Language | None = None


class PasswordReset(InputModel):
    password: Annotated[
        Password | None, Field(description="The new password; default: a generated one.")
    ] = None


class UserOut(OutputModel):
    username: str
    display_name: str
    email: str | None
    role: str
    language: str
    active: bool
    can_sign_in: bool = Field(description="Has a password.")
    locked_until: Moment | None = Field(description="Sign-in locked after failures until then.")
    created_at: Moment

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            username=user.username,
            display_name=user.display_name,
            email=user.email,
            role=user.role,
            language=user.language,
            active=user.is_active,
            can_sign_in=user.password_hash is not None,
            locked_until=user.locked_until,
            created_at=user.created_at,
        )


class UserPage(OutputModel):
    items: list[UserOut]
    total: int
    page: int
    page_size: int


class PasswordResetOut(OutputModel):
    username: str
    generated_password: str | None = Field(
        description="The generated password, shown this once; null when you gave one."
    )
