"""The process that tests/archive/test_crash.py kills while it archives a signed document.
It runs the real use-case (``archive_document``) over the real database and blob store; the
test injects itself only into the *transaction commit*, never into the code under test.

    python -m tests.archive.crash_child before-commit '<json>'  blocks just before the
        commit of the archiving transaction, says so on fd ``ready_fd``, waits to be killed
    python -m tests.archive.crash_child after-commit '<json>'   kills itself right after
        that commit, before the blob store renames the new files into place (its kill is
        put first among the transaction's commit callbacks)
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


def _archive(args: dict[str, Any], hook: Any) -> None:
    from signatures import PadesLevel
    from signatures.pki import DemoPki
    from workflow.archive.archiving import archive_document
    from workflow.demo.pki import demo_signing_environment
    from workflow.identity.actors import load_actor
    from workflow.runtime import build_runtime

    settings = Settings(
        var_dir=Path(args["var_dir"]),
        storage=StorageSettings(database_url=args["database_url"]),
        secret_key="test-secret-for-sessions",
    )
    env = demo_signing_environment(
        DemoPki.load(Path(args["pki_dir"])), level=PadesLevel.B_LTA, services=None
    )
    rt = build_runtime(settings, signing=env)
    with rt.sessions() as session:
        actor = load_actor(session, args["user_id"])
    hook(args)
    archive_document(rt, actor=actor, document_id=args["document_id"])
    raise SystemExit("the archiving transaction committed and the process lives on")


_FLAG = "crash_child.archiving"


def _archiving(session: Session) -> bool:
    """Whether this transaction wrote an archive record (seen at its flush: the record
    itself may be gone from the weak identity map by the time of the commit)."""
    return bool(session.info.get(_FLAG))


@event.listens_for(Session, "after_flush")
def _note(session: Session, flush_context: Any) -> None:
    from workflow.models import ArchiveRecord

    if any(isinstance(obj, ArchiveRecord) for obj in session.new):
        session.info[_FLAG] = True


def _block_before_commit(args: dict[str, Any]) -> None:
    @event.listens_for(Session, "before_commit")
    def _hold(session: Session) -> None:
        if _archiving(session):
            os.write(args["ready_fd"], b"at-commit\n")
            while True:
                signal.pause()  # until SIGKILL


def _die_after_commit(args: dict[str, Any]) -> None:
    from workflow import db

    @event.listens_for(Session, "after_flush")
    def _first_of_the_commit_callbacks(session: Session, flush_context: Any) -> None:
        if _archiving(session) and not session.info.get("crash_child.armed"):
            session.info["crash_child.armed"] = True
            db.on_commit(session, lambda: os.kill(os.getpid(), signal.SIGKILL))
            # Run first of the callbacks of the commit: the process dies after the commit
            # and before the blob store's callbacks rename the new files into place.
            callbacks = session.info[db._PENDING]
            callbacks.insert(0, callbacks.pop())


if __name__ == "__main__":
    command, payload = sys.argv[1], json.loads(sys.argv[2])
    hooks = {"before-commit": _block_before_commit, "after-commit": _die_after_commit}
    _archive(payload, hooks[command])
