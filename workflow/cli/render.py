"""``estrategia render``: one template and a JSON file of values to .docx or PDF/A.

The JSON holds the template's fields; it may also give the system variables
(``document``, ``parties``, ``signatories``) that the application normally supplies.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from workflow.config import Settings
from workflow.errors import ErrorCode, InvalidInput
from workflow.rendering.converter import ColdConverter, FallbackConverter, WarmConverterPool
from workflow.rendering.engine import (
    SYSTEM_VARIABLES,
    DocumentInfo,
    Party,
    Signatory,
    build_context,
    render_docx,
)
from workflow.template_library.store import parse_schema_upload


def _template_files(settings: Settings, template: str) -> tuple[Path, Path, str]:
    path = Path(template)
    if path.suffix != ".docx":
        path = settings.templates_dir / f"{template}.docx"
    schema = path.with_name(path.stem + ".schema.json")
    for p in (path, schema):
        if not p.is_file():
            raise InvalidInput("template", ErrorCode.TEMPLATE_FILE_MISSING, path=str(p))
    return path, schema, path.stem


def _system_variables(data: dict[str, Any]) -> dict[str, Any]:
    doc = dict(data.get("document") or {})
    doc.setdefault("reference", "")
    doc.setdefault("title", "")
    doc.setdefault("kind", "")
    doc.setdefault("place", "")
    doc["date"] = date.fromisoformat(str(doc.get("date") or date.today().isoformat()))
    doc.setdefault("version", 1)
    try:
        return {
            "document": DocumentInfo(**doc),
            "parties": [Party(**p) for p in data.get("parties") or []],
            "signatories": [Signatory(**s) for s in data.get("signatories") or []],
        }
    except TypeError as exc:
        raise InvalidInput("data", ErrorCode.SYSTEM_VARIABLES_INVALID, detail=str(exc)) from exc


def render_to_file(settings: Settings, *, template: str, data: Path, out: Path) -> None:
    docx_path, schema_path, name = _template_files(settings, template)
    try:
        raw = json.loads(data.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(
            "data", ErrorCode.DATA_FILE_UNREADABLE, path=str(data), detail=str(exc)
        ) from exc
    if not isinstance(raw, dict):
        raise InvalidInput("data", ErrorCode.DATA_NOT_OBJECT)
    schema = parse_schema_upload(schema_path.read_bytes(), source=name)
    values = schema.validate({k: v for k, v in raw.items() if k not in SYSTEM_VARIABLES})
    context = build_context(values, **_system_variables(raw))
    docx = render_docx(docx_path.read_bytes(), context, name=name)
    if out.suffix == ".docx":
        result = docx
    elif out.suffix == ".pdf":
        work = Path(tempfile.mkdtemp(prefix="estrategia-render-"))
        c = settings.converter
        converter = FallbackConverter(
            WarmConverterPool(1, soffice=c.soffice, uno_python=c.uno_python,
                              workdir=work / "warm", timeout=c.timeout_s),
            ColdConverter(soffice=c.soffice, workdir=work / "cold"),
        )  # fmt: skip
        try:
            result = converter.convert(docx)
        finally:
            converter.close()
    else:
        raise InvalidInput("out", ErrorCode.OUTPUT_SUFFIX)
    # Whole file or nothing: write beside the target, then rename over it.
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(result)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
