"""The FlywheelError tree: stable codes, and the one table that maps them to exit codes and HTTP."""

from __future__ import annotations

from typing import Any, ClassVar


class FlywheelError(Exception):
    """Base of every domain error. ``code`` is stable: scripts and the API rely on it."""

    code: ClassVar[str] = "flywheel_error"
    kind: ClassVar[str] = "invalid"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": _jsonable(self.details)}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


class NotFound(FlywheelError):
    code = "not_found"
    kind = "not_found"


class Conflict(FlywheelError):
    code = "conflict"
    kind = "conflict"


class ValidationFailed(FlywheelError):
    code = "validation_failed"
    kind = "invalid"


class InvalidAmount(ValidationFailed):
    code = "invalid_amount"


class CurrencyMismatch(ValidationFailed):
    code = "currency_mismatch"


class OverAllocation(Conflict):
    code = "over_allocation"


class InvoiceNotOpen(Conflict):
    code = "invoice_not_open"


class InvoiceLocked(Conflict):
    code = "invoice_locked"


class Forbidden(FlywheelError):
    code = "forbidden"
    kind = "forbidden"


class Unauthenticated(FlywheelError):
    """No valid credentials came with the request: a missing, unknown, revoked or expired
    token, or one whose user is disabled. Deliberately says no more than that."""

    code = "unauthenticated"
    kind = "unauthenticated"


class WeakPassword(ValidationFailed):
    """A new password breaks the password policy; ``details["rule"]`` names the rule."""

    code = "weak_password"


class PasswordRequired(ValidationFailed):
    code = "password_required"


class WrongPassword(Forbidden):
    code = "wrong_password"


class CsrfFailed(Forbidden):
    """A form or HTMX request signed in by cookie came without the session's CSRF token."""

    code = "csrf_failed"


class LastAdmin(Conflict):
    """Refused: the change would leave no active admin to manage users."""

    code = "last_admin"


class TokenExpiryInPast(ValidationFailed):
    code = "token_expiry_in_past"


class ImportFailed(FlywheelError):
    code = "import_failed"
    kind = "invalid"


class ImportRejected(ImportFailed):
    """Raised with ``--strict`` when any row was rejected: nothing was written."""

    code = "import_rejected"


class FileUnreadable(ImportFailed):
    code = "file_unreadable"


class DatabaseNotReady(FlywheelError):
    code = "database_not_ready"
    kind = "unavailable"


# One mapping from an error's kind to the CLI exit code and the HTTP status.
# Exit code 1 is left to unexpected crashes and 2 to usage errors (Typer/Click).
ERROR_KINDS: dict[str, tuple[int, int]] = {
    "invalid": (3, 422),
    "not_found": (4, 404),
    "conflict": (5, 409),
    "forbidden": (6, 403),
    "unavailable": (7, 503),
    "unauthenticated": (6, 401),
}


def exit_code_for(error: FlywheelError) -> int:
    return ERROR_KINDS.get(error.kind, (3, 422))[0]


def http_status_for(error: FlywheelError) -> int:
    return ERROR_KINDS.get(error.kind, (3, 422))[1]


# ------------------------------------------------------ `flywheel analyze` (bring your own data)


class AnalysisInputInvalid(ValidationFailed):
    """A file given to ``flywheel analyze`` cannot be used as it is; ``details`` names the file
    and, where it applies, the row, the column and the value."""

    code = "analysis_input_invalid"


class ColumnMissing(AnalysisInputInvalid):
    code = "column_missing"


class ValueUnparseable(AnalysisInputInvalid):
    """A cell that should hold a date, a number or a 0/1 target holds something else."""

    code = "value_unparseable"


class NotEnoughData(AnalysisInputInvalid):
    """The file is empty, the target has a single class, or a split leaves nothing to test."""

    code = "not_enough_data"


# ------------------------------------------------------------------------------------ credit


class CreditHold(Conflict):
    """A new order or invoice would take the account past its credit limit, or its grade holds
    new business; ``details`` holds the exposure, the limit, the grade and the reasons. Someone
    allowed to override passes it by giving a reason."""

    code = "credit_hold"


class WorkerAlreadyRunning(Conflict):
    """SQLite takes one worker at a time and another one holds the sender lease."""

    code = "worker_already_running"
