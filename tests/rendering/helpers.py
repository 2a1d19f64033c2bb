"""Helpers for the rendering tests: small .docx files, poppler readers, process checks."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import time
import zipfile
from pathlib import Path

import docx
import pytest

from workflow.rendering.converter import WarmConverterPool
from workflow.rendering.fields import FieldSchema

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

needs_office = pytest.mark.skipif(
    shutil.which("soffice") is None or not Path("/usr/bin/python3").exists(),
    reason="LibreOffice (soffice, python3-uno) is not installed",
)


def load_schema(name: str) -> FieldSchema:
    path = TEMPLATES / f"{name}.schema.json"
    return FieldSchema.parse(json.loads(path.read_text(encoding="utf-8")), source=path.name)


def make_docx(*paragraphs: str, header: str | None = None) -> bytes:
    """A small .docx whose paragraphs are the given texts (each one run, as Word would)."""
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if header is not None:
        document.sections[0].header.paragraphs[0].text = header
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def docx_text(data: bytes) -> str:
    """All paragraph text of a .docx, tables included, one paragraph per line."""
    document = docx.Document(io.BytesIO(data))
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.extend(cell.text for cell in row.cells)
    return "\n".join(lines)


def pdf_text(pdf: bytes, tmp_path: Path, *, page: int | None = None) -> str:
    """pdftotext output with no-break spaces read as spaces (money uses them)."""
    source = tmp_path / "read.pdf"
    source.write_bytes(pdf)
    pages = ["-f", str(page), "-l", str(page)] if page else []
    result = subprocess.run(
        ["pdftotext", *pages, str(source), "-"], capture_output=True, check=True
    )
    return result.stdout.decode("utf-8").replace("\u00a0", " ")


def pdf_fonts(pdf: bytes, tmp_path: Path) -> list[dict[str, str]]:
    source = tmp_path / "fonts.pdf"
    source.write_bytes(pdf)
    lines = subprocess.run(
        ["pdffonts", str(source)], capture_output=True, check=True, text=True
    ).stdout.splitlines()
    _header, rule, *rows = lines
    starts = [0] + [i + 1 for i, char in enumerate(rule) if char == " "]
    names = ["name", "type", "encoding", "emb", "sub", "uni", "object", "id"]
    fonts = []
    for row in rows:
        # The name column may hold spaces only in its own width; the rest are fixed-width.
        cells = [row[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)]
        fonts.append(dict(zip(names, cells, strict=False)))
    return fonts


def processes_in_group(pgid: int) -> list[tuple[int, str]]:
    """(pid, command name) of every live process in a process group, read from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.getpgid(int(entry)) != pgid:
                continue
            stat = Path(f"/proc/{entry}/stat").read_text()
            state = stat.rsplit(")", 1)[1].split()[0]
            if state != "Z":
                found.append((int(entry), Path(f"/proc/{entry}/comm").read_text().strip()))
        except (ProcessLookupError, FileNotFoundError, PermissionError):
            continue
    return found


def wait_until_gone(pgid: int, timeout: float = 5.0) -> list[tuple[int, str]]:
    """Processes still in the group after waiting up to ``timeout`` (SIGKILL is not instant)."""
    deadline = time.monotonic() + timeout
    while (left := processes_in_group(pgid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def kill_offices(pool: WarmConverterPool) -> list[int]:
    """SIGKILL the soffice.bin of every warm worker, as a crash would; return the pids."""
    killed = []
    for pgid in pool.worker_pids():
        for pid, name in processes_in_group(pgid):
            if name == "soffice.bin":
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
    return killed


def rezip(
    data: bytes, replace: dict[str, bytes] | None = None, *, drop: tuple[str, ...] = ()
) -> bytes:
    """A copy of a zip with some members replaced, added or dropped."""
    replace = dict(replace or {})
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            if info.filename in drop:
                continue
            content = replace.pop(info.filename) if info.filename in replace else source.read(info)
            target.writestr(info.filename, content)
        for name, content in replace.items():
            target.writestr(name, content)
    return out.getvalue()
