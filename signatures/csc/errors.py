"""The error a CSC service's failures are reported with.

:class:`RemoteSignerError` is the :class:`~signatures.errors.SignatureError` for anything
that goes wrong at or on the way to the provider other than a refused credential (which is a
:class:`~signatures.errors.KeyAccessError`): the service unreachable or timing out, an HTTP
or API error, a malformed reply.
"""

from __future__ import annotations

from ..errors import SignatureError

__all__ = ["RemoteSignerError"]


class RemoteSignerError(SignatureError):
    """The remote signing service failed or answered with an error.

    ``status`` is the HTTP status (``None`` when the service could not be reached),
    ``error`` and ``description`` the CSC ``error``/``error_description`` fields if any.
    """

    def __init__(
        self,
        message: str,
        *,
        endpoint: str = "",
        status: int | None = None,
        error: str | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(message)
        self.endpoint = endpoint
        self.status = status
        self.error = error
        self.description = description
