"""Who picks the signing environment: the edge, production or the demo wiring."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from signatures import PadesLevel
from tests.support import free_port
from workflow.config import Settings
from workflow.demo.pki import open_demo_signing_environment
from workflow.errors import ErrorCode, InvalidInput, NotPermitted
from workflow.runtime import build_runtime
from workflow.signing.trust import configured_trust, open_signing_environment
from workflow.web.app import default_signing_factory


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(var_dir=tmp_path / "var", secret_key="x" * 32, **values)  # type: ignore[arg-type]


def test_the_web_app_factory_picks_the_demo_wiring_only_in_demo_mode(tmp_path: Path) -> None:
    assert default_signing_factory(_settings(tmp_path)) is open_demo_signing_environment
    production = _settings(tmp_path, signing={"demo": False})
    assert default_signing_factory(production) is open_signing_environment


def test_production_opens_no_demo_and_wants_roots(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as refused:
        open_signing_environment(_settings(tmp_path))
    assert (refused.value.field, refused.value.code) == (
        "demo",
        ErrorCode.DEMO_ENVIRONMENT_ELSEWHERE,
    )
    with pytest.raises(InvalidInput) as refused:
        open_signing_environment(_settings(tmp_path, signing={"demo": False}))
    assert (refused.value.field, refused.value.code) == (
        "trust_roots",
        ErrorCode.TRUST_ROOTS_REQUIRED,
    )


def test_a_runtime_without_a_signing_environment_says_so(tmp_path: Path) -> None:
    rt = build_runtime(_settings(tmp_path))
    try:
        with pytest.raises(RuntimeError, match="signing_factory"):
            _ = rt.signing
    finally:
        rt.close()


def test_demo_mode_makes_the_pki_serves_it_and_holds_only_signatories_keys(
    tmp_path: Path,
) -> None:
    settings = _settings(tmp_path, signing={"demo_services_port": free_port()})
    with pytest.raises(InvalidInput) as refused:
        configured_trust(settings)  # nothing made yet: verifying needs no new PKI
    assert refused.value.code == ErrorCode.DEMO_PKI_MISSING
    assert "estrategia pki init" in refused.value.message("pl")
    rt = build_runtime(settings, signing_factory=open_demo_signing_environment)
    try:
        env = rt.signing
        assert env.level is PadesLevel.B_LTA
        assert env.demo_pki is not None
        assert env.services is not None and env.services.tsa_url
        httpx.get(env.services.tsa_url, timeout=5)  # served: any HTTP answer will do
        env.demo_key("prezes@e-izba.demo")
        with pytest.raises(NotPermitted):
            env.demo_key("autor@e-izba.demo")  # an author signs nothing
        roots = configured_trust(settings).trust_roots  # the PKI the demo made
        assert [c.dump() for c in roots] == [c.dump() for c in env.trust.trust_roots]
    finally:
        rt.close()
    with pytest.raises(httpx.TransportError):
        httpx.get(env.services.tsa_url, timeout=2)  # the services stopped with the runtime
