"""The long-lived parts of a running application, built once from Settings.

The web app, the CLI and the tests each build one ``Runtime`` and pass it to the use-cases.
The LibreOffice converter starts lazily on the first conversion, not here; so does the
signing environment, made on first use by the factory the edge passed in (production:
``workflow.signing.trust.open_signing_environment``; demo mode:
``workflow.demo.pki.open_demo_signing_environment``). The runtime itself knows neither.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from workflow.config import Settings, private_dir
from workflow.db import make_engine, make_read_session_factory, make_session_factory
from workflow.errors import ErrorCode, NotPermitted
from workflow.rendering.converter import (
    ColdConverter,
    FallbackConverter,
    PdfConverter,
    WarmConverterPool,
)
from workflow.storage.blobs import BlobStore, FileBlobStore
from workflow.storage.database import DatabaseBlobStore

if TYPE_CHECKING:
    from signatures import KeySource, PadesLevel, ServiceUrls, TrustSettings
    from signatures.pki import DemoPki


@dataclass
class SigningEnvironment:
    """Whom this installation trusts, its TSA, the level of new signatures and, in demo
    mode only, the demo PKI whose keys the server holds for the demo signatories."""

    trust: TrustSettings
    services: ServiceUrls | None
    level: PadesLevel
    demo_pki: DemoPki | None = None
    demo_key_ids: Mapping[str, str] = field(default_factory=dict)
    """Demo mode: e-mail of a demo signatory -> their key id in ``demo_pki``."""
    on_close: list[Callable[[], None]] = field(default_factory=list, repr=False)
    """Run by :meth:`close` (the demo wiring stops its TSA/OCSP/CRL services here)."""
    _keys: dict[str, KeySource] = field(default_factory=dict, repr=False)

    def demo_key(self, email: str) -> KeySource:
        """The server-held demo key of a demo signatory (demo mode only)."""
        if self.demo_pki is None:
            raise NotPermitted(ErrorCode.DEMO_KEYS_ONLY_IN_DEMO)
        key_id = self.demo_key_ids.get(email)
        if key_id is None or not self.demo_pki.p12_path(key_id).exists():
            raise NotPermitted(ErrorCode.NO_DEMO_KEY, email=email)
        if key_id not in self._keys:
            self._keys[key_id] = self.demo_pki.key(key_id)
        return self._keys[key_id]

    def close(self) -> None:
        for key in self._keys.values():
            key.close()
        self._keys.clear()
        while self.on_close:
            self.on_close.pop()()


SigningFactory = Callable[[Settings], SigningEnvironment]
"""Opens the signing environment of an installation from its settings."""


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    """For use-cases that write (on SQLite: BEGIN IMMEDIATE)."""
    read_sessions: sessionmaker[Session]
    """For use-cases that only read."""
    blobs: BlobStore
    attachments: dict[str, Any] = field(default_factory=dict, repr=False)
    """Long-lived parts that areas above the runtime make on first use and keep here (the
    job queue: ``workflow.jobs.queue_of``); closed with the runtime if they have close()."""
    _converter: PdfConverter | None = field(default=None, repr=False)
    _owns_converter: bool = field(default=True, repr=False)
    _signing: SigningEnvironment | None = field(default=None, repr=False)
    _owns_signing: bool = field(default=True, repr=False)
    _signing_factory: SigningFactory | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def converter(self) -> PdfConverter:
        with self._lock:
            if self._converter is None:
                s = self.settings
                s.converter_dir.mkdir(parents=True, exist_ok=True)
                warm = WarmConverterPool(
                    s.converter.processes,
                    soffice=s.converter.soffice,
                    uno_python=s.converter.uno_python,
                    # One folder per process: LibreOffice serves every process that names
                    # the same profile from one instance (several workers or servers on
                    # one var_dir would share one office and wait for each other).
                    workdir=(s.converter_dir / "warm" / str(os.getpid())).resolve(),
                    timeout=s.converter.timeout_s,
                )
                cold = ColdConverter(
                    soffice=s.converter.soffice,
                    workdir=(s.converter_dir / "cold").resolve(),
                    timeout=s.converter.timeout_s * 2,
                )
                self._converter = FallbackConverter(warm, cold)
            return self._converter

    @property
    def signing(self) -> SigningEnvironment:
        """Trust settings, TSA and (in demo mode) the demo PKI and its services, opened on
        first use by the factory given to :func:`build_runtime`."""
        with self._lock:
            if self._signing is None:
                if self._signing_factory is None:
                    raise RuntimeError(
                        "this runtime was built without a signing environment: pass "
                        "signing= or signing_factory= to build_runtime"
                    )
                self._signing = self._signing_factory(self.settings)
            return self._signing

    def close(self) -> None:
        while self.attachments:
            _, part = self.attachments.popitem()
            close = getattr(part, "close", None)
            if callable(close):
                close()
        with self._lock:
            if self._signing is not None and self._owns_signing:
                self._signing.close()
            self._signing = None
            if self._converter is not None and self._owns_converter:
                self._converter.close()
            self._converter = None
        self.engine.dispose()


def build_runtime(
    settings: Settings,
    *,
    converter: PdfConverter | None = None,
    signing: SigningEnvironment | None = None,
    signing_factory: SigningFactory | None = None,
) -> Runtime:
    """``converter``, ``signing``: share ones already running (tests, several runtimes in
    one process); the runtime then leaves them running on close. ``signing_factory``:
    opens the signing environment on first use (the runtime then closes it); the edge
    picks it: production or demo."""
    private_dir(settings.var_dir)  # 0700: blobs, keys, converter files, the database
    engine = make_engine(settings)
    read_sessions = make_read_session_factory(engine)
    blobs: BlobStore = (
        DatabaseBlobStore(read_sessions)
        if settings.storage.blob_backend == "database"
        else FileBlobStore(settings.blobs_dir)
    )
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        read_sessions=read_sessions,
        blobs=blobs,
        _converter=converter,
        _owns_converter=converter is None,
        _signing=signing,
        _owns_signing=signing is None,
        _signing_factory=signing_factory,
    )
