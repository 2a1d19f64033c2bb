"""The jobs of the application, registered on import (``registry.HANDLER_MODULES``):

- ``render``: ``documents.render_pdf``, a version's PDF/A (an outbox entry);
- ``notify``: ``notifications.notify``, the messages of the lifecycle (outbox entries);
- ``preview``: ``documents.render_preview``, page images of a draft (drafting pages), and
  ``documents.prune`` (daily) of old previews and working drafts no longer of use;
- ``checks``: on a schedule, ``audit.verify``, ``timestamps.renew``, ``blobs.gc``;
- ``anchors``: ``audit.anchor``, the audit chain's head timestamped by the TSA (hourly, and
  after every archiving: the ``ANCHOR_AUDIT`` outbox entries);
- ``search``: ``search.index_document``, a document's search index entry (outbox entries);
- ``ocr``: ``archive.ocr``, a scanned agreement imported into the archive read by OCR
  (queued after its import), and ``archive.ocr_sweep`` for those a crash left waiting;
- ``workflow.jobs.dispatch``: ``outbox.dispatch``, the outbox sweep.

Every handler is idempotent (delivery is at least once): an outbox handler claims its row in
the transaction of its result (``workflow.outbox.claim``); the checks only record results.
"""

from workflow.jobs import dispatch
from workflow.jobs.handlers import anchors, checks, notify, ocr, preview, render, search

__all__ = ["anchors", "checks", "dispatch", "notify", "ocr", "preview", "render", "search"]
