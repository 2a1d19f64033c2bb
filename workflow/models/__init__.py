"""SQLAlchemy 2 typed tables, one module per area. Importing this package registers every
table on ``Base.metadata`` (Alembic relies on it), and its names are the public ones.

Rows that are evidence never change once written: template versions, document versions,
renditions, comments and audit records. Documents carry a ``lock_version`` for optimistic
locking (see ``review.transitions``).
"""

from workflow.models.archive import ArchiveParty, ArchiveRecord, ArchiveSignature, Disposal
from workflow.models.audit import AuditHead, AuditRecord
from workflow.models.base import UTCDateTime, utcnow
from workflow.models.documents import (
    Approval,
    Comment,
    Document,
    DocumentParty,
    DocumentSignatory,
    DocumentVersion,
    Rendition,
)
from workflow.models.drafting import PreviewRender, WorkingDraft
from workflow.models.identity import (
    ApiToken,
    LoginSession,
    LoginThrottle,
    Membership,
    Organisation,
    OrganisationKind,
    User,
)
from workflow.models.jobs import JobProgress
from workflow.models.outbox import OutboxEntry
from workflow.models.search import SearchEntry, SearchValue
from workflow.models.signing import SigningSession
from workflow.models.storage import BlobContent, StoredFile
from workflow.models.templates import DocumentKind, Template, TemplateVersion

__all__ = [
    "ApiToken",
    "Approval",
    "ArchiveParty",
    "ArchiveRecord",
    "ArchiveSignature",
    "AuditHead",
    "AuditRecord",
    "BlobContent",
    "Comment",
    "Disposal",
    "Document",
    "DocumentKind",
    "DocumentParty",
    "DocumentSignatory",
    "DocumentVersion",
    "JobProgress",
    "LoginSession",
    "LoginThrottle",
    "Membership",
    "Organisation",
    "OrganisationKind",
    "OutboxEntry",
    "PreviewRender",
    "Rendition",
    "SearchEntry",
    "SearchValue",
    "SigningSession",
    "StoredFile",
    "Template",
    "TemplateVersion",
    "UTCDateTime",
    "User",
    "WorkingDraft",
    "utcnow",
]
