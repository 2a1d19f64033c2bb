"""DOCX -> PDF/A-2b with LibreOffice, kept warm and supervised.

A cold ``soffice --convert-to`` costs about a second per document, mostly process start;
a warm office converts a one-page letter in tens of milliseconds. ``WarmConverterPool``
keeps ``size`` offices running, each driven by ``converter_worker.py`` (run with Debian's
Python, the only one with ``uno``) in its own process group, and hands them out through a
queue, so several threads convert in parallel and each office serves one document at a time.

Supervision, in one place (``_Worker``):
- nothing starts before the first ``convert()`` (or an explicit ``start()``);
- a worker whose process died is restarted on the next request; a worker that reports
  its office gone mid-request is restarted and the request retried once (conversion is a
  pure function of the input, so a retry is safe);
- a conversion over the timeout kills the whole process group (script, oosplash,
  soffice.bin) and raises ``RenderingFailed``; the next request starts a fresh worker;
- every output must exist, start with ``%PDF``, end with ``%%EOF`` and open with pikepdf;
- ``close()`` and interpreter exit kill every process group; a worker also shuts its office
  down when its stdin closes, so a crashed parent leaves no orphan ``soffice``.

``ColdConverter`` is the one-process-per-document fallback, used by ``FallbackConverter``
only when the warm path cannot start at all (``ConverterUnavailable``).

Every office, warm or cold, starts on a profile written by ``write_profile_settings``, so
that it loads nothing from outside the document it converts (see ``PROFILE_SETTINGS``).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import queue
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import pikepdf

from workflow.errors import ErrorCode, RenderingFailed
from workflow.metrics import observe_conversion

log = logging.getLogger(__name__)

WORKER_SCRIPT = Path(__file__).with_name("converter_worker.py")
PDF_A_2B_CONVERT_TO = 'pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"2"}}'

_SCRIPTING = "/org.openoffice.Office.Common/Security/Scripting"
_INET = "/org.openoffice.Inet/Settings"
#: (path, property, type, value) written into every office's user profile. Measured on
#: LibreOffice 7.4 (tests/rendering/test_external_content.py): a .docx image relationship
#: with TargetMode="External" makes an unconfigured office send OPTIONS and GET requests
#: to an http:// target and embed a file:/// target from the server's disk.
PROFILE_SETTINGS: tuple[tuple[str, str, str, str], ...] = (
    # Links from a document outside the trusted locations (SecureURL, kept empty: our job
    # folders are never trusted) are not followed: stops http:// and file:/// images.
    (_SCRIPTING, "BlockUntrustedRefererLinks", "xs:boolean", "true"),
    (_SCRIPTING, "SecureURL", "oor:string-list", ""),
    (_SCRIPTING, "MacroSecurityLevel", "xs:int", "3"),
    (_SCRIPTING, "DisableMacrosExecution", "xs:boolean", "true"),
    # Writer: never update links (0 never, 1 on request, 2 always) when a document loads.
    ("/org.openoffice.Office.Writer/Content/Update", "Link", "xs:int", "0"),
    # Any http(s) fetch that some other code path still makes goes to a proxy on a port
    # where nothing listens (1, tcpmux): refused at once, and never reaches its target.
    (_INET, "ooInetProxyType", "xs:int", "1"),
    (_INET, "ooInetHTTPProxyName", "xs:string", "127.0.0.1"),
    (_INET, "ooInetHTTPProxyPort", "xs:int", "1"),
    (_INET, "ooInetHTTPSProxyName", "xs:string", "127.0.0.1"),
    (_INET, "ooInetHTTPSProxyPort", "xs:int", "1"),
    (_INET, "ooInetNoProxy", "xs:string", ""),
)


def write_profile_settings(profile: Path) -> Path:
    """Write ``PROFILE_SETTINGS`` as the profile's registrymodifications.xcu; return its path.

    ``profile`` is the folder given as ``-env:UserInstallation``. The file is rewritten
    before every start, so nothing a previous office saved there can weaken it.
    """
    items = "".join(
        f'<item oor:path="{path}"><prop oor:name="{name}" oor:op="fuse" oor:type="{kind}">'
        f"<value>{value}</value></prop></item>\n"
        for path, name, kind, value in PROFILE_SETTINGS
    )
    xcu = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<oor:items xmlns:oor="http://openoffice.org/2001/registry"'
        ' xmlns:xs="http://www.w3.org/2001/XMLSchema"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        f"{items}</oor:items>\n"
    )
    target = profile / "user" / "registrymodifications.xcu"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(xcu, encoding="utf-8")
    return target


class PdfConverter(Protocol):
    """Anything that turns .docx bytes into PDF/A bytes."""

    def convert(self, docx: bytes) -> bytes: ...

    def close(self) -> None: ...


class ConverterUnavailable(RenderingFailed):
    """The converter could not be started at all (as opposed to failing on a document)."""


def _invalid_output(detail: str) -> RenderingFailed:
    return RenderingFailed(ErrorCode.CONVERTER_OUTPUT_INVALID, detail=detail)


def _timed_out(seconds: float) -> RenderingFailed:
    return RenderingFailed(ErrorCode.CONVERSION_TIMEOUT, seconds=f"{seconds:g}")


def check_pdf(data: bytes) -> None:
    """Refuse output that is missing, truncated or unreadable (LibreOffice can exit 0 anyway)."""
    if not data.startswith(b"%PDF-"):
        raise _invalid_output("not a PDF")
    if not data.rstrip().endswith(b"%%EOF"):
        raise _invalid_output("truncated (no %%EOF)")
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            if len(pdf.pages) == 0:
                raise _invalid_output("no pages")
    except pikepdf.PdfError as exc:
        raise _invalid_output(f"does not open: {exc}") from exc


class WorkerDied(Exception):
    """The worker process or its office is gone; the slot must be restarted."""


class WorkerTimeout(Exception):
    """The worker did not answer in time; its process group must be killed."""


def kill_group(pgid: int, sig: signal.Signals = signal.SIGKILL) -> None:
    """Signal a whole process group, ignoring a group that is already gone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


class WorkerProcess:
    """A running ``converter_worker.py`` process group and its JSON-lines channel."""

    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self.popen = popen
        self.pid = popen.pid  # also the process-group id (start_new_session)
        self.office_pid: int | None = None
        self._buffer = b""
        self._next_id = 0

    @classmethod
    def start(cls, argv: list[str], *, log_path: Path, startup_timeout: float) -> WorkerProcess:
        with log_path.open("ab") as log_file:
            popen = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log_file,
                start_new_session=True,
            )
        process = cls(popen)
        try:
            message = process._read(time.monotonic() + startup_timeout)
            if not message.get("ready"):
                raise WorkerDied(str(message.get("error", "worker refused to start")))
        except BaseException:
            process.kill()
            raise
        process.office_pid = message.get("office_pid")
        return process

    def alive(self) -> bool:
        return self.popen.poll() is None

    def convert(self, source: Path, target: Path, *, timeout: float) -> None:
        self._next_id += 1
        request = {"id": self._next_id, "input": str(source), "output": str(target)}
        assert self.popen.stdin is not None  # noqa: S101 - created with stdin=PIPE
        try:
            self.popen.stdin.write(json.dumps(request).encode() + b"\n")
            self.popen.stdin.flush()
        except (BrokenPipeError, ValueError) as exc:
            raise WorkerDied("worker is not reading requests") from exc
        reply = self._read(time.monotonic() + timeout)
        if reply.get("ok"):
            return
        if reply.get("fatal"):
            raise WorkerDied(str(reply.get("error")))
        raise RenderingFailed(ErrorCode.CONVERTER_CRASHED, detail=str(reply.get("error")))

    def _read(self, deadline: float) -> dict[str, Any]:
        """Read one JSON line from the worker, or raise WorkerTimeout / WorkerDied."""
        assert self.popen.stdout is not None  # noqa: S101 - created with stdout=PIPE
        fd = self.popen.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WorkerTimeout
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                raise WorkerTimeout
            chunk = os.read(fd, 65536)
            if not chunk:
                raise WorkerDied(f"worker exited (status {self.popen.wait()})")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            message = json.loads(line)
        except ValueError:
            message = None
        if not isinstance(message, dict):
            raise WorkerDied(f"garbled reply from worker: {line[:80]!r}")
        return message

    def kill(self) -> None:
        """Kill the whole group at once (script, oosplash, soffice.bin) and reap the script."""
        kill_group(self.pid)
        self.popen.wait()
        self._close_pipes()

    def stop(self, grace: float = 10.0) -> None:
        """Let the worker shut its office down (EOF on stdin), then kill what remains."""
        with contextlib.suppress(OSError, ValueError):
            if self.popen.stdin is not None:
                self.popen.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=grace)
        self.kill()

    def _close_pipes(self) -> None:
        for pipe in (self.popen.stdin, self.popen.stdout):
            with contextlib.suppress(OSError, ValueError):
                if pipe is not None:
                    pipe.close()


class _Worker:
    """One slot of the pool: a worker process, started and restarted on demand."""

    def __init__(self, pool: WarmConverterPool, slot: int) -> None:
        self.pool = pool
        self.slot = slot
        self.process: WorkerProcess | None = None

    def ensure_started(self) -> WorkerProcess:
        if self.process is not None and self.process.alive():
            return self.process
        if self.process is not None:
            log.warning("converter worker %d died; restarting", self.slot)
            self.discard()
        self.process = self.pool._spawn(self.slot)
        return self.process

    def discard(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.pool._forget(self.process)
            self.process = None

    def convert(self, source: Path, target: Path, timeout: float) -> None:
        for attempt in (1, 2):
            process = self.ensure_started()
            try:
                process.convert(source, target, timeout=timeout)
                return
            except WorkerTimeout:
                self.discard()
                raise _timed_out(timeout) from None
            except WorkerDied as exc:
                self.discard()
                if self.pool.closed:
                    raise RenderingFailed(ErrorCode.CONVERTER_CLOSED) from exc
                if attempt == 2:
                    raise RenderingFailed(
                        ErrorCode.CONVERTER_CRASHED, detail=f"crashed: {exc}"
                    ) from exc
                log.warning("converter worker %d lost its office (%s); retrying", self.slot, exc)


class WarmConverterPool:
    """``size`` persistent LibreOffice converters; see the module docstring."""

    def __init__(
        self,
        size: int = 1,
        *,
        soffice: str = "soffice",
        uno_python: str = "/usr/bin/python3",
        workdir: Path,
        timeout: float = 60.0,
        startup_timeout: float = 60.0,
    ) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        self.size = size
        self.soffice = soffice
        self.uno_python = uno_python
        self.workdir = Path(workdir).resolve()
        self.timeout = timeout
        self.startup_timeout = startup_timeout
        self.closed = False
        self._idle: queue.Queue[_Worker] = queue.Queue()
        for slot in range(size):
            self._idle.put(_Worker(self, slot))
        self._lock = threading.Lock()
        self._live: set[WorkerProcess] = set()
        # Runs on close() or at interpreter exit; holds no reference to self.
        self._finalizer = weakref.finalize(self, _kill_all, self._live, self._lock)

    def start(self) -> None:
        """Start every worker now (normally they start on first use); used for warm-up."""
        workers = [self._idle.get() for _ in range(self.size)]
        try:
            for worker in workers:
                worker.ensure_started()
        finally:
            for worker in workers:
                self._idle.put(worker)

    @observe_conversion("warm")
    def convert(self, docx: bytes, *, timeout: float | None = None) -> bytes:
        """Convert .docx bytes to PDF/A-2b bytes; raise ``RenderingFailed`` on any failure."""
        if self.closed:
            raise RenderingFailed(ErrorCode.CONVERTER_CLOSED)
        worker = self._idle.get()
        try:
            with self._job_dir() as job:
                source, target = job / "document.docx", job / "document.pdf"
                source.write_bytes(docx)
                worker.convert(source, target, timeout if timeout is not None else self.timeout)
                if not target.is_file():
                    raise _invalid_output("LibreOffice reported success but wrote no file")
                pdf = target.read_bytes()
        finally:
            self._idle.put(worker)
        check_pdf(pdf)
        return pdf

    def worker_pids(self) -> list[int]:
        """Process-group ids of the running workers (for supervision and tests)."""
        with self._lock:
            return sorted(process.pid for process in self._live if process.alive())

    def close(self) -> None:
        """Stop every worker and its office; further conversions are refused."""
        with self._lock:
            self.closed = True
            processes = list(self._live)
            self._live.clear()
        for process in processes:
            process.stop()
        self._finalizer.detach()

    def __enter__(self) -> WarmConverterPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- used by _Worker ---------------------------------------------------------------

    def _spawn(self, slot: int) -> WorkerProcess:
        for folder in ("profiles", "logs", "jobs"):
            (self.workdir / folder).mkdir(parents=True, exist_ok=True)
        profile = self.workdir / "profiles" / f"worker-{slot}"
        write_profile_settings(profile)
        argv = [
            self.uno_python,
            str(WORKER_SCRIPT),
            "--soffice",
            self.soffice,
            "--profile",
            str(profile),
            "--pipe",
            f"estrategia-{os.getpid()}-{id(self):x}-{slot}",
            "--startup-timeout",
            str(self.startup_timeout),
        ]
        with self._lock:
            if self.closed:
                raise RenderingFailed(ErrorCode.CONVERTER_CLOSED)
        try:
            process = WorkerProcess.start(
                argv,
                log_path=self.workdir / "logs" / f"worker-{slot}.log",
                startup_timeout=self.startup_timeout + 5.0,
            )
        except (OSError, WorkerDied, WorkerTimeout) as exc:
            raise ConverterUnavailable(ErrorCode.CONVERTER_NOT_STARTED, detail=str(exc)) from exc
        with self._lock:
            if self.closed:  # close() ran while we were starting
                process.kill()
                raise RenderingFailed(ErrorCode.CONVERTER_CLOSED)
            self._live.add(process)
        return process

    def _forget(self, process: WorkerProcess) -> None:
        with self._lock:
            self._live.discard(process)

    @contextlib.contextmanager
    def _job_dir(self) -> Iterator[Path]:
        (self.workdir / "jobs").mkdir(parents=True, exist_ok=True)
        job = Path(tempfile.mkdtemp(prefix="job-", dir=self.workdir / "jobs"))
        try:
            yield job
        finally:
            shutil.rmtree(job, ignore_errors=True)


def _kill_all(live: set[WorkerProcess], lock: threading.Lock) -> None:
    with lock:
        processes = list(live)
        live.clear()
    for process in processes:
        process.kill()


class ColdConverter:
    """One ``soffice --convert-to`` per document, with a fresh profile: slow, but no state."""

    def __init__(self, *, soffice: str = "soffice", workdir: Path, timeout: float = 120.0) -> None:
        self.soffice = soffice
        self.workdir = Path(workdir).resolve()
        self.timeout = timeout

    @observe_conversion("cold")
    def convert(self, docx: bytes) -> bytes:
        self.workdir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="cold-", dir=self.workdir) as tmp:
            job = Path(tmp)
            source = job / "document.docx"
            source.write_bytes(docx)
            write_profile_settings(job / "profile")
            argv = [
                self.soffice,
                "--headless",
                "--norestore",
                "--nologo",
                f"-env:UserInstallation={(job / 'profile').as_uri()}",
                "--convert-to",
                PDF_A_2B_CONVERT_TO,
                "--outdir",
                str(job / "out"),
                str(source),
            ]
            process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
            try:
                _, stderr = process.communicate(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                kill_group(process.pid)
                process.wait()
                raise _timed_out(self.timeout) from None
            finally:
                kill_group(process.pid, signal.SIGKILL)  # helpers LibreOffice left behind
            target = job / "out" / "document.pdf"
            if process.returncode != 0 or not target.is_file():
                detail = stderr.decode("utf-8", "replace").strip()[-300:]
                raise RenderingFailed(
                    ErrorCode.CONVERTER_CRASHED,
                    detail=f"soffice exited {process.returncode}, no PDF: {detail}",
                )
            pdf = target.read_bytes()
        check_pdf(pdf)
        return pdf

    def close(self) -> None:
        """Nothing to stop: every conversion is its own process."""


class FallbackConverter:
    """The warm pool, or the cold converter when the warm path cannot start at all.

    After a failed start the warm pool is left alone for ``retry_warm_after`` seconds, so
    that a LibreOffice which hangs on start does not cost every request a start timeout.
    """

    def __init__(
        self, warm: WarmConverterPool, cold: ColdConverter, *, retry_warm_after: float = 60.0
    ) -> None:
        self.warm = warm
        self.cold = cold
        self.retry_warm_after = retry_warm_after
        self._warm_failed_at: float | None = None

    def convert(self, docx: bytes) -> bytes:
        failed_at = self._warm_failed_at
        if failed_at is None or time.monotonic() - failed_at > self.retry_warm_after:
            try:
                pdf = self.warm.convert(docx)
            except ConverterUnavailable as exc:
                self._warm_failed_at = time.monotonic()
                log.error("warm converter unavailable (%s); using cold soffice", exc.reason)
            else:
                self._warm_failed_at = None
                return pdf
        return self.cold.convert(docx)

    def close(self) -> None:
        self.warm.close()
        self.cold.close()
