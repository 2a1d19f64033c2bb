"""Demo trust services: a TSA (RFC 3161), an OCSP responder and CRLs on loopback.

``DemoServices(pki).start()`` serves the demo PKI in-process from a background thread (its
own asyncio loop running certomancer's aiohttp animator) at the PKI's base URL, which its
certificates already point to. Tests and the app in demo mode use it; production uses a
trust service provider's URLs (:class:`~signatures.profiles.ServiceUrls`) instead.

    services = DemoServices(pki).start()
    try:
        ...  # sign with pki.service_urls(), validate with pki.trust_settings()
    finally:
        services.stop()
"""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType
from typing import TYPE_CHECKING, Self
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from aiohttp import web

    from .pki import DemoPki

__all__ = ["DemoServices"]


def _install_key_cache() -> None:
    """Make certomancer parse each private key once instead of on every signature.

    certomancer's crypto backend re-loads the DER key for every CRL, OCSP response and
    timestamp it signs, and loading an RSA-2048 key costs ~27 ms (the key consistency
    check) against ~0.3 ms for the signature itself. certomancer exposes the backend as
    ``certomancer.crypto_utils.CRYPTO_BACKEND``; this swaps in a subclass that behaves the
    same but keeps parsed keys. Idempotent; affects only this process's certomancer.
    """
    from asn1crypto import algos, keys
    from certomancer import crypto_utils
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    if getattr(crypto_utils.CRYPTO_BACKEND, "caches_keys", False):
        return

    class _KeyCachingBackend(crypto_utils.PycaCryptographyBackend):
        caches_keys = True

        def __init__(self) -> None:
            self._keys: dict[bytes, object] = {}

        def generic_sign(
            self,
            private_key: keys.PrivateKeyInfo,
            tbs_bytes: bytes,
            sd_algo: algos.SignedDigestAlgorithm,
        ) -> bytes:
            der = private_key.dump()
            key = self._keys.get(der)
            if key is None:
                key = self._keys[der] = serialization.load_der_private_key(der, password=None)
            hash_algo = getattr(hashes, sd_algo.hash_algo.upper())()
            mechanism = sd_algo.signature_algo
            if mechanism == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPrivateKey):
                return key.sign(tbs_bytes, padding.PKCS1v15(), hash_algo)
            if mechanism == "ecdsa" and isinstance(key, ec.EllipticCurvePrivateKey):
                return key.sign(tbs_bytes, ec.ECDSA(hash_algo))
            result: bytes = super().generic_sign(private_key, tbs_bytes, sd_algo)
            return result

    crypto_utils.CRYPTO_BACKEND = _KeyCachingBackend()


class DemoServices:
    """A start/stop handle for the demo TSA, OCSP responder and CRL distribution points."""

    def __init__(self, pki: DemoPki, *, host: str | None = None, port: int | None = None):
        parts = urlsplit(pki.base_url)
        self.pki = pki
        self.host = host or parts.hostname or "127.0.0.1"
        self.port = port if port is not None else (parts.port or 80)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._stopped: asyncio.Event | None = None

    @property
    def base_url(self) -> str:
        """Where the services listen, e.g. ``http://127.0.0.1:8765``."""
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout: float = 10.0) -> Self:
        """Start serving; returns once the port accepts connections.

        :raises OSError: the port is taken.
        """
        if self.running:
            return self
        from certomancer.integrations.aiohttp_animator import build_animator_app
        from certomancer.registry import ArchLabel

        from .pki_config import ARCH_LABEL

        _install_key_cache()
        app = build_animator_app(
            {ArchLabel(ARCH_LABEL): self.pki.architecture()},
            with_web_ui=False,
            allow_time_override=False,
        )
        ready = threading.Event()
        failure: list[BaseException] = []

        def _run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._serve(app, ready))
            except BaseException as exc:  # report any start-up failure to start()
                failure.append(exc)
                ready.set()
            finally:
                loop.close()

        self._thread = threading.Thread(target=_run, name="demo-trust-services", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise TimeoutError(f"demo services did not start on {self.base_url}")
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self

    async def _serve(self, app: web.Application, ready: threading.Event) -> None:
        from aiohttp import web

        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        self._runner = runner
        self._stopped = asyncio.Event()
        try:
            await web.TCPSite(runner, self.host, self.port, reuse_address=True).start()
            ready.set()
            await self._stopped.wait()
        finally:
            await runner.cleanup()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and join the thread. Idempotent."""
        thread, loop, stopped = self._thread, self._loop, self._stopped
        if thread is None:
            return
        if loop is not None and stopped is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stopped.set)
        thread.join(timeout)
        self._thread = None
        self._loop = None
        self._runner = None
        self._stopped = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
