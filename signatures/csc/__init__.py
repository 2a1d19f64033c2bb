"""Remote signing through a trust service provider's Cloud Signature Consortium API.

The key lives at the provider (a remote QSCD); we send it hashes and get signature values
back. Two ways to use it:

* :class:`CscKey` is a :class:`signatures.keys.KeySource`: its signer is a pyHanko
  :class:`~pyhanko.sign.signers.csc_signer.CSCSigner`, so ``sign_pdf`` runs in-process and
  the provider signs the hash of the signed attributes when pyHanko asks for it.
* The hash-only flow: ``signatures.external.prepare_external_signature`` gives the digest
  to sign, :meth:`CscClient.sign_hash` signs it at the provider (after
  :meth:`CscClient.authorize`), ``complete_external_signature`` embeds the value. The
  document never leaves the server, and the provider call can happen in another request.

:class:`CscClient` speaks API v2 (``/csc/v2/...``, the default) and v1 (``/csc/v1/...``,
version 1.0.4.0, which pyHanko and most deployed services implement). The differences it
hides: ``hashes``/``hashAlgorithmOID``/``authData`` in v2 against ``hash``/``hashAlgo``/
``PIN``/``OTP`` in v1, and ``auth.mode`` against ``authMode`` in credential info.

Errors (all :class:`~signatures.errors.SignatureError`)::

    SignatureError
     ├── KeyAccessError       the provider refused us: bad or expired access token, wrong
     │                        login, wrong PIN/OTP, credential disabled
     └── RemoteSignerError    anything else: provider unreachable or timed out, HTTP or API
                              error (``status``, ``error``, ``description``), malformed reply
"""

from .client import ApiVersion, CscClient
from .errors import RemoteSignerError
from .key import CscKey
from .models import CscAuthorization, CscCredential, CscServiceInfo

__all__ = [
    "ApiVersion",
    "CscAuthorization",
    "CscClient",
    "CscCredential",
    "CscKey",
    "CscServiceInfo",
    "RemoteSignerError",
]
