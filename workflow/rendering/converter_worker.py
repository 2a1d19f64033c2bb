"""One warm LibreOffice converter: a standalone script run by Debian's Python.

``uno`` is importable only from ``/usr/bin/python3``, so this file must not import the
``workflow`` package (or anything outside the standard library and ``uno``). The pool in
``workflow/rendering/converter.py`` starts it in a new process group; it starts ``soffice`` as its
own child (same group, so one ``killpg`` ends both), connects over a private UNO pipe and
then serves line-delimited JSON on stdin/stdout:

    -> {"ready": true, "office_pid": 123}                  once, after connecting
    <- {"id": 1, "input": "/abs/in.docx", "output": "/abs/out.pdf"}
    -> {"id": 1, "ok": true}
    -> {"id": 1, "ok": false, "fatal": false, "error": "..."}   the document failed
    -> {"id": 1, "ok": false, "fatal": true, "error": "..."}    the office is gone; exiting

EOF on stdin means the pool is gone (closed, or its process died): the office is shut
down so that no orphan ``soffice`` survives us.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import uno
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException
from com.sun.star.lang import DisposedException

# LibreOffice constants, spelled out to avoid importing constant groups through uno.
_MACRO_NEVER_EXECUTE = 0  # com.sun.star.document.MacroExecMode.NEVER_EXECUTE
_UPDATE_NEVER = 0  # com.sun.star.document.UpdateDocMode.NO_UPDATE
_PDF_A_2B = 2  # writer_pdf_Export FilterData SelectPdfVersion: 1 = PDF/A-1b, 2 = 2b, 3 = 3b


class OfficeGone(Exception):
    """The soffice process or the UNO bridge to it died."""


def _prop(name: str, value: Any) -> Any:
    return PropertyValue(Name=name, Value=value)


def _send(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _start_office(soffice: str, profile: Path, pipe: str) -> subprocess.Popen[bytes]:
    profile.mkdir(parents=True, exist_ok=True)
    # The pool killed the previous office with SIGKILL: its profile lock is stale.
    (profile / ".lock").unlink(missing_ok=True)
    argv = [
        soffice,
        "--headless",
        "--invisible",
        "--norestore",
        "--nologo",
        "--nodefault",
        "--nolockcheck",
        f"-env:UserInstallation={profile.resolve().as_uri()}",
        f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext",
    ]
    # stdout must not be inherited: it is our JSON channel to the pool.
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)  # noqa: S603 - fixed argv, no shell


def _connect(office: subprocess.Popen[bytes], pipe: str, timeout: float) -> Any:
    """Return the office's Desktop once the UNO pipe accepts connections."""
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    deadline = time.monotonic() + timeout
    while True:
        if office.poll() is not None:
            raise OfficeGone(f"soffice exited with status {office.returncode} during start")
        try:
            context = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            break
        except NoConnectException:
            if time.monotonic() > deadline:
                raise OfficeGone(
                    f"soffice did not accept a connection in {timeout:.0f} s"
                ) from None
            time.sleep(0.05)
    return context.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", context)


def _convert(desktop: Any, source: str, target: str) -> None:
    load_props = (
        _prop("Hidden", True),
        _prop("ReadOnly", True),
        _prop("FilterName", "MS Word 2007 XML"),  # no type detection on uploaded bytes
        _prop("MacroExecutionMode", _MACRO_NEVER_EXECUTE),
        _prop("UpdateDocMode", _UPDATE_NEVER),
    )
    document = desktop.loadComponentFromURL(
        uno.systemPathToFileUrl(source), "_blank", 0, load_props
    )
    if document is None:
        raise ValueError("LibreOffice could not open the document")
    try:
        filter_data = uno.Any(
            "[]com.sun.star.beans.PropertyValue", (_prop("SelectPdfVersion", _PDF_A_2B),)
        )
        store_props = (
            _prop("FilterName", "writer_pdf_Export"),
            _prop("FilterData", filter_data),
            _prop("Overwrite", True),
        )
        document.storeToURL(uno.systemPathToFileUrl(target), store_props)
    finally:
        document.close(True)


def _shutdown(desktop: Any, office: subprocess.Popen[bytes]) -> None:
    """Ask the office to quit, then make sure the whole process group is gone."""
    # Best effort: a dead bridge raises anything; the killpg below is the guarantee.
    with contextlib.suppress(Exception):
        if desktop is not None and office.poll() is None:
            desktop.terminate()
        office.wait(timeout=5)
    if office.poll() is None:
        office.kill()
    # oosplash's soffice.bin child may outlive oosplash; it shares our process group.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.killpg(os.getpgrp(), signal.SIGTERM)


def _serve(desktop: Any, office: subprocess.Popen[bytes]) -> int:
    for line in sys.stdin:
        request = json.loads(line)
        request_id = request.get("id")
        if office.poll() is not None:
            _send({"id": request_id, "ok": False, "fatal": True, "error": "soffice has exited"})
            return 3
        try:
            _convert(desktop, request["input"], request["output"])
        except DisposedException as exc:
            _send({"id": request_id, "ok": False, "fatal": True, "error": f"office gone: {exc}"})
            return 3
        # UNO raises many unrelated exception types for a bad document: report them all.
        except Exception as exc:
            fatal = office.poll() is not None
            _send({"id": request_id, "ok": False, "fatal": fatal, "error": _describe(exc)})
            if fatal:
                return 3
        else:
            _send({"id": request_id, "ok": True})
    return 0


def _describe(exc: BaseException) -> str:
    message = getattr(exc, "Message", None) or str(exc)
    return f"{type(exc).__name__}: {message}".strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--soffice", default="soffice")
    parser.add_argument("--profile", required=True, type=Path)
    parser.add_argument("--pipe", required=True)
    parser.add_argument("--startup-timeout", type=float, default=60.0)
    args = parser.parse_args()

    try:
        office = _start_office(args.soffice, args.profile, args.pipe)
    except OSError as exc:  # soffice missing or not executable
        _send({"ready": False, "error": _describe(exc)})
        return 2
    desktop = None
    try:
        try:
            desktop = _connect(office, args.pipe, args.startup_timeout)
        # Whatever stopped the start (UNO or OS error) is reported to the pool, which decides.
        except Exception as exc:
            _send({"ready": False, "error": _describe(exc)})
            return 2
        _send({"ready": True, "office_pid": office.pid})
        return _serve(desktop, office)
    finally:
        _shutdown(desktop, office)


if __name__ == "__main__":
    sys.exit(main())
