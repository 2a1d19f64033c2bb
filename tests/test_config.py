"""Settings: the documented ESTRATEGIA_ variables, grouped by area, and the old keywords."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsError

from workflow.config import ENVIRONMENT, Settings

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)


def test_every_variable_the_readme_documents_is_read() -> None:
    documented = set(re.findall(r"ESTRATEGIA_[A-Z0-9_]*[A-Z0-9]", README.read_text("utf-8")))
    documented.discard("ESTRATEGIA_TEST_BACKENDS")  # the test suite's own switch
    assert documented, "the README names no variable"
    assert documented <= set(ENVIRONMENT)


def test_the_documented_variables_configure_what_they_did(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    variables = {
        "ESTRATEGIA_DATABASE_URL": "postgresql+psycopg://user@/estrategia?host=/run/postgresql",
        "ESTRATEGIA_VAR_DIR": str(tmp_path / "state"),
        "ESTRATEGIA_SECRET_KEY": "k" * 40,
        "ESTRATEGIA_CONVERTER_PROCESSES": "4",
        "ESTRATEGIA_CONVERTER_TIMEOUT_S": "12.5",
        "ESTRATEGIA_DEMO": "false",
        "ESTRATEGIA_TSA_URL": "https://tsa.example/rfc3161",
        "ESTRATEGIA_TRUST_ROOTS": '["/etc/estrategia/root.pem", "/etc/estrategia/root2.pem"]',
        "ESTRATEGIA_TSA_TRUST_ROOTS": '["/etc/estrategia/tsa.pem"]',
        "ESTRATEGIA_SIGNATURE_LEVEL": "B-T",
        "ESTRATEGIA_DEMO_SERVICES_PORT": "9876",
        "ESTRATEGIA_MAX_UPLOAD_BYTES": "1024",
    }
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    s = Settings()
    assert s.storage.database_url == variables["ESTRATEGIA_DATABASE_URL"]
    assert s.effective_database_url == variables["ESTRATEGIA_DATABASE_URL"]
    assert s.var_dir == tmp_path / "state"
    assert s.blobs_dir == tmp_path / "state" / "blobs"
    assert s.pki_dir == tmp_path / "state" / "pki"
    assert s.effective_secret_key() == "k" * 40
    assert s.converter.processes == 4
    assert s.converter.timeout_s == 12.5
    assert s.signing.demo is False
    assert s.signing.tsa_url == "https://tsa.example/rfc3161"
    assert s.signing.trust_roots == (
        Path("/etc/estrategia/root.pem"),
        Path("/etc/estrategia/root2.pem"),
    )
    assert s.signing.tsa_trust_roots == (Path("/etc/estrategia/tsa.pem"),)
    assert s.signing.level == "B-T"
    assert s.signing.demo_services_port == 9876
    assert s.max_upload_bytes == 1024


def test_the_defaults_without_any_variable() -> None:
    s = Settings()
    assert s.var_dir == Path("var")
    assert s.effective_database_url.startswith("sqlite:///")
    assert s.signing.demo is True
    assert s.signing.level == "B-LTA"
    assert s.converter.processes == 1


def test_a_keyword_overrides_one_setting_of_a_group_and_keeps_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ESTRATEGIA_TSA_URL", "https://tsa.example/rfc3161")
    s = Settings(signing={"demo": False})  # type: ignore[arg-type]
    assert s.signing.demo is False
    assert s.signing.tsa_url == "https://tsa.example/rfc3161"


def test_an_old_flat_keyword_names_its_new_place() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(tsa_url="https://tsa.example", database_url="")  # type: ignore[call-arg]
    message = str(caught.value)
    assert "database_url is now storage.database_url" in message
    assert "tsa_url is now signing.tsa_url" in message


def test_a_wrong_value_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ESTRATEGIA_CONVERTER_PROCESSES", "0")
    with pytest.raises(ValidationError, match=r"converter\.processes"):
        Settings()


def test_a_list_that_is_not_json_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ESTRATEGIA_TRUST_ROOTS", "/etc/estrategia/root.pem")
    with pytest.raises(SettingsError, match="ESTRATEGIA_TRUST_ROOTS must be a JSON list"):
        Settings()


def test_settings_are_one_frozen_object() -> None:
    s = Settings()
    with pytest.raises(ValidationError):
        s.signing.demo = False  # type: ignore[misc]
