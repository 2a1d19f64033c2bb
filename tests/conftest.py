"""Shared fixtures: every workflow test runs against a real SQLite file and a real
PostgreSQL database (a throwaway cluster), migrated with Alembic and loaded with the demo
data. Set ESTRATEGIA_TEST_BACKENDS=sqlite to skip PostgreSQL on a machine without it."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from signatures import PadesLevel
from signatures.pki import create_demo_pki
from signatures.services import DemoServices
from tests.pdfsig import Pdfsig
from tests.pg import Cluster, start_cluster, stop_cluster
from tests.support import free_port
from workflow.config import Settings
from workflow.demo.data import DemoIds, load_demo_data
from workflow.demo.pki import demo_signatories, demo_signing_environment
from workflow.identity.actors import Actor, load_actor
from workflow.migrate import upgrade
from workflow.rendering.converter import PdfConverter, WarmConverterPool
from workflow.runtime import Runtime, SigningEnvironment, build_runtime

BACKENDS = os.environ.get("ESTRATEGIA_TEST_BACKENDS", "sqlite,postgresql").split(",")
_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    cluster = start_cluster()
    try:
        yield cluster
    finally:
        stop_cluster(cluster)


@pytest.fixture(scope="session")
def shared_converter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PdfConverter]:
    """One warm LibreOffice for the whole session; it starts on the first conversion."""
    pool = WarmConverterPool(1, workdir=tmp_path_factory.mktemp("converter"), timeout=120)
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture(scope="session")
def signing_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SigningEnvironment]:
    """The demo PKI of the demo signatories, its TSA/OCSP/CRL on a free loopback port."""
    pki = create_demo_pki(
        tmp_path_factory.mktemp("pki"),
        signatories=demo_signatories(),
        base_url=f"http://127.0.0.1:{free_port()}",
    )
    env = demo_signing_environment(pki, level=PadesLevel.B_LTA, services=DemoServices(pki).start())
    try:
        yield env
    finally:
        env.close()


@pytest.fixture(scope="session")
def pdfsig_app(tmp_path_factory: pytest.TempPathFactory, signing_env: SigningEnvironment) -> Pdfsig:
    """poppler's pdfsig trusting the root of the application's demo PKI."""
    assert signing_env.demo_pki is not None
    return Pdfsig(tmp_path_factory.mktemp("pdfsig"), signing_env.demo_pki.cert_path("root"))


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    url = ""
    if request.param == "postgresql":
        cluster: Cluster = request.getfixturevalue("pg_cluster")
        name = f"t{next(_counter)}"
        cluster.psql(f"CREATE DATABASE {name}")
        url = cluster.url(name)
    return Settings(
        var_dir=tmp_path / "var",
        storage={"database_url": url},
        secret_key="test-secret-for-sessions",
    )


@pytest.fixture
def rt(
    settings: Settings, shared_converter: PdfConverter, signing_env: SigningEnvironment
) -> Iterator[Runtime]:
    """A migrated, empty database and its runtime."""
    upgrade(settings)
    runtime = build_runtime(settings, converter=shared_converter, signing=signing_env)
    try:
        yield runtime
    finally:
        runtime.close()


@pytest.fixture
def demo(rt: Runtime) -> DemoIds:
    return load_demo_data(rt)


@pytest.fixture
def actors(rt: Runtime, demo: DemoIds) -> dict[str, Actor]:
    """The demo people as actors: prezes, recenzent, autor, archiwista, prezydent, wojt."""
    with rt.sessions() as session:
        return {key: load_actor(session, uid) for key, uid in demo.people.items()}
