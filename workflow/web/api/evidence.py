"""``GET /api/v1/archive/{record_id}/evidence``: the record's evidence package (a ZIP).

Who may have it: whoever may have the record's file (the archivists and administrators of
its owning office; anyone else of that office 403, everyone else 404). A record whose
stored file fails its hash: 409 ``archive_file_damaged``; a file gone: 404
``archive_file_missing`` — never a package that looks valid. See
``workflow.archive.evidence`` for what the package holds.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from workflow.archive.evidence import build_evidence
from workflow.web.deps import CurrentActor, RuntimeDep
from workflow.web.downloads import file_response
from workflow.web.types import DbId

router = APIRouter(prefix="/archive", tags=["archive"])

ZIP_MEDIA_TYPE = "application/zip"


@router.get(
    "/{record_id}/evidence",
    response_class=Response,
    responses={200: {"content": {ZIP_MEDIA_TYPE: {}}}},
)
def evidence(record_id: DbId, actor: CurrentActor, rt: RuntimeDep) -> Response:
    """The evidence package: the signed PDF, its validation report (JSON and PDF), the
    audit extract, the trust anchors and a SHA-256 manifest, as one ZIP download."""
    package = build_evidence(rt, actor=actor, record_id=record_id)
    return file_response(package.data, package.file_name, ZIP_MEDIA_TYPE)
