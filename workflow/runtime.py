"""The long-lived parts of a running application, built once from Settings.

The web app, the CLI and the tests each build one ``Runtime`` and pass it to the use-cases.
The LibreOffice converter starts lazily on the first conversion, not here.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from workflow.config import Settings, private_dir
from workflow.db import make_engine, make_read_session_factory, make_session_factory
from workflow.rendering.converter import (
    ColdConverter,
    FallbackConverter,
    PdfConverter,
    WarmConverterPool,
)
from workflow.storage.blobs import BlobStore

if TYPE_CHECKING:
    from workflow.signing.trust import SigningEnvironment


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    """For use-cases that write (on SQLite: BEGIN IMMEDIATE)."""
    read_sessions: sessionmaker[Session]
    """For use-cases that only read."""
    blobs: BlobStore
    _converter: PdfConverter | None = field(default=None, repr=False)
    _owns_converter: bool = field(default=True, repr=False)
    _signing: SigningEnvironment | None = field(default=None, repr=False)
    _owns_signing: bool = field(default=True, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def converter(self) -> PdfConverter:
        with self._lock:
            if self._converter is None:
                s = self.settings
                s.converter_dir.mkdir(parents=True, exist_ok=True)
                warm = WarmConverterPool(
                    s.converter_processes,
                    soffice=s.soffice,
                    uno_python=s.uno_python,
                    workdir=(s.converter_dir / "warm").resolve(),
                    timeout=s.converter_timeout_s,
                )
                cold = ColdConverter(
                    soffice=s.soffice,
                    workdir=(s.converter_dir / "cold").resolve(),
                    timeout=s.converter_timeout_s * 2,
                )
                self._converter = FallbackConverter(warm, cold)
            return self._converter

    @property
    def signing(self) -> SigningEnvironment:
        """Trust settings, TSA and (in demo mode) the demo PKI and its services, opened on
        first use."""
        with self._lock:
            if self._signing is None:
                from workflow.signing.trust import open_signing_environment

                self._signing = open_signing_environment(self.settings)
            return self._signing

    def close(self) -> None:
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
) -> Runtime:
    """``converter``, ``signing``: share ones already running (tests, several runtimes in
    one process); the runtime then leaves them running on close."""
    private_dir(settings.var_dir)  # 0700: blobs, keys, converter files, the database
    engine = make_engine(settings)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        read_sessions=make_read_session_factory(engine),
        blobs=BlobStore(settings.blobs_dir),
        _converter=converter,
        _owns_converter=converter is None,
        _signing=signing,
        _owns_signing=signing is None,
    )
