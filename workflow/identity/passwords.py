"""What a new password must be: long enough, not trivial, not the login, not a common one.

In the manner of NIST SP 800-63B: length over composition rules (no "one digit, one
capital"), a refusal of the passwords attackers try first, and no forced expiry. The list
below is short on purpose (the most frequent passwords of public leaks, Polish ones among
them, that pass the length rule); an installation that wants more checks a breach corpus.
"""

from __future__ import annotations

from workflow.errors import ErrorCode, InvalidInput

MIN_LENGTH = 12
MAX_LENGTH = 256
"""scrypt hashes any length, but nothing a person types needs more."""
MIN_DISTINCT = 5

FIELD = "new_password"

_COMMON = frozenset(
    {
        "123456789012",
        "1234567890123",
        "qwertyuiop12",
        "qwertyuiopas",
        "qwerty123456",
        "password1234",
        "password12345",
        "passwordpassword",
        "haslo1234567",
        "haslohaslo12",
        "haslo123456789",
        "zaq12wsxcde3",
        "1qaz2wsx3edc",
        "iloveyou1234",
        "polska123456",
        "kochamcie123",
        "administrator",
        "administrator1",
        "estrategia2026",
        "e-strategia2026",
        "demo-haslo-2026",
    }
)


def check_new_password(new: str, *, current: str, email: str) -> None:
    """Raise ``InvalidInput(new_password, ...)`` naming the first rule ``new`` breaks."""
    if len(new) < MIN_LENGTH:
        raise InvalidInput(FIELD, ErrorCode.PASSWORD_TOO_SHORT, min_length=MIN_LENGTH)
    if len(new) > MAX_LENGTH:
        raise InvalidInput(FIELD, ErrorCode.PASSWORD_TOO_LONG, max_length=MAX_LENGTH)
    if new == current:
        raise InvalidInput(FIELD, ErrorCode.PASSWORD_UNCHANGED)
    if len(set(new.lower())) < MIN_DISTINCT:
        raise InvalidInput(FIELD, ErrorCode.PASSWORD_TOO_SIMPLE, min_distinct=MIN_DISTINCT)
    folded = new.strip().lower()
    if folded in _COMMON:
        raise InvalidInput(FIELD, ErrorCode.PASSWORD_TOO_COMMON)
    address = email.strip().lower()
    name = address.split("@", 1)[0]
    if address in folded or (len(name) >= 4 and name in folded):
        raise InvalidInput(FIELD, ErrorCode.PASSWORD_CONTAINS_LOGIN)
