"""Jobs of the queue itself: ``jobs.noop`` (the queue's own overhead, in the benchmark),
``jobs.render_pdf`` (one template + values -> PDF/A file, through the runtime's warm
converter) and its batch step ``jobs.render_pdf`` (for ``defer_batch``)."""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from workflow.jobs.batch import batch_step
from workflow.jobs.registry import JobContext, PermanentJobError, job


@job("jobs.noop", retries=0, time_limit_s=60)
def noop(ctx: JobContext, **_args: Any) -> None:
    """Does nothing: what a job costs the queue."""


def render_pdf_file(ctx: JobContext, *, template: str, data: dict[str, Any], out: str) -> bool:
    """Render ``template`` (a name under templates_dir) with ``data`` to the PDF/A ``out``.
    Idempotent: an existing ``out`` is left as it is (False); written whole or not at all."""
    from workflow.errors import InvalidInput
    from workflow.rendering.engine import (
        SYSTEM_VARIABLES,
        DocumentInfo,
        Party,
        Signatory,
        build_context,
        render_docx,
    )
    from workflow.template_library.store import parse_schema_upload

    target = Path(out)
    if target.exists():
        return False
    templates = ctx.rt.settings.templates_dir
    docx_path = templates / f"{template}.docx"
    schema_path = templates / f"{template}.schema.json"
    if not docx_path.is_file() or not schema_path.is_file():
        raise PermanentJobError(f"no template {template!r} in {templates}")
    try:
        schema = parse_schema_upload(schema_path.read_bytes(), source=template)
        values = schema.validate({k: v for k, v in data.items() if k not in SYSTEM_VARIABLES})
        doc = dict(data.get("document") or {})
        doc["date"] = date.fromisoformat(str(doc.get("date") or date.today().isoformat()))
        for name in ("reference", "title", "kind", "place"):
            doc.setdefault(name, "")
        doc.setdefault("version", 1)
        context = build_context(
            values,
            document=DocumentInfo(**doc),
            parties=[Party(**p) for p in data.get("parties") or []],
            signatories=[Signatory(**s) for s in data.get("signatories") or []],
        )
    except (InvalidInput, TypeError, ValueError) as exc:
        raise PermanentJobError(f"invalid data for {template}: {exc}") from exc
    docx = render_docx(docx_path.read_bytes(), context, name=template)
    ctx.check()  # the conversion itself cannot be interrupted: it has its own timeout
    pdf = ctx.rt.converter.convert(docx)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(pdf)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


@job("jobs.render_pdf", retries=2, backoff_s=2.0, time_limit_s=300)
def render_pdf(ctx: JobContext, *, template: str, data: dict[str, Any], out: str) -> None:
    ctx.progress(0, 1, f"rendering {Path(out).name}")
    render_pdf_file(ctx, template=template, data=data, out=out)
    ctx.progress(1, 1, f"wrote {Path(out).name}")


@batch_step("jobs.render_pdf")
def render_pdf_item(ctx: JobContext, item: dict[str, Any]) -> None:
    render_pdf_file(ctx, template=item["template"], data=item["data"], out=item["out"])
