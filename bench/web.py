"""Benchmark: the pages under load: the dashboard and a document page, and the API's reads
``GET /api/v1/documents/{id}`` and ``GET /api/v1/documents?limit=20``, against the bare
``/health`` of the same server (the ceiling).

    .venv/bin/python bench/web.py [--documents 200] [--clients 20] [--requests 1000]
                                  [--seconds 30] [--profile DIR] [--server-workers N]
                                  [--var-dir DIR] [--only NAME]... [--web-threads N]

A real ``estrategia serve`` as ``make run`` starts it (tests/browser/server.py: SQLite in a
temporary var dir, demo data, the embedded worker, one app process unless
``--server-workers``), on 127.0.0.1 and a free port. Before it starts, ``--documents``
letters of intent are created through the use-cases (``create_document``, each rendered to
DOCX by the template engine as the pages do; no shortcut, 200 take about 20 s), and the
measured document gets five more versions (``edit_document``) and three comments; the
server then starts and the bench waits until its worker has finished the jobs those made
(the PDF renditions, about 2 minutes), so that they do not compete with the measurement.

Each endpoint is then loaded by ``--clients`` concurrent clients (asyncio + httpx, one
keep-alive connection each, each signed in through the login form as the author, who sees
every document): a warm-up, then ``--requests`` requests in all or ``--seconds``, whichever
ends first. The table gives requests/s, p50 and p95 latency, and the ratio of throughput to
``/health``'s. Targets (issue 9): p95 < 100 ms and >= 30% of the bare endpoint's throughput.
The CPU columns say where the time went: the server's CPU milliseconds per request (its
process and children, user + system, from ``/proc``; SQLite's work included, which a GIL
profile misses) and the load generator's own. When the two together near 2 cores x the
wall time, the machine, not the server, is the limit.
``--var-dir DIR``: populate DIR once and reuse it on later runs (its measured document's id
is kept in ``DIR/bench.json``): for trying changes to the server quickly.
``--profile DIR``: py-spy samples the server's busy threads during each page's load
(``DIR/<name>.txt``, collapsed stacks; the
top frames are printed; with ``--server-workers`` only the supervisor would be sampled).
Profiling slows the server: take the figures from a run without.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.server import cli, running_server  # noqa: E402
from tests.letters import letter_values  # noqa: E402
from workflow.config import Settings  # noqa: E402
from workflow.demo.data import DEMO_PASSWORD, load_demo_data  # noqa: E402
from workflow.documents.drafting import (  # noqa: E402
    PartyInput,
    SignatoryInput,
    create_document,
    edit_document,
)
from workflow.identity.actors import load_actor  # noqa: E402
from workflow.runtime import build_runtime  # noqa: E402

AUTHOR = "autor@e-izba.demo"
TARGET_P95_MS = 100.0
TARGET_RATIO = 0.30
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def populate(var_dir: Path, count: int) -> int:
    """``count`` letters of intent through the use-cases; the id of the measured one (the
    first, with six versions and comments)."""
    from workflow.documents.comments import add_comment  # the page's own use-case

    settings = Settings(var_dir=var_dir, jobs={"embedded_worker": False})
    rt = build_runtime(settings)
    try:
        demo = load_demo_data(rt)
        with rt.sessions() as session:
            author = load_actor(session, demo.people["autor"])
            reviewer = load_actor(session, demo.people["recenzent"])
        org, people = demo.organisations, demo.people
        values = letter_values()
        t0 = time.perf_counter()
        first = 0
        for i in range(count):
            doc = create_document(
                rt, actor=author, template_name="list_intencyjny",
                title=f"List intencyjny nr {i + 1} w sprawie e-strategii Miasta Rybnika",
                values={**values, "strategy_name": f"e-Strategia Rybnika, wariant {i + 1}"},
                parties=[PartyInput(org["eizba"]), PartyInput(org["rybnik"])],
                signatories=[SignatoryInput(people["prezes"]), SignatoryInput(people["prezydent"])],
            )  # fmt: skip
            first = first or doc.id
        for n in range(5):
            goals = [*values["goals"], f"cel dodany w wersji {n + 2}"]
            edit_document(
                rt, actor=author, document_id=first, values={**values, "goals": goals},
                note=f"poprawka {n + 1}",
            )  # fmt: skip
        for n in range(3):
            add_comment(rt, actor=reviewer, document_id=first, body=f"Uwaga {n + 1} recenzenta.")
        print(f"created {count} documents in {time.perf_counter() - t0:.1f} s", flush=True)
        return first
    finally:
        rt.close()


def wait_for_jobs(env: dict[str, str], within: float = 900.0) -> None:
    """Until the worker has no job to do or doing (the renditions of the new documents)."""
    deadline = time.monotonic() + within
    while True:
        jobs = json.loads(cli(env, "jobs", "list", "--json", "--limit", "100000"))
        busy = [j for j in jobs if j.get("status", j.get("state")) in ("todo", "doing")]
        if not busy:
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"jobs still pending after {within:g} s: {len(busy)}")
        print(f"  waiting for {len(busy)} background jobs...", flush=True)
        time.sleep(5)


async def sign_in(client: httpx.AsyncClient) -> None:
    form = await client.get("/login")
    token = _CSRF.search(form.text)
    assert token, form.text[:500]
    r = await client.post(
        "/login", data={"email": AUTHOR, "password": DEMO_PASSWORD, "next": "/",
                        "csrf_token": token[1]},
    )  # fmt: skip
    assert r.status_code == 303, (r.status_code, r.text[:500])


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` and its descendants (``/proc``; workers included)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # ended meanwhile
        child = int(stat.parent.name)
        parents[child] = int(fields[1])
        times[child] = (int(fields[11]) + int(fields[12])) / _TICK
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += times.get(current, 0.0)
        todo.extend(c for c, parent in parents.items() if parent == current)
    return total


def own_cpu_seconds() -> float:
    usage = os.times()
    return usage.user + usage.system


@dataclass(frozen=True)
class Result:
    name: str
    path: str
    requests: int
    seconds: float
    latencies_ms: list[float]
    statuses: Counter[int]
    server_cpu_s: float
    client_cpu_s: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def load(
    clients: list[httpx.AsyncClient],
    name: str,
    path: str,
    total: int,
    seconds: float,
    pid: int,
) -> Result:
    # Warm-up: every client a few requests (connections open, caches warm).
    await asyncio.gather(*(c.get(path) for c in clients for _ in range(3)))
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    issued = 0
    server_cpu, client_cpu = cpu_seconds(pid), own_cpu_seconds()
    t0 = time.perf_counter()
    deadline = t0 + seconds

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal issued
        while issued < total and time.perf_counter() < deadline:
            issued += 1
            start = time.perf_counter()
            r = await client.get(path)
            latencies.append((time.perf_counter() - start) * 1000)
            statuses[r.status_code] += 1

    await asyncio.gather(*(client_loop(c) for c in clients))
    elapsed = time.perf_counter() - t0
    server_cpu, client_cpu = cpu_seconds(pid) - server_cpu, own_cpu_seconds() - client_cpu
    return Result(name, path, len(latencies), elapsed, latencies, statuses, server_cpu, client_cpu)


def profiled(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes]:
    py_spy = str(Path(sys.executable).with_name("py-spy"))
    return subprocess.Popen(
        [py_spy, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "200",
         "--format", "raw", "--output", str(out), "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def top_frames(raw: Path, limit: int = 15) -> list[tuple[str, float]]:
    """The frames (any depth) present in the most samples: where the time goes."""
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        total += n
        for frame in set(stack.split(";")):
            if any(k in frame for k in ("(workflow/", "(signatures/", "sqlalchemy/", "jinja2/")):
                inclusive[frame] += n
    return [(f, 100 * c / total) for f, c in inclusive.most_common(limit)] if total else []


async def run(url: str, doc_id: int, args: argparse.Namespace, pid: int) -> list[Result]:
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [
        httpx.AsyncClient(base_url=url, limits=limits, timeout=60, follow_redirects=False)
        for _ in range(args.clients)
    ]
    try:
        for c in clients:
            await sign_in(c)
        cases = [
            ("bare /health (ceiling)", "/health"),
            ("dashboard", "/"),
            ("document page", f"/documents/{doc_id}"),
            ("API document", f"/api/v1/documents/{doc_id}"),
            ("API list of 20", "/api/v1/documents?limit=20"),
        ]
        results = []
        for name, path in cases:
            if args.only and path != "/health" and not any(o in name for o in args.only):
                continue
            spy = None
            if args.profile and path != "/health":
                stem = re.sub(r"[^A-Za-z0-9]+", "-", path.strip("/")) or "dashboard"
                out = Path(args.profile) / f"{stem}.txt"
                spy = profiled(pid, args.seconds, out)
            results.append(await load(clients, name, path, args.requests, args.seconds, pid))
            if spy:
                spy.wait(timeout=args.seconds + 30)
        return results
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=200)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=1000, help="per endpoint, at most")
    parser.add_argument("--seconds", type=float, default=30.0, help="per endpoint, at most")
    parser.add_argument("--profile", metavar="DIR", help="py-spy the server during the pages")
    parser.add_argument("--server-workers", type=int, default=1, help="serve --workers N")
    parser.add_argument("--var-dir", metavar="DIR", help="populate once, reuse after")
    parser.add_argument("--web-threads", type=int, help="ESTRATEGIA_WEB_THREADS of the server")
    parser.add_argument(
        "--only", action="append", metavar="NAME", help="only the endpoints so named (+ bare)"
    )
    args = parser.parse_args()
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)

    var_dir = Path(args.var_dir or tempfile.mkdtemp(prefix="bench-web-")) / "var"
    kept = var_dir.parent / "bench.json"
    measured: dict[str, int] = json.loads(kept.read_text()) if kept.exists() else {}

    def before_start(env: dict[str, str]) -> None:
        if "doc" not in measured:
            measured["doc"] = populate(var_dir, args.documents)
            kept.write_text(json.dumps(measured))

    serve_args = ("--workers", str(args.server_workers)) if args.server_workers > 1 else ()
    more = {"ESTRATEGIA_WEB_THREADS": str(args.web_threads)} if args.web_threads else {}
    with running_server(
        var_dir, before_start=before_start, serve_args=serve_args, **more
    ) as server:
        wait_for_jobs(server.env)
        print(
            f"server {server.url} (pid {server.pid}), {args.clients} clients, "
            f"at most {args.requests} requests or {args.seconds:g} s per endpoint",
            flush=True,
        )
        results = asyncio.run(run(server.url, measured["doc"], args, server.pid))

    ceiling = results[0].rps
    print()
    print(f"{'endpoint':<26}{'requests':>9}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}"
          f"{'vs bare':>9}{'server CPU ms/req':>19}{'client':>8}  status codes")  # fmt: skip
    for r in results:
        print(f"{r.name:<26}{r.requests:>9}{r.rps:>9.1f}{r.pct(0.50):>9.1f}{r.pct(0.95):>9.1f}"
              f"{r.rps / ceiling:>8.0%}{1000 * r.server_cpu_s / r.requests:>19.2f}"
              f"{1000 * r.client_cpu_s / r.requests:>8.2f}  {dict(r.statuses)}")  # fmt: skip
    print()
    for r in results[1:]:
        ok = r.pct(0.95) < TARGET_P95_MS and r.rps / ceiling >= TARGET_RATIO
        print(f"{r.name}: p95 {r.pct(0.95):.0f} ms (< {TARGET_P95_MS:g}), "
              f"{r.rps / ceiling:.0%} of bare (>= {TARGET_RATIO:.0%}): "
              f"{'met' if ok else 'NOT met'}")  # fmt: skip
    if args.profile:
        for raw in sorted(Path(args.profile).glob("*.txt")):
            print(f"\n{raw.name}: frames in the most samples (inclusive)")
            for frame, share in top_frames(raw):
                print(f"  {share:5.1f}%  {frame}")


if __name__ == "__main__":
    main()
