"""A throwaway PostgreSQL cluster for the tests: initdb in a temporary folder, a unix
socket only, stopped and deleted at the end. As root, the cluster runs as ``postgres``
(initdb refuses root)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(
            f"PostgreSQL's {name} is missing: install Debian's postgresql (make test does)"
        )
    return found[-1]


@dataclass
class Cluster:
    root: Path
    socket_dir: Path

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.socket_dir}"

    def psql(self, sql: str, database: str = "postgres") -> None:
        result = subprocess.run(
            ["psql", "-h", str(self.socket_dir), "-U", "postgres", "-d", database, "-v",
             "ON_ERROR_STOP=1", "-qc", sql],
            check=False, capture_output=True, text=True,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"psql {sql!r} failed: {result.stderr.strip()}")


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def start_cluster() -> Cluster:
    root = Path(tempfile.mkdtemp(prefix="estrategia-pg-", dir="/tmp"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
    subprocess.run(
        _as_postgres([_bin("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                      "-E", "UTF8", "--locale=C.UTF-8"]),
        check=True, capture_output=True,
    )  # fmt: skip
    options = f"-k {sock} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
    subprocess.run(
        _as_postgres([_bin("pg_ctl"), "-D", str(data), "-o", options, "-w", "-l",
                      str(root / "log"), "start"]),
        check=True, capture_output=True,
    )  # fmt: skip
    return Cluster(root, sock)


def stop_cluster(cluster: Cluster) -> None:
    subprocess.run(
        _as_postgres([_bin("pg_ctl"), "-D", str(cluster.root / "data"), "-m", "immediate",
                      "-w", "stop"]),
        check=False, capture_output=True,
    )  # fmt: skip
    shutil.rmtree(cluster.root, ignore_errors=True)
