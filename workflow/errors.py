"""The domain error tree.

Services below ``web/`` raise only these; ``web/errors.py`` maps them to HTTP in one place
and the CLI prints them. Nothing below ``web/`` raises ``HTTPException``.

    EstrategiaError
     ├── NotFound                 404  the thing does not exist, or the caller may not know it does
     ├── NotPermitted             403  the caller is known but their role does not allow this
     ├── TransitionNotAllowed     409  the action does not exist in the current status
     ├── GuardRefused(reason)     409  the action exists but a guard refused it
     ├── ConflictingChange        409  someone else changed the document first (optimistic lock)
     ├── InvalidInput(field, reason)
     │                            422  a named field or upload is wrong; nothing was stored
     └── RenderingFailed          502  the converter crashed or timed out; nothing was stored
"""

from __future__ import annotations


class EstrategiaError(Exception):
    """Base of every error the services raise on purpose."""


class NotFound(EstrategiaError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not found")
        self.what = what


class NotPermitted(EstrategiaError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TransitionNotAllowed(EstrategiaError):
    def __init__(self, action: str, status: str, allowed: list[str]) -> None:
        allowed_text = ", ".join(allowed) if allowed else "none"
        super().__init__(
            f"action '{action}' is not allowed in status '{status}'; allowed: {allowed_text}"
        )
        self.action = action
        self.status = status
        self.allowed = allowed


class GuardRefused(EstrategiaError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ConflictingChange(EstrategiaError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} was changed by someone else; reload and try again")
        self.what = what


class InvalidInput(EstrategiaError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class RenderingFailed(EstrategiaError):
    def __init__(self, reason: str) -> None:
        super().__init__(f"rendering failed: {reason}")
        self.reason = reason
