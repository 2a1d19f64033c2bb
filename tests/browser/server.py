"""A real ``estrategia serve`` as ``make run`` starts it: SQLite in a temporary
``ESTRATEGIA_VAR_DIR``, ``db upgrade`` and ``db seed-demo`` first, the embedded worker, demo
mode (demo PKI and its TSA/OCSP/CRL on a free loopback port). Used by the browser tests and
by ``bench/web.py``."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]
ESTRATEGIA = str(Path(sys.executable).with_name("estrategia"))
READY_WITHIN_S = 120.0
STOP_GRACE_S = 20.0


@dataclass(frozen=True)
class Server:
    url: str
    """http://127.0.0.1:port"""
    pid: int
    var_dir: Path
    log: Path
    env: dict[str, str]

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


def environment(var_dir: Path, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESTRATEGIA_")}
    env.update(
        ESTRATEGIA_VAR_DIR=str(var_dir),
        ESTRATEGIA_SECRET_KEY="browser-test-secret",
        ESTRATEGIA_DEMO_SERVICES_PORT=str(free_port()),  # not 8765: another run may hold it
        ESTRATEGIA_CONVERTER_PROCESSES="1",
        ESTRATEGIA_JOBS_POLL_S="0.2",
        # The hourly and nightly checks would only add records of their own.
        ESTRATEGIA_JOBS_SCHEDULES=json.dumps(
            {"audit.verify": "", "timestamps.renew": "", "blobs.gc": ""}
        ),
    )
    env.update(more)
    return env


def cli(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [ESTRATEGIA, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300,
        check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(
            f"estrategia {' '.join(args)}: exit {result.returncode}\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result.stdout


@contextlib.contextmanager
def running_server(
    var_dir: Path,
    *,
    before_start: Callable[[dict[str, str]], None] | None = None,
    serve_args: tuple[str, ...] = (),
    **env_more: str,
) -> Iterator[Server]:
    """Migrate, seed the demo data (then ``before_start(env)``, e.g. more data), start the
    server on 127.0.0.1 and a free port, wait (bounded) until ``/ready`` answers 200; stop
    its process group at the end."""
    var_dir.mkdir(parents=True, exist_ok=True)
    env = environment(var_dir, **env_more)
    cli(env, "db", "upgrade")
    cli(env, "db", "seed-demo")
    if before_start is not None:
        before_start(env)
    port = free_port()
    log = var_dir.parent / f"{var_dir.name}-serve.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [ESTRATEGIA, "-v", "serve", "--host", "127.0.0.1", "--port", str(port), *serve_args],
            env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    server = Server(url=f"http://127.0.0.1:{port}", pid=proc.pid, var_dir=var_dir, log=log, env=env)
    try:
        deadline = time.monotonic() + READY_WITHIN_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"estrategia serve exited {proc.returncode}:\n{server.log_tail()}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{server.url}/ready", timeout=5).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"estrategia serve not ready in {READY_WITHIN_S:g} s")
            time.sleep(0.3)
        yield server
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's process group (LibreOffice included), SIGKILL after the
    grace period."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)  # start_new_session: its group id is its pid
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=STOP_GRACE_S)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)
