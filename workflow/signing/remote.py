"""Remote signing at the signatory's trust service provider (Cloud Signature Consortium API).

Configured per installation (``signing.csc_url`` and the service login or token); without
it the signature page does not offer this way. The signatory's credential is the one whose
certificate is issued to them (the same name binding as every signing path), or the one
they name; the provider's credential authorisation takes the PIN and/or OTP they type,
which is passed on and dropped: never stored, logged or put in an audit record. Then it is
``sign_with_key`` with a CSC key: the same checks, storage, audit and outbox as any
signature.
"""

from __future__ import annotations

from signatures import CscClient, CscKey
from signatures.validation import common_name
from workflow.errors import ErrorCode, GuardRefused, NotPermitted
from workflow.identity.actors import Actor
from workflow.runtime import Runtime
from workflow.signing.service import sign_with_key
from workflow.views import DocumentView

__all__ = ["remote_signing_available", "sign_remotely"]


def remote_signing_available(rt: Runtime) -> bool:
    """Whether this installation is configured for remote signing."""
    return bool(rt.settings.signing.csc_url)


def _client(rt: Runtime) -> CscClient:
    s = rt.settings.signing
    return CscClient(
        s.csc_url,
        token=s.csc_token or None,
        username=s.csc_username or None,
        password=s.csc_password if s.csc_username else None,
        api_version=s.csc_api_version,
        timeout=30.0,
    )


def _credential_of(client: CscClient, full_name: str) -> str:
    """The credential whose certificate is issued to ``full_name``."""
    for credential_id in client.list_credentials():
        info = client.credential_info(credential_id)
        if common_name(info.signing_cert.subject).casefold() == full_name.casefold():
            return credential_id
    raise GuardRefused(ErrorCode.REMOTE_CREDENTIAL_NOT_FOUND, name=full_name)


def sign_remotely(
    rt: Runtime,
    *,
    actor: Actor,
    document_id: int,
    presented_pdf_sha256: str,
    credential_id: str | None,
    pin: str | None,
    otp: str | None,
) -> DocumentView:
    """Sign the awaited PDF with the actor's credential at the provider.

    :raises NotPermitted: remote signing is not configured here.
    :raises GuardRefused: no credential of the actor at the provider; or the sign guard.
    :raises KeyAccessError: the provider refused the PIN/OTP or the login.
    :raises RemoteSignerError: the provider failed or did not answer.
    """
    if not remote_signing_available(rt):
        raise NotPermitted(ErrorCode.REMOTE_SIGNING_NOT_CONFIGURED)
    with _client(rt) as client:
        chosen = credential_id or _credential_of(client, actor.full_name)
        with CscKey.open(client, chosen, pin=pin, otp=otp) as key:
            return sign_with_key(
                rt, actor=actor, document_id=document_id,
                presented_pdf_sha256=presented_pdf_sha256, key=key,
            )  # fmt: skip
