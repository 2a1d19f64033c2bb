"""The transactional outbox: effects written with the change that caused them.

A row is written in the transaction of a change of state (and its audit record), so it
exists exactly when the change committed. The dispatcher (``workflow.jobs.dispatch``) hands
it to the job queue and sets ``dispatched_at``; the handler that does the work sets
``completed_at`` in the transaction of its own result, which makes running it twice
harmless (the second run finds the row completed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Enum, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from workflow.db import Base
from workflow.models.base import UTCDateTime, utcnow
from workflow.states import Effect


class OutboxEntry(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        # The dispatcher's question: what is not handed over yet, oldest first.
        Index("ix_outbox_pending", "dispatched_at", "id"),
        # "Is a render of this version already on its way?" (GET .../pdf).
        Index("ix_outbox_effect_version", "effect", "version_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    effect: Mapped[Effect] = mapped_column(
        # No CHECK of the values: new kinds of effect (mail, indexing) need no migration.
        Enum(Effect, native_enum=False, create_constraint=False, length=40,
             values_callable=lambda e: [m.value for m in e]),
    )  # fmt: skip
    document_id: Mapped[int | None] = mapped_column(Integer, index=True)
    """No foreign key: the row outlives nothing and blocks no deletion."""
    version_id: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """What the handler needs, fixed at the time of the change (the event, the version,
    the signatory's position...): a late run does not act on a later state."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When the dispatcher handed it to the queue (None: still to hand over)."""
    job_id: Mapped[int | None] = mapped_column(BigInteger)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When a handler did the work (in the same transaction as its result)."""
