"""What the dashboard and the list of documents show: each in one read transaction, loading
only the columns shown (no ORM objects, no eager loading of a document's collections).

``dashboard()`` makes three queries whatever the number of documents, each built once
at import (a request only binds its parameters): the three kinds of task (one statement,
ranked per kind), the counts by status, the recent activity. ``document_list()`` makes two (the page
and the total).

My tasks
    *to review*: documents in review whose owning office gives me the reviewer role and of
    which I wrote no version (the table's guard would refuse my approval);
    *to sign*: documents awaiting signatures whose next signatory (the first unsigned, in
    order) is me: only when it is my turn;
    *changes requested of me*: documents sent back for changes of which I wrote a version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    BindParameter,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased

from workflow.db import read_rows, transaction
from workflow.documents.access import VISIBLE, visible_params
from workflow.identity.actors import Actor, visible_documents_clause
from workflow.models import (
    AuditRecord,
    Document,
    DocumentKind,
    DocumentSignatory,
    DocumentVersion,
    Organisation,
    User,
)
from workflow.runtime import Runtime
from workflow.states import Role, Status

TaskKind = Literal["review", "sign", "changes"]
PAGE_SIZE_LIMIT = 100


@dataclass(frozen=True)
class DocumentRow:
    """A document as a list shows it."""

    id: int
    reference: str | None
    title: str
    kind: DocumentKind
    status: Status
    owner: str
    """The owning office's short name."""
    updated_at: datetime


@dataclass(frozen=True)
class Task:
    kind: TaskKind
    document: DocumentRow


@dataclass(frozen=True)
class Activity:
    """One audit record of a person's act on a document the viewer may see (what the
    system did on its own, rendering or sending mail, is left out)."""

    recorded_at: datetime
    action: str
    actor: str | None
    """The person's name as the directory shows it to anyone; None: the system."""
    document_id: int
    document_title: str


@dataclass(frozen=True)
class Dashboard:
    tasks: tuple[Task, ...]
    counts: dict[Status, int]
    """Visible documents by status (statuses with none left out)."""
    activity: tuple[Activity, ...]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class DocumentPage:
    rows: tuple[DocumentRow, ...]
    total: int
    offset: int
    limit: int


def _rows_query() -> Select[int, str | None, str, DocumentKind, Status, str, datetime]:
    return select(
        Document.id,
        Document.reference,
        Document.title,
        Document.kind,
        Document.status,
        Organisation.short_name,
        Document.updated_at,
    ).join(Organisation, Organisation.id == Document.owner_organisation_id)


def _row(r: Any) -> DocumentRow:
    return DocumentRow(
        id=r.id, reference=r.reference, title=r.title, kind=r.kind, status=r.status,
        owner=r.short_name, updated_at=r.updated_at,
    )  # fmt: skip


#: An earlier signatory of the same document (the "is it my turn" test).
_EARLIER = aliased(DocumentSignatory, name="earlier")
_ME: BindParameter[int] = bindparam("me", type_=Integer)


def _wrote_a_version() -> Any:
    return exists().where(
        DocumentVersion.document_id == Document.id, DocumentVersion.created_by_id == _ME
    )


def _tasks_statement() -> Select[Any]:
    """My tasks of the three kinds in one statement, the newest ``tasks_limit`` of each
    kind (the kinds are exclusive: each asks for another status). Parameters: ``me``,
    ``reviewing_orgs`` (where I hold the reviewer role), ``tasks_limit`` and
    :data:`access.VISIBLE`'s."""
    my_turn = exists().where(
        DocumentSignatory.document_id == Document.id,
        DocumentSignatory.user_id == _ME,
        DocumentSignatory.signed_at.is_(None),
        ~exists().where(
            _EARLIER.document_id == Document.id,
            _EARLIER.position < DocumentSignatory.position,
            _EARLIER.signed_at.is_(None),
        ),
    )
    review = and_(
        Document.status == Status.IN_REVIEW,
        Document.owner_organisation_id.in_(bindparam("reviewing_orgs", expanding=True)),
        ~_wrote_a_version(),
    )
    sign = and_(Document.status == Status.AWAITING_SIGNATURES, my_turn)
    changes = and_(Document.status == Status.CHANGES_REQUESTED, _wrote_a_version())
    kind = case((review, "review"), (sign, "sign"), (changes, "changes"), else_=None)
    rank = func.row_number().over(
        partition_by=kind, order_by=(Document.updated_at.desc(), Document.id.desc())
    )
    ranked = (
        _rows_query()
        .add_columns(kind.label("task"), rank.label("rank"))
        .where(VISIBLE, or_(review, sign, changes))
        .subquery("ranked")
    )
    return (
        select(ranked)
        .where(ranked.c.rank <= bindparam("tasks_limit"))
        .order_by(ranked.c.task, ranked.c.rank)
    )


_TASKS = _tasks_statement()
_COUNTS = select(Document.status, func.count()).where(VISIBLE).group_by(Document.status)
_ACTIVITY = (
    select(
        AuditRecord.recorded_at,
        AuditRecord.action,
        AuditRecord.actor_id,
        User.full_name,
        Document.id.label("document_id"),
        Document.title,
    )
    .join(Document, Document.id == AuditRecord.document_id)
    .outerjoin(User, User.id == AuditRecord.actor_id)
    .where(VISIBLE, AuditRecord.actor_id.is_not(None))
    .order_by(AuditRecord.seq.desc())
    .limit(bindparam("activity_limit"))
)
_KIND_ORDER: dict[str, int] = {"review": 0, "sign": 1, "changes": 2}


def _tasks(session: Session, actor: Actor, limit: int) -> list[Task]:
    reviewing_orgs = sorted({org for org, role in actor.roles_by_org if role == Role.REVIEWER})
    params = {
        **visible_params(actor), "me": actor.user_id, "reviewing_orgs": reviewing_orgs,
        "tasks_limit": limit,
    }  # fmt: skip
    rows = sorted(read_rows(session, _TASKS, params), key=lambda r: (_KIND_ORDER[r.task], r.rank))
    return [Task(r.task, _row(r)) for r in rows]


def dashboard(
    rt: Runtime, *, actor: Actor, tasks_limit: int = 20, activity_limit: int = 10
) -> Dashboard:
    """The caller's tasks, their visible documents by status, recent activity on them."""
    visible = visible_params(actor)
    with transaction(rt.read_sessions) as session:
        tasks = _tasks(session, actor, tasks_limit)
        counts = {Status(s): int(n) for s, n in read_rows(session, _COUNTS, visible)}
        rows = read_rows(session, _ACTIVITY, {**visible, "activity_limit": activity_limit})
        activity = tuple(
            Activity(
                recorded_at=r.recorded_at,
                action=r.action,
                actor=r.full_name if r.actor_id is not None else None,
                document_id=r.document_id,
                document_title=r.title,
            )
            for r in rows
        )
    ordered = {s: counts[s] for s in Status if counts.get(s)}
    return Dashboard(tasks=tuple(tasks), counts=ordered, activity=activity)


def document_list(
    rt: Runtime,
    *,
    actor: Actor,
    status: Status | None = None,
    limit: int = 20,
    offset: int = 0,
) -> DocumentPage:
    """A page of the caller's visible documents, newest change first, and their total."""
    limit = max(1, min(limit, PAGE_SIZE_LIMIT))
    offset = max(0, offset)
    conditions = [visible_documents_clause(actor)]
    if status is not None:
        conditions.append(Document.status == status)
    query = (
        _rows_query()
        .where(*conditions)
        .order_by(Document.updated_at.desc(), Document.id.desc())
        .limit(limit)
        .offset(offset)
    )
    with transaction(rt.read_sessions) as session:
        rows = tuple(_row(r) for r in read_rows(session, query))
        total = session.scalar(select(func.count()).select_from(Document).where(*conditions)) or 0
    return DocumentPage(rows=rows, total=int(total), offset=offset, limit=limit)
