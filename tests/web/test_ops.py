"""Operations: /health, /ready, the request id and access log, and the opt-in /metrics."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import BACKENDS
from tests.pg import start_cluster, stop_cluster
from tests.web.conftest import API, Login
from workflow.config import OpsSettings, Settings
from workflow.logs import configured_logging
from workflow.migrate import upgrade
from workflow.rendering.converter import PdfConverter
from workflow.runtime import Runtime, build_runtime
from workflow.web import create_app
from workflow.web.readiness import ReadinessCheck, database_ready

DATABASE_ONLY = [ReadinessCheck("database", database_ready)]


def with_ops(settings: Settings, **ops: object) -> Settings:
    return settings.model_copy(update={"ops": OpsSettings(**ops)})  # type: ignore[arg-type]


@pytest.fixture
def captured_json_logs() -> Iterator[io.StringIO]:
    """What our one handler writes, as JSON lines, while the test runs."""
    stream = io.StringIO()
    with configured_logging(log_format="json", service=True, stream=stream):
        yield stream


def parsed(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


# -- /health ------------------------------------------------------------------------------


def test_health_answers_without_login_and_tells_nothing(anonymous: TestClient) -> None:
    for path in ("/health", "/healthz"):
        r = anonymous.get(path)
        assert r.status_code == 200
        assert r.json() == {"status": "ok"}
        assert "server" not in {k.lower() for k in r.headers}


# -- /ready -------------------------------------------------------------------------------


def test_ready_names_each_check(rt: Runtime) -> None:
    app = create_app(rt.settings, runtime=rt, readiness=DATABASE_ONLY)
    with TestClient(app) as client:
        r = client.get("/ready")
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ready", "checks": {"database": "ok"}}


@pytest.mark.slow
def test_ready_with_the_default_checks_starts_the_converter_once(
    rt: Runtime, shared_converter: PdfConverter
) -> None:
    with TestClient(create_app(rt.settings, runtime=rt)) as client:
        # The first probe may find LibreOffice still starting: it answers "timeout" then,
        # and the next probe waits on the same start.
        for _ in range(30):
            r = client.get("/ready")
            if r.status_code == 200:
                break
            assert r.json()["checks"]["converter"] == "timeout", r.text
        assert r.status_code == 200, r.text
        assert r.json()["checks"] == {"database": "ok", "converter": "ok", "queue": "ok"}
        pids = shared_converter.worker_pids()  # type: ignore[attr-defined]
        assert pids
        assert client.get("/ready").status_code == 200
        assert shared_converter.worker_pids() == pids  # type: ignore[attr-defined]


def _assert_not_ready(r: object, *, failed: list[str]) -> None:
    assert r.status_code == 503, r.text  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert body["code"] == "not_ready"
    assert body["params"] == {"failed": failed}
    assert body["checks"]["database"] == "failed"
    assert "database" in body["detail"]
    # Why it failed is for the log, not for the caller: no paths, hosts or versions.
    text = r.text  # type: ignore[attr-defined]
    assert "/" not in json.dumps(body["checks"])
    assert "sqlite" not in text.lower() and "psycopg" not in text.lower()


def test_ready_is_503_when_the_sqlite_file_is_unreadable(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path / "var", secret_key="test-secret-for-sessions")
    upgrade(settings)
    rt = build_runtime(settings)
    try:
        checks = [*DATABASE_ONLY, ReadinessCheck("other", lambda _rt: True)]
        app = create_app(settings, runtime=rt, readiness=checks)
        with TestClient(app, headers={"Accept-Language": "en"}) as client:
            assert client.get("/ready").status_code == 200
            rt.engine.dispose()  # as after any reconnect: open connections keep the old file
            database = tmp_path / "var" / "estrategia.sqlite3"
            database.write_bytes(b"this is not a database\n" * 512)
            r = client.get("/ready")
            _assert_not_ready(r, failed=["database"])
            assert r.json()["checks"]["other"] == "ok"
            assert r.headers["Retry-After"]
    finally:
        rt.close()


@pytest.mark.postgres
@pytest.mark.skipif("postgresql" not in BACKENDS, reason="ESTRATEGIA_TEST_BACKENDS")
def test_ready_is_503_when_postgresql_stops(tmp_path: Path) -> None:
    cluster = start_cluster()  # its own: this test stops it
    try:
        cluster.psql("CREATE DATABASE ready")
        settings = Settings(
            var_dir=tmp_path / "var",
            storage={"database_url": cluster.url("ready")},
            secret_key="test-secret-for-sessions",
        )
        upgrade(settings)
        rt = build_runtime(settings)
        try:
            app = create_app(settings, runtime=rt, readiness=DATABASE_ONLY)
            with TestClient(app, headers={"Accept-Language": "en"}) as client:
                assert client.get("/ready").status_code == 200
                stop_cluster(cluster)
                _assert_not_ready(client.get("/ready"), failed=["database"])
        finally:
            rt.close()
    finally:
        stop_cluster(cluster)


# -- request id and access log ------------------------------------------------------------


def test_a_sane_request_id_is_echoed_and_any_other_replaced(anonymous: TestClient) -> None:
    r = anonymous.get("/health", headers={"X-Request-ID": "lb-7f3a.42:x"})
    assert r.headers["X-Request-ID"] == "lb-7f3a.42:x"
    for insane in ("a b", "x" * 200, "<script>", ""):
        r = anonymous.get("/health", headers={"X-Request-ID": insane})
        assert re.fullmatch(r"[0-9a-f]{32}", r.headers["X-Request-ID"]), insane
    first = anonymous.get("/health").headers["X-Request-ID"]
    assert anonymous.get("/health").headers["X-Request-ID"] != first


def test_json_logs_carry_the_request_id_and_no_credentials(
    login: Login,
    clients: Callable[[], TestClient],
    letter: dict[str, object],
    captured_json_logs: io.StringIO,
) -> None:
    session = login("autor")
    cookie = next(iter(session.cookies.values()))
    csrf = session.headers["X-CSRF-Token"]
    issued = session.post(f"{API}/auth/tokens", json={"name": "raporty"}).json()
    token = issued["token"]
    bot = clients()
    bot.headers["Authorization"] = f"Bearer {token}"

    r = bot.get(f"{API}/documents/{letter['id']}", headers={"X-Request-ID": "probe-1234"})
    assert r.status_code == 200
    session.post(f"{API}/documents/{letter['id']}/comments", json={"body": "Uwaga"})
    bot.get(f"{API}/documents/999999")  # a 404
    bot.get("/no/such/route/est_looks_like_a_token_123456")

    lines = parsed(captured_json_logs)
    access = [line for line in lines if line["logger"] == "workflow.access"]
    mine = [line for line in access if line.get("request_id") == "probe-1234"]
    assert len(mine) == 1
    assert mine[0]["route"] == f"{API}/documents/{{document_id}}"
    assert mine[0]["path_params"] == {"document_id": str(letter["id"])}
    assert mine[0]["status"] == 200
    assert mine[0]["method"] == "GET"
    assert isinstance(mine[0]["duration_ms"], int | float)
    assert {"timestamp", "level", "message"} <= set(mine[0])
    assert all(line.get("request_id") for line in access)
    assert any(line["status"] == 404 and line["route"] == "<unmatched>" for line in access)

    text = captured_json_logs.getvalue()
    for secret in (cookie, csrf, token, token.removeprefix("est_"), "looks_like_a_token"):
        assert secret not in text


# -- /metrics -----------------------------------------------------------------------------


def test_metrics_are_off_by_default(anonymous: TestClient) -> None:
    r = anonymous.get("/metrics")
    assert r.status_code == 404
    assert r.json()["code"] == "route_not_found"


def test_metrics_count_requests_by_route_template(rt: Runtime, letter: dict[str, object]) -> None:
    app = create_app(with_ops(rt.settings, metrics=True), runtime=rt)
    with TestClient(app) as client:
        client.get(f"{API}/documents/{letter['id']}")  # 401: not logged in
        body = client.get("/metrics").text
    assert (
        'estrategia_http_requests_total{method="GET",'
        f'route="{API}/documents/{{document_id}}",status="401"}}'
    ) in body
    assert "estrategia_http_request_duration_seconds_bucket{" in body
    assert not re.search(r'route="[^"]*/documents/\d', body)  # one series per route


def test_metrics_want_the_token_when_one_is_set(rt: Runtime) -> None:
    app = create_app(with_ops(rt.settings, metrics=True, metrics_token="s3cret-scrape"), runtime=rt)
    with TestClient(app) as client:
        assert client.get("/metrics").status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert client.get("/metrics", headers=wrong).status_code == 401
        ok = client.get("/metrics", headers={"Authorization": "Bearer s3cret-scrape"})
    assert ok.status_code == 200
    assert ok.headers["content-type"].startswith("text/plain")


def test_metrics_include_the_collectors_of_the_app(rt: Runtime) -> None:
    from workflow.metrics import JobsCollector

    app = create_app(
        with_ops(rt.settings, metrics=True),
        runtime=rt,
        metrics_collectors=[lambda _rt: JobsCollector(lambda: {"todo": 3, "failed": 1})],
    )
    with TestClient(app) as client:
        body = client.get("/metrics").text
    assert 'estrategia_jobs{state="todo"} 3.0' in body
    assert 'estrategia_jobs{state="failed"} 1.0' in body


@pytest.mark.slow
def test_metrics_time_a_real_conversion(rt: Runtime) -> None:
    from docx import Document

    buffer = io.BytesIO()
    document = Document()
    document.add_paragraph("Zażółć gęślą jaźń")
    document.save(buffer)
    assert rt.converter.convert(buffer.getvalue()).startswith(b"%PDF")

    with TestClient(create_app(with_ops(rt.settings, metrics=True), runtime=rt)) as client:
        body = client.get("/metrics").text
    found = re.search(
        r'^estrategia_conversion_duration_seconds_count\{converter="warm",outcome="ok"\} (\S+)$',
        body,
        re.MULTILINE,
    )
    assert found is not None, body
    assert float(found.group(1)) >= 1


def test_web_threads_bounds_the_requests_worked_on_at_once_and_sizes_the_pool(
    tmp_path: Path,
) -> None:
    from anyio import to_thread

    settings = with_ops(
        Settings(var_dir=tmp_path / "var", secret_key="test-secret-for-sessions"), web_threads=3
    )
    upgrade(settings)
    rt = build_runtime(settings)
    try:
        # Every request the app works on at once, and each job, keeps its connection.
        assert rt.engine.pool.size() == 3 + settings.jobs.concurrency + 2  # type: ignore[attr-defined]
        with TestClient(create_app(settings, runtime=rt, readiness=DATABASE_ONLY)) as client:
            assert client.get("/ready").status_code == 200
            assert client.portal is not None
            limiter = client.portal.call(to_thread.current_default_thread_limiter)
            assert limiter.total_tokens == 3
    finally:
        rt.close()


def test_the_probes_answer_while_every_request_thread_is_busy(tmp_path: Path) -> None:
    from anyio import to_thread

    settings = with_ops(
        Settings(var_dir=tmp_path / "var", secret_key="test-secret-for-sessions"), web_threads=1
    )
    upgrade(settings)
    rt = build_runtime(settings)
    try:
        with TestClient(create_app(settings, runtime=rt, readiness=DATABASE_ONLY)) as client:
            assert client.portal is not None
            limiter = client.portal.call(to_thread.current_default_thread_limiter)
            slow_request = object()  # holds the only request thread, as a slow upload would
            client.portal.call(limiter.acquire_on_behalf_of, slow_request)
            probe = ThreadPoolExecutor(1)  # a probe that waited would otherwise hang the test
            try:
                assert limiter.available_tokens == 0
                health = probe.submit(client.get, "/health").result(timeout=20)
                healthz = probe.submit(client.get, "/healthz").result(timeout=20)
                ready = probe.submit(client.get, "/ready").result(timeout=20)
                assert health.json() == {"status": "ok"}
                assert healthz.status_code == 200
                assert ready.status_code == 200, ready.text
                assert ready.json()["checks"] == {"database": "ok"}
            finally:
                client.portal.call(limiter.release_on_behalf_of, slow_request)
                probe.shutdown()
    finally:
        rt.close()
