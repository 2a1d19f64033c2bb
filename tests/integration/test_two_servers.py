"""Real processes, as an installation runs them (issue 8, "Tests").

PostgreSQL (one throwaway cluster, tests/pg.py): ``estrategia db upgrade`` and ``db
seed-demo`` once, then two app servers (``estrategia serve``, embedded worker off) and two
``estrategia worker`` processes, started once for the module and stopped at its end. A
document goes through its whole lifecycle with requests alternating between the servers;
a worker is killed with SIGKILL in the middle of a render job and the other one finishes
it; a submit racing the render job still gives one rendition; a logout on one server ends
the session on the other, and failed logins on both count together. SQLite (first, its
server stopped before the PostgreSQL stack starts): the same lifecycle on one server with
its embedded worker.

Nothing is mocked. The kill is made deterministic with the database itself: the test holds
a lock on ``renditions``, so the worker that took the render job has converted the PDF and
waits inside its own transaction, in the ``doing`` state, until it is killed; its
connection's ``application_name`` (``estrategia:<pid>``) names the process.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from signatures.pki import DemoPki
from tests.conftest import BACKENDS
from tests.pg import Cluster
from tests.support import free_port
from workflow.demo.data import DEMO_PASSWORD, PEOPLE
from workflow.jobs.queue import SWEEP_TASK

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

API = "/api/v1"
EMAILS = {p.key: p.email for p in PEOPLE}
ESTRATEGIA = str(Path(sys.executable).with_name("estrategia"))
ROOT = Path(__file__).resolve().parents[2]
GRACE_S = 20.0
"""How long a stopped process gets to end before its process group is killed."""

NOTIFICATIONS = {
    "notify_reviewers", "notify_authors", "notify_next_signatory", "notify_all_signed",
}  # fmt: skip

needs_postgres = pytest.mark.skipif(
    "postgresql" not in BACKENDS, reason="ESTRATEGIA_TEST_BACKENDS excludes PostgreSQL"
)


def _wait(condition: Callable[[], Any], what: str, within: float = 120.0) -> Any:
    """Poll ``condition`` until it returns something true (returned); bounded."""
    deadline = time.monotonic() + within
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:g} s waiting for {what}")
        time.sleep(0.2)


# -- the processes ---------------------------------------------------------------------


@dataclass
class Stack:
    """The processes of one installation and how to reach them."""

    env: dict[str, str]
    var_dir: Path
    logs: Path
    database_url: str
    servers: list[str] = field(default_factory=list)
    """Base URLs, http://127.0.0.1:port."""
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [ESTRATEGIA, *args], env=self.env, cwd=ROOT, capture_output=True, text=True,
            timeout=300, check=False,
        )  # fmt: skip
        if check and result.returncode != 0:
            raise AssertionError(
                f"estrategia {' '.join(args)}: exit {result.returncode}\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        """``estrategia -v ARGS`` in its own process group, its output in logs/NAME.log."""
        with (self.logs / f"{name}.log").open("ab") as log:
            proc = subprocess.Popen(
                [ESTRATEGIA, "-v", *args], env=self.env, cwd=ROOT, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self.processes[name] = proc
        return proc

    def start_servers(self, *names: str) -> list[str]:
        """Start the servers at once, then wait until each answers /ready (database,
        converter and queue); their base URLs, also appended to ``servers``."""
        started = []
        for name in names:
            port = free_port()
            proc = self.start(name, "serve", "--host", "127.0.0.1", "--port", str(port))
            started.append((name, proc, f"http://127.0.0.1:{port}"))
        for name, proc, url in started:

            def ready(name: str = name, proc: Any = proc, url: str = url) -> bool:
                if proc.poll() is not None:
                    raise AssertionError(f"{name} exited {proc.returncode}: {self.log(name)}")
                try:
                    return httpx.get(f"{url}/ready", timeout=5).status_code == 200
                except httpx.HTTPError:
                    return False

            _wait(ready, f"{name} to be ready", within=120)
            self.servers.append(url)
        return [url for _, _, url in started]

    def start_worker(self, name: str) -> subprocess.Popen[bytes]:
        return self.start(name, "worker", "--name", name)

    def workers(self) -> dict[str, subprocess.Popen[bytes]]:
        return {n: p for n, p in self.processes.items() if n.startswith("worker")}

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")[-4000:]

    def stop_all(self) -> None:
        """SIGTERM to every process group, then SIGKILL to what is left after the grace
        period (LibreOffice children included): nothing outlives the module."""
        for proc in self.processes.values():
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + GRACE_S
        for proc in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
        for proc in self.processes.values():
            _signal_group(proc, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)

    def jobs(self) -> list[dict[str, Any]]:
        listed: list[dict[str, Any]] = json.loads(
            self.cli("jobs", "list", "--json", "--limit", "1000").stdout
        )
        return listed

    def sql(self, query: str, **params: Any) -> list[Any]:
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                return list(conn.execute(text(query), params).all())
        finally:
            engine.dispose()


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)  # start_new_session: its group id is its pid


def _environment(var_dir: Path, database_url: str, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESTRATEGIA_")}
    env.update(
        ESTRATEGIA_DATABASE_URL=database_url,
        ESTRATEGIA_VAR_DIR=str(var_dir),
        ESTRATEGIA_SECRET_KEY="two-servers-test-secret",
        ESTRATEGIA_DEMO_SERVICES_PORT=str(free_port()),  # not 8765: another run may hold it
        ESTRATEGIA_CONVERTER_PROCESSES="1",
        ESTRATEGIA_LOGIN_MAX_FAILURES="3",
        ESTRATEGIA_JOBS_POLL_S="0.2",
        ESTRATEGIA_JOBS_HEARTBEAT_S="0.5",
        ESTRATEGIA_JOBS_STALLED_AFTER_S="3",
        ESTRATEGIA_JOBS_STALLED_SWEEP_CRON="* * * * * */1",
        # The hourly and nightly checks would only add records of their own.
        ESTRATEGIA_JOBS_SCHEDULES=json.dumps(
            {"audit.verify": "", "timestamps.renew": "", "blobs.gc": ""}
        ),
    )
    env.update(more)
    return env


def _scratch(name: str) -> Path:
    """A folder of our own (pytest's numbered folders are pruned by other test runs on
    the same machine, which would pull the var dir from under the running processes)."""
    return Path(tempfile.mkdtemp(prefix=f"estrategia-{name}-", dir="/tmp"))


def _remove(root: Path) -> None:
    """Gone at the end, unless ESTRATEGIA_TEST_KEEP is set (to read the process logs)."""
    if os.environ.get("ESTRATEGIA_TEST_KEEP"):
        print(f"kept {root}", file=sys.stderr)
    else:
        shutil.rmtree(root, ignore_errors=True)


def _installed(stack: Stack) -> Stack:
    stack.logs.mkdir(parents=True, exist_ok=True)
    stack.cli("db", "upgrade")
    seeded = stack.cli("db", "seed-demo")
    assert "Demo logins" in seeded.stdout
    return stack


@pytest.fixture(scope="module")
def pg_stack(pg_cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Two app servers and two workers on one PostgreSQL database."""
    pg_cluster.psql("CREATE DATABASE two_servers")
    root = _scratch("two-servers")
    url = pg_cluster.url("two_servers")
    stack = Stack(
        env=_environment(root / "var", url, ESTRATEGIA_JOBS_EMBEDDED_WORKER="false"),
        var_dir=root / "var",
        logs=root / "logs",
        database_url=url,
    )
    try:
        _installed(stack)
        stack.start_worker("worker-1")
        stack.start_worker("worker-2")
        stack.start_servers("server-a", "server-b")
        yield stack
    finally:
        stack.stop_all()
        _remove(root)


@pytest.fixture
def sqlite_stack() -> Iterator[Stack]:
    """One app server on SQLite with its embedded worker, and no other process (stopped
    after its test, before the PostgreSQL stack starts: two shared cores)."""
    root = _scratch("one-server-sqlite")
    url = f"sqlite:///{root / 'var' / 'estrategia.sqlite3'}"
    stack = Stack(env=_environment(root / "var", url), var_dir=root / "var",
                  logs=root / "logs", database_url=url)  # fmt: skip
    try:
        _installed(stack)
        stack.start_servers("server")
        yield stack
    finally:
        stack.stop_all()
        _remove(root)


# -- people and documents over HTTP ------------------------------------------------------


class Person:
    """One demo person's browser: one cookie jar, which both servers accept (a cookie is
    not bound to a port); ``on(server)`` sends the next request there."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.client = httpx.Client(headers={"Accept-Language": "en"}, timeout=120)

    def login(self, server: str) -> Person:
        r = self.client.post(
            f"{server}{API}/auth/login", json={"email": EMAILS[self.key], "password": DEMO_PASSWORD}
        )
        assert r.status_code == 200, r.text
        self.client.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        return self

    def get(self, server: str, path: str) -> httpx.Response:
        return self.client.get(f"{server}{API}{path}")

    def post(self, server: str, path: str, body: Any = None) -> httpx.Response:
        return self.client.post(f"{server}{API}{path}", json=body)

    def patch(self, server: str, path: str, body: Any) -> httpx.Response:
        return self.client.patch(f"{server}{API}{path}", json=body)

    def act(self, server: str, doc_id: int, action: str, **body: Any) -> dict[str, Any]:
        r = self.post(server, f"/documents/{doc_id}/actions/{action}", body or None)
        assert r.status_code == 200, f"{action} on {server}: {r.status_code} {r.text}"
        doc: dict[str, Any] = r.json()
        return doc

    def close(self) -> None:
        self.client.close()


@pytest.fixture
def people() -> Iterator[Callable[[str], Person]]:
    made: list[Person] = []

    def person(key: str) -> Person:
        made.append(Person(key))
        return made[-1]

    yield person
    for p in made:
        p.close()


LETTER_VALUES: dict[str, Any] = {
    "strategy_name": "e-Strategia Miasta Rybnika na lata 2026–2030",
    "preamble": (
        "Strony, działając w interesie mieszkańców i przedsiębiorców Rybnika, "
        "postanawiają współpracować przy przygotowaniu i wdrożeniu e-strategii."
    ),
    "goals": ["Cyfryzacja usług publicznych", "Rozwój kompetencji cyfrowych mieszkańców"],
    "cooperation_forms": ["Warsztaty dla urzędników", "Konsultacje eksperckie"],
    "valid_until": "2027-12-31",
}


def _create_letter(author: Person, server: str) -> dict[str, Any]:
    """The Rybnik letter of intent (tests/web/conftest.py), the ids read over HTTP."""
    orgs = {o["name"]: o["id"] for o in author.get(server, "/organisations").json()}
    staff = {p["full_name"]: p["id"] for p in author.get(server, "/people").json()}
    by_key = {p.key: p.full_name for p in PEOPLE}
    body = {
        "template": "list_intencyjny",
        "title": "List intencyjny w sprawie e-strategii Rybnika",
        "values": dict(LETTER_VALUES),
        "parties": [
            {"organisation_id": orgs["Izba Gospodarki Elektronicznej"]},
            {"organisation_id": orgs["Miasto Rybnik"]},
        ],
        "signatories": [
            {"user_id": staff[by_key["prezes"]]},
            {"user_id": staff[by_key["prezydent"]]},
        ],
    }
    r = author.post(server, "/documents", body)
    assert r.status_code == 201, r.text
    doc: dict[str, Any] = r.json()
    return doc


def _wait_for_pdf(person: Person, server: str, doc_id: int, number: int) -> bytes:
    """GET the version's PDF until it is there: 202 (pending) until a worker rendered it,
    then 200; any other answer fails at once."""
    url = f"/documents/{doc_id}/versions/{number}/pdf"

    def rendered() -> bytes | None:
        r = person.get(server, url)
        assert r.status_code in (200, 202), r.text
        if r.status_code == 202:
            assert r.json()["status"] == "pending"
            return None
        assert r.headers["content-type"] == "application/pdf"
        assert r.content.startswith(b"%PDF")
        return r.content

    pdf: bytes = _wait(rendered, f"version {number} of document {doc_id} to be rendered")
    return pdf


def _audit(person: Person, server: str, doc_id: int) -> list[dict[str, Any]]:
    r = person.get(server, f"/documents/{doc_id}/audit")
    assert r.status_code == 200, r.text
    records: list[dict[str, Any]] = r.json()
    return records


def carry_through_lifecycle(stack: Stack, people: Callable[[str], Person]) -> int:
    """The Rybnik letter from draft to archive, each request on the other server than the
    one before (one server: always that one); checks what must hold at the end."""
    a, b = stack.servers[0], stack.servers[-1]
    author = people("autor").login(a)
    reviewer = people("recenzent").login(b)

    doc = _create_letter(author, b)
    doc_id = doc["id"]
    _wait_for_pdf(author, a, doc_id, 1)  # rendered by a worker, not by the request
    author.act(a, doc_id, "submit")
    changes = reviewer.act(b, doc_id, "request_changes", reason="Proszę dodać cel o e-usługach.")
    assert changes["status"] == "changes_requested"
    edited = author.patch(
        a, f"/documents/{doc_id}",
        {"values": {"goals": [*LETTER_VALUES["goals"], "Rozwój e-usług"]},
         "seen_lock_version": changes["lock_version"], "note": "cel o e-usługach"},
    )  # fmt: skip
    assert edited.status_code == 200, edited.text
    assert edited.json()["current_version"]["number"] == 2
    _wait_for_pdf(reviewer, b, doc_id, 2)
    author.act(a, doc_id, "submit")
    assert reviewer.act(b, doc_id, "approve")["status"] == "approved"
    awaiting = author.act(a, doc_id, "request_signatures")
    assert awaiting["status"] == "awaiting_signatures"

    prezes = people("prezes").login(b)
    r = prezes.post(a, f"/documents/{doc_id}/signatures/demo-key",
                    {"pdf_sha256": awaiting["current_pdf_sha256"]})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "awaiting_signatures"

    # The Mayor signs on the other server through the external steps, as with a smart card.
    prezydent = people("prezydent").login(a)
    pki = DemoPki.load(stack.var_dir / "pki")
    chain = b"".join(pki.cert_path(n).read_bytes() for n in ("prezydent", "intermediate", "root"))
    step = prezydent.post(
        b, f"/documents/{doc_id}/signatures/external",
        {"pdf_sha256": r.json()["current_pdf_sha256"], "certificate_chain_pem": chain.decode()},
    )  # fmt: skip
    assert step.status_code == 201, step.text
    value = pki.sign_digest_as_card("prezydent", base64.b64decode(step.json()["digest_to_sign"]))
    done = prezydent.post(
        a, f"/documents/{doc_id}/signatures/external/{step.json()['session_id']}",
        {"signature_value": base64.b64encode(value).decode()},
    )  # fmt: skip
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "signed"

    archivist = people("archiwista").login(b)
    assert archivist.act(a, doc_id, "archive")["status"] == "archived"

    signed = prezydent.get(b, f"/documents/{doc_id}/signed.pdf")
    assert signed.status_code == 200
    signed_path = stack.logs / f"signed-{doc_id}.pdf"
    signed_path.write_bytes(signed.content)
    verified = stack.cli("verify", str(signed_path), "--trust", str(pki.cert_path("root")),
                         check=False)  # fmt: skip
    assert verified.returncode == 0, verified.stdout + verified.stderr

    # Every effect carried out once: the outbox is done, each notification sent once.
    def effects_done() -> list[Any] | None:
        rows = stack.sql(
            "SELECT id, effect, completed_at FROM outbox WHERE document_id = :d", d=doc_id
        )
        return rows if rows and all(r.completed_at is not None for r in rows) else None

    entries = _wait(effects_done, f"the effects of document {doc_id}")
    notes = {int(r.id) for r in entries if str(r.effect).lower() in NOTIFICATIONS}
    trail = _audit(author, a, doc_id)
    sent = [
        (rec["payload"]["outbox_id"], rec["payload"].get("recipient"))
        for rec in trail
        if rec["action"] == "notification.sent"
    ]
    assert len(sent) == len(set(sent)), sent  # one record per notification and recipient
    assert {outbox_id for outbox_id, _ in sent} == notes

    actions = [rec["action"] for rec in trail if rec["action"] != "notification.sent"]
    assert actions == [
        "document.created", "document.rendered", "document.submit", "document.request_changes",
        "document.edited", "document.rendered", "document.submit", "document.approve",
        "document.request_signatures", "document.sign", "document.signing_started",
        "document.sign", "archive.record", "document.archive",
    ], actions  # fmt: skip
    rendered = [rec for rec in trail if rec["action"] == "document.rendered"]
    assert [rec["payload"]["version"] for rec in rendered] == [1, 2]
    assert {rec["actor"] for rec in rendered} == {"system"}  # by a job, not in a request

    renditions = stack.sql(
        "SELECT v.number, count(r.id) FROM document_versions v "
        "LEFT JOIN renditions r ON r.version_id = v.id AND r.format = 'pdf' "
        "WHERE v.document_id = :d GROUP BY v.number ORDER BY v.number",
        d=doc_id,
    )
    assert [tuple(r) for r in renditions] == [(1, 1), (2, 1)]

    chain_ok = stack.cli("audit", "verify", check=False)
    assert chain_ok.returncode == 0, chain_ok.stdout + chain_ok.stderr
    return int(doc_id)


def _job_states(stack: Stack) -> Mapping[str, int]:
    counts: dict[str, int] = {}
    for j in stack.jobs():
        counts[j["state"]] = counts.get(j["state"], 0) + 1
    return counts


# -- SQLite: one server and its embedded worker -----------------------------------------


def test_lifecycle_on_sqlite_with_the_embedded_worker(
    sqlite_stack: Stack, people: Callable[[str], Person]
) -> None:
    carry_through_lifecycle(sqlite_stack, people)
    assert not [n for n in sqlite_stack.processes if n.startswith("worker")]
    assert set(_job_states(sqlite_stack)) <= {"succeeded"}


# -- PostgreSQL: two servers, two workers --------------------------------------------------


@needs_postgres
@pytest.mark.postgres
def test_lifecycle_alternating_between_two_servers(
    pg_stack: Stack, people: Callable[[str], Person]
) -> None:
    carry_through_lifecycle(pg_stack, people)


@needs_postgres
@pytest.mark.postgres
def test_logout_on_one_server_ends_the_session_on_the_other(
    pg_stack: Stack, people: Callable[[str], Person]
) -> None:
    a, b = pg_stack.servers
    author = people("autor").login(a)
    assert author.get(b, "/auth/me").status_code == 200
    copied = dict(author.client.cookies)  # what a copy of the browser's cookie jar holds
    r = author.post(a, "/auth/logout")
    assert r.status_code == 204, r.text
    with httpx.Client(cookies=copied, timeout=60) as stale:
        assert stale.get(f"{b}{API}/auth/me").status_code == 401
        assert stale.get(f"{a}{API}/auth/me").status_code == 401


@needs_postgres
@pytest.mark.postgres
def test_failed_logins_on_both_servers_count_together(pg_stack: Stack) -> None:
    a, b = pg_stack.servers
    wrong = {"email": EMAILS["wojt"], "password": "nie-to-haslo"}
    right = {"email": EMAILS["wojt"], "password": DEMO_PASSWORD}
    with httpx.Client(timeout=60) as client:
        answers = [client.post(f"{s}{API}/auth/login", json=wrong) for s in (a, b, a)]
        assert [r.status_code for r in answers] == [401, 401, 401]  # the limit is 3
        for server in (b, a):  # even the right password, on either server
            r = client.post(f"{server}{API}/auth/login", json=right)
            assert r.status_code == 429, r.text
            assert r.json()["code"] == "login_rate_limited"


@needs_postgres
@pytest.mark.postgres
def test_a_render_in_a_request_racing_the_job_gives_one_rendition(
    pg_stack: Stack, people: Callable[[str], Person]
) -> None:
    """Submit right after an edit: the request renders the PDF itself if the job has not
    (reviewers review the PDF) while a worker may be rendering it too; one wins."""
    a, b = pg_stack.servers
    author = people("autor").login(a)
    reviewer = people("recenzent").login(b)
    doc_id = _create_letter(author, b)["id"]
    for number in (1, 2, 3):
        if number > 1:
            r = author.patch(b, f"/documents/{doc_id}", {"values": {"goals": [f"Cel {number}"]}})
            assert r.status_code == 200, r.text
        submitted = author.act(a, doc_id, "submit")  # at once, on the other server
        assert submitted["current_version"]["number"] == number
        assert submitted["current_version"]["pdf_sha256"]
        reviewer.act(b, doc_id, "request_changes", reason=f"Runda {number}.")

    def effects_done() -> bool:
        rows = pg_stack.sql(
            "SELECT count(*) FROM outbox WHERE document_id = :d AND completed_at IS NULL",
            d=doc_id,
        )
        return rows[0][0] == 0

    _wait(effects_done, f"the render jobs of document {doc_id}")
    renditions = pg_stack.sql(
        "SELECT v.number, count(r.id) FROM document_versions v "
        "LEFT JOIN renditions r ON r.version_id = v.id AND r.format = 'pdf' "
        "WHERE v.document_id = :d GROUP BY v.number ORDER BY v.number",
        d=doc_id,
    )
    assert [tuple(r) for r in renditions] == [(1, 1), (2, 1), (3, 1)]
    rendered = [rec for rec in _audit(author, a, doc_id) if rec["action"] == "document.rendered"]
    assert sorted(rec["payload"]["version"] for rec in rendered) == [1, 2, 3]


@needs_postgres
@pytest.mark.postgres
def test_a_worker_killed_in_a_render_job_and_the_other_finishes_it(
    pg_stack: Stack, people: Callable[[str], Person]
) -> None:
    """Last in the module: one worker is gone after it. The job is found running through
    procrastinate's table, its worker through ``pg_stat_activity``; the survivor's
    stalled-job sweep (heartbeat 0.5 s, stalled after 3 s, swept every second) retries it."""
    a, b = pg_stack.servers
    author = people("autor").login(a)
    doc = _create_letter(author, b)
    doc_id = doc["id"]
    _wait_for_pdf(author, a, doc_id, 1)
    workers = {p.pid: (n, p) for n, p in pg_stack.workers().items() if p.poll() is None}
    assert len(workers) == 2

    engine = create_engine(pg_stack.database_url)
    try:
        with engine.connect() as lock:
            # Renders may convert, but not store: the one that takes the job waits inside
            # its transaction, its job running, until it is killed.
            lock.execute(text("LOCK TABLE renditions IN EXCLUSIVE MODE"))
            edited = author.patch(
                b, f"/documents/{doc_id}", {"values": {"valid_until": "2028-06-30"}}
            )
            assert edited.status_code == 200, edited.text
            assert edited.json()["current_version"]["number"] == 2

            def waiting_render() -> int | None:
                # From another connection: pg_stat_activity is a snapshot per transaction.
                rows = pg_stack.sql(
                    "SELECT application_name FROM pg_stat_activity WHERE wait_event_type = "
                    "'Lock' AND query ILIKE 'INSERT INTO renditions%'"
                )
                names = [r[0] for r in rows if str(r[0]).startswith("estrategia:")]
                return int(names[0].split(":")[1]) if len(names) == 1 else None

            victim_pid = _wait(waiting_render, "a worker to wait with its render", within=90)
            assert victim_pid in workers, f"{victim_pid} is not a worker: {workers}"
            (job_id,) = _wait(
                lambda: pg_stack.sql(
                    "SELECT id FROM procrastinate_jobs WHERE status = 'doing' "
                    "AND task_name = 'documents.render_pdf'"
                ),
                "the render job to be running",
            )[0]

            _, victim = workers[victim_pid]
            os.kill(victim_pid, signal.SIGKILL)
            victim.wait(timeout=30)
            lock.rollback()  # the lock goes; the dead worker's transaction never commits
    finally:
        engine.dispose()
    _signal_group(victim, signal.SIGKILL)  # its LibreOffice, orphaned

    pdf = _wait_for_pdf(author, b, doc_id, 2)
    assert pdf.startswith(b"%PDF")
    survivors = [p for p in pg_stack.workers().values() if p is not victim]
    assert all(p.poll() is None for p in survivors)

    def job_done() -> list[Any]:
        return pg_stack.sql(
            "SELECT attempts FROM procrastinate_jobs WHERE id = :j AND status = 'succeeded'",
            j=job_id,
        )

    _wait(job_done, f"job {job_id} to succeed")
    view = json.loads(pg_stack.cli("jobs", "show", str(job_id), "--json").stdout)
    assert view["state"] == "succeeded" and view["error"] is None
    assert view["attempts"] >= 1  # its first attempt died with its worker

    renditions = pg_stack.sql(
        "SELECT count(*) FROM renditions r JOIN document_versions v ON v.id = r.version_id "
        "WHERE v.document_id = :d AND v.number = 2",
        d=doc_id,
    )
    assert renditions[0][0] == 1
    rendered = [rec for rec in _audit(author, a, doc_id) if rec["action"] == "document.rendered"]
    assert [rec["payload"]["version"] for rec in rendered] == [1, 2]

    # Nothing lost: every job has run and succeeded (the stalled-job sweeps aside).
    def settled() -> bool:
        rows = pg_stack.sql(
            "SELECT DISTINCT status FROM procrastinate_jobs WHERE task_name <> :sweep",
            sweep=SWEEP_TASK,
        )
        return {str(r[0]) for r in rows} == {"succeeded"}

    _wait(settled, "every job to be done")
    assert set(_job_states(pg_stack)) == {"succeeded"}

    chain_ok = pg_stack.cli("audit", "verify", check=False)
    assert chain_ok.returncode == 0, chain_ok.stdout
