"""The API's own messages in Polish (the default) and English, chosen by Accept-Language.

Deliberately small: one dict keyed by message code. The specifics a message quotes (a field
path, a guard's reason) come from the services in English; the sentence around them is
translated. The browser pages will grow their own catalogue.
"""

from __future__ import annotations

from typing import Final

DEFAULT_LANGUAGE: Final = "pl"
LANGUAGES: Final = ("pl", "en")

MESSAGES: Final[dict[str, dict[str, str]]] = {
    "not_found": {
        "pl": "Nie znaleziono: {what}.",
        "en": "{what} not found.",
    },
    "not_permitted": {
        "pl": "Brak uprawnień: {reason}.",
        "en": "Not permitted: {reason}.",
    },
    "transition_not_allowed": {
        "pl": "Akcja „{action}” jest niedozwolona w statusie „{status}”; dozwolone: {allowed}.",
        "en": "Action '{action}' is not allowed in status '{status}'; allowed: {allowed}.",
    },
    "guard_refused": {
        "pl": "Odmowa: {reason}.",
        "en": "Refused: {reason}.",
    },
    "conflicting_change": {
        "pl": "Ktoś inny zmienił wcześniej: {what}; odśwież i spróbuj ponownie.",
        "en": "{what} was changed by someone else; reload and try again.",
    },
    "invalid_input": {
        "pl": "Nieprawidłowa wartość „{field}”: {reason}.",
        "en": "Invalid value of '{field}': {reason}.",
    },
    "rendering_failed": {
        "pl": "Nie udało się przygotować pliku dokumentu: {reason}.",
        "en": "Rendering failed: {reason}.",
    },
    "signature_problem": {
        "pl": "Problem z podpisem: {reason}.",
        "en": "Signature problem: {reason}.",
    },
    "trust_service_unavailable": {
        "pl": "Usługa zaufania (znacznik czasu, OCSP/CRL, zdalny podpis) jest niedostępna: "
        "{reason}. Nic nie zostało zmienione; spróbuj ponownie później.",
        "en": "A trust service (timestamp, OCSP/CRL, remote signing) is unavailable: {reason}. "
        "Nothing was changed; try again later.",
    },
    "authentication_required": {
        "pl": "Wymagane zalogowanie albo token API (Authorization: Bearer).",
        "en": "Authentication required: log in or send an API token (Authorization: Bearer).",
    },
    "bad_credentials": {
        "pl": "Nieprawidłowy adres e-mail lub hasło.",
        "en": "Invalid email or password.",
    },
    "csrf_failed": {
        "pl": "Brak lub nieprawidłowy nagłówek X-CSRF-Token.",
        "en": "Missing or invalid X-CSRF-Token header.",
    },
    "cross_origin": {
        "pl": "Odrzucono żądanie z innej witryny.",
        "en": "Cross-origin request refused.",
    },
    "json_required": {
        "pl": "Treść żądania musi być w formacie JSON (Content-Type: application/json).",
        "en": "The request body must be JSON (Content-Type: application/json).",
    },
    "session_required": {
        "pl": "Tokeny API tworzy się po zalogowaniu hasłem, nie innym tokenem.",
        "en": "API tokens are created from a password login session, not with another token.",
    },
}


def negotiate(accept_language: str | None) -> str:
    """The supported language the client prefers most (RFC 9110 weights), else Polish."""
    best, best_q = DEFAULT_LANGUAGE, 0.0
    for item in (accept_language or "").split(","):
        tag, _, params = item.strip().partition(";")
        language = tag.strip().lower().split("-")[0]
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        # Strictly greater: of equal weights the first listed wins; q=0 means "not this one".
        if language in LANGUAGES and q > best_q:
            best, best_q = language, q
    return best


def message(code: str, language: str, **params: object) -> str:
    templates = MESSAGES[code]
    template = templates.get(language) or templates[DEFAULT_LANGUAGE]
    return template.format(**params)
