"""The process that tests/storage/test_crash.py kills. It runs a real use-case over the real
database and blob store; the test injects itself only into the *transaction commit* (a
SQLAlchemy session event, or a commit callback), never into the code under test.

    python -m tests.storage.crash_child sign '<json>'           blocks just before the
        commit of the signing transaction, says so on fd ``ready_fd``, waits to be killed
    python -m tests.storage.crash_child store-and-die '<json>'   stores a file and kills
        itself right after the commit, before the file is renamed into place
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from workflow.config import Settings, StorageSettings


def _settings(args: dict[str, Any]) -> Settings:
    return Settings(
        var_dir=Path(args["var_dir"]),
        storage=StorageSettings(database_url=args["database_url"]),
        secret_key="test-secret-for-sessions",
    )


def _block_before_signing_commit(ready_fd: int) -> None:
    from workflow.models import DocumentSignatory

    @event.listens_for(Session, "before_commit")
    def _hold(session: Session) -> None:
        signing = any(
            isinstance(obj, DocumentSignatory) and obj.signed_at is not None
            for obj in session.identity_map.values()
        )
        if signing:
            os.write(ready_fd, b"at-commit\n")
            while True:
                signal.pause()  # until SIGKILL


def sign(args: dict[str, Any]) -> None:
    from signatures import PadesLevel
    from signatures.pki import DemoPki
    from workflow.demo.pki import demo_signing_environment
    from workflow.identity.actors import load_actor
    from workflow.runtime import build_runtime
    from workflow.signing.service import sign_with_demo_key

    env = demo_signing_environment(
        DemoPki.load(Path(args["pki_dir"])), level=PadesLevel.B_LTA, services=None
    )
    rt = build_runtime(_settings(args), signing=env)
    with rt.sessions() as session:
        actor = load_actor(session, args["user_id"])
    _block_before_signing_commit(args["ready_fd"])
    sign_with_demo_key(
        rt,
        actor=actor,
        document_id=args["document_id"],
        presented_pdf_sha256=args["presented_pdf_sha256"],
    )
    raise SystemExit("the signing transaction committed: the hook did not hold it")


def store_and_die(args: dict[str, Any]) -> None:
    from workflow.db import on_commit, transaction
    from workflow.runtime import build_runtime
    from workflow.storage.blobs import store_file

    rt = build_runtime(_settings(args))
    with transaction(rt.sessions) as session:
        # Registered first, so it runs first: the process dies after the commit and
        # before the blob store's own callback renames the file into place.
        on_commit(session, lambda: os.kill(os.getpid(), signal.SIGKILL))
        store_file(session, rt.blobs, bytes.fromhex(args["data_hex"]), "application/pdf")
    raise SystemExit("still alive after the commit")


if __name__ == "__main__":
    command, payload = sys.argv[1], json.loads(sys.argv[2])
    {"sign": sign, "store-and-die": store_and_die}[command](payload)
