"""Background work: one job queue on procrastinate, on PostgreSQL or on the SQLite file.

The public names are here; ``registry`` says how to write a handler (idempotent, with a
cooperative time limit), ``queue`` how the queue is built and run (workers, the stalled
sweep), ``progress`` where progress and errors are kept, ``batch`` the resumable batch.
Importing this package builds nothing.
"""

from workflow.jobs.registry import (
    JobContext,
    JobError,
    JobSpec,
    JobStopped,
    PermanentJobError,
    TimeLimitExceeded,
    UnknownJob,
    defer,
    job,
    registered,
)

__all__ = [
    "JobContext",
    "JobError",
    "JobSpec",
    "JobStopped",
    "PermanentJobError",
    "TimeLimitExceeded",
    "UnknownJob",
    "defer",
    "job",
    "registered",
]
