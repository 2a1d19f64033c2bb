"""Settings: read once from the environment, grouped by area, and passed down.

One ``Settings`` is built at the edge (the CLI's ``main``, the web app factory, a test) and
passed down; nothing reads the environment anywhere else. The areas that have settings get
a group each: ``settings.identity``, ``settings.signing``, ``settings.converter``,
``settings.storage``; what the
whole installation shares (``var_dir``, ``secret_key``, ``templates_dir``,
``max_upload_bytes``) stays at the top. An area that needs settings of its own (search,
mail, jobs) adds a frozen group model, a field of ``Settings`` and its variables to
``ENVIRONMENT``.

The environment variables keep their documented flat names (README, "Configuration"):
``ENVIRONMENT`` maps each to its place, e.g. ``ESTRATEGIA_TSA_URL`` to
``settings.signing.tsa_url``. Lists are JSON (``ESTRATEGIA_TRUST_ROOTS='["root.pem"]'``).
Code that passes a setting by its old flat keyword (``Settings(tsa_url=...)``) is told its
new place. Override part of a group with a dict (``Settings(signing={"demo": False})``):
the rest of the group still comes from the environment.

The local state under ``var_dir`` is private to the account that runs the application,
whatever its umask: ``private_dir`` (0700) and ``private_file`` (0600) set the modes
explicitly, and tighten what an older version left readable to others.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """``path`` as a directory only its owner can enter (missing parents made as usual)."""
    path.mkdir(parents=True, exist_ok=True)
    if stat.S_IMODE(path.stat().st_mode) != PRIVATE_DIR_MODE:
        os.chmod(path, PRIVATE_DIR_MODE)
    return path


def private_file(path: Path, mode: int = PRIVATE_FILE_MODE) -> Path:
    """``path`` created empty if missing (never truncated), readable by its owner only."""
    fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW, mode)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) != mode:
            os.fchmod(fd, mode)
    finally:
        os.close(fd)
    return path


class SigningSettings(BaseModel):
    """Whom the installation trusts, its TSA, the level of new signatures, demo mode."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    demo: bool = Field(
        default=True,
        description="Demo PKI under var_dir with its TSA/OCSP/CRL served on loopback, and "
        "server-held demo keys for the demo signatories. Off in production.",
    )
    demo_services_port: int = Field(default=8765, description="Port of the demo TSA/OCSP/CRL.")
    level: str = Field(default="B-LTA", description="PAdES level of new signatures.")
    tsa_url: str = Field(default="", description="Production: the TSP's RFC 3161 endpoint.")
    trust_roots: tuple[Path, ...] = Field(
        default=(), description="Production: PEM files of trusted roots for signers."
    )
    tsa_trust_roots: tuple[Path, ...] = Field(
        default=(), description="Production: PEM certificates trusted as timestamp anchors."
    )
    csc_url: str = Field(
        default="",
        description="Remote signing: base URL of the trust service provider's CSC API "
        "(empty: the signature page does not offer remote signing).",
    )
    csc_api_version: Literal["v1", "v2"] = Field(default="v2", description="CSC API version.")
    csc_username: str = Field(default="", description="CSC service login (auth/login).")
    csc_password: str = Field(default="", repr=False, description="CSC service password.")
    csc_token: str = Field(
        default="", repr=False, description="CSC bearer token instead of a login."
    )


class ConverterSettings(BaseModel):
    """DOCX -> PDF/A with LibreOffice kept warm."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    processes: int = Field(
        default=1, ge=1, le=16, description="Warm LibreOffice processes; one per core."
    )
    timeout_s: float = Field(default=60.0, gt=0, description="Seconds for one conversion.")
    soffice: str = "soffice"
    uno_python: str = "/usr/bin/python3"


class OpsSettings(BaseModel):
    """Operations: the log format, the Prometheus endpoint, the readiness probe."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    log_format: Literal["text", "json"] = Field(
        default="text", description="Log lines for people, or one JSON object per line."
    )
    metrics: bool = Field(
        default=False,
        description="Serve Prometheus metrics at /metrics. Never expose it publicly: block it "
        "at the reverse proxy, or set metrics_token.",
    )
    metrics_token: str = Field(
        default="", description="If set, /metrics wants `Authorization: Bearer <token>`."
    )
    ready_cache_s: float = Field(
        default=5.0, ge=0, description="Seconds /ready reuses the converter's last check."
    )
    ready_timeout_s: float = Field(
        default=3.0, gt=0, description="Seconds /ready waits for its checks."
    )
    web_threads: int = Field(
        default=2,
        ge=1,
        le=200,
        description="Requests one app process works on at once (its thread pool); the rest "
        "wait their turn. Python runs one thread at a time: more threads only interleave "
        "requests, each then takes longer (bench/web.py: a document page 3.5 ms of CPU "
        "with 1, 4.2 with 2, 4.5 with 4). Two, so that one slow request (a remote TSA or "
        "signing service) does not stop the pages; more processes (serve --workers) for "
        "more cores.",
    )


class IdentitySettings(BaseModel):
    """Login sessions (kept in the database) and the login throttle."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    session_idle_timeout_s: int = Field(
        default=2 * 60 * 60, ge=60, description="A session unused this long ends."
    )
    session_max_age_s: int = Field(
        default=8 * 60 * 60, ge=60, description="A session ends this long after login."
    )
    secure_cookies: bool = Field(
        default=False,
        description="Mark the session cookie Secure even when the app sees plain http (set "
        "it behind a proxy that terminates TLS); over https it is Secure anyway.",
    )
    login_max_failures: int = Field(
        default=5, ge=1, description="Failed logins of one account in the window that lock it."
    )
    login_max_failures_per_client: int = Field(
        default=30, ge=1, description="Failed logins from one address in the window that lock it."
    )
    login_failure_window_s: int = Field(
        default=15 * 60, ge=1, description="Seconds over which failed logins are counted."
    )
    login_lockout_s: int = Field(
        default=15 * 60, ge=1, description="Seconds a locked account or address is refused."
    )


class StorageSettings(BaseModel):
    """Where documents and their records live."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    database_url: str = Field(
        default="", description="SQLAlchemy URL; empty means a SQLite file under var_dir."
    )
    blob_backend: Literal["filesystem", "database"] = Field(
        default="filesystem",
        description="Where stored files live: a write-once folder under var_dir, or the "
        "database itself (no shared disk needed by several app servers).",
    )
    preview_keep_days: int = Field(
        default=30,
        ge=1,
        description="Days a drafting preview (page images) is kept; asked for again, it is "
        "rendered again (job documents.prune, daily).",
    )


class JobsSettings(BaseModel):
    """The job queue (``workflow.jobs``): its workers and the stalled-job sweep."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    embedded_worker: bool | None = Field(
        default=None,
        description="Run a worker inside `estrategia serve`; empty: yes on SQLite, no on "
        "PostgreSQL (run `estrategia worker` processes there).",
    )
    concurrency: int = Field(default=2, ge=1, le=64, description="Jobs one worker runs at once.")
    poll_s: float = Field(default=5.0, gt=0, description="Seconds between polls for new jobs.")
    heartbeat_s: float = Field(default=10.0, gt=0, description="Seconds between heartbeats.")
    stalled_after_s: float = Field(
        default=60.0,
        gt=0,
        description="A running job whose worker sent no heartbeat for this long is retried.",
    )
    stalled_sweep_cron: str = Field(
        default="* * * * *", description="When to look for stalled jobs (cron; 6th field: s)."
    )
    schedules: dict[str, str] = Field(
        default_factory=dict,
        description="Job name -> cron, overriding the job's own schedule ('' turns it off).",
    )


class MailSettings(BaseModel):
    """Notifications by mail (``workflow.notifications``): the SMTP server, the sender, the
    reminders. With no ``host`` every mail goes to the log instead (nothing is sent)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field(default="", description="SMTP server; empty: mails go to the log.")
    port: int = Field(default=587, ge=1, le=65535, description="SMTP port (587, 465, 25).")
    security: Literal["starttls", "ssl", "none"] = Field(
        default="starttls",
        description="STARTTLS after connecting (587), TLS from the start (465), or plain "
        "(a relay on the same machine only).",
    )
    username: str = Field(default="", description="SMTP login; empty: no AUTH.")
    password: str = Field(default="", repr=False, description="SMTP password.")
    timeout_s: float = Field(default=30.0, gt=0, description="Seconds for each SMTP step.")
    ca_file: str = Field(
        default="",
        description="PEM file of the CA that signed the server's certificate (a private "
        "relay); empty: the system's CAs.",
    )
    sender: str = Field(
        default="estrategia@localhost", description="The From address of every mail."
    )
    sender_name: str = Field(
        default="e-Izba \u2014 estrategia", description="The From display name."
    )
    reminder_after_days: float = Field(
        default=3.0,
        ge=0,
        description="Remind a signatory whose turn has waited this many days, once per that "
        "many days (0: no reminders).",
    )


class RetentionDefault(BaseModel):
    """Where a kind of document goes in the archive unless the archivist says otherwise."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    jrwa_symbol: str = Field(pattern=r"^\d{1,4}$", description="JRWA symbol (1-4 digits).")
    category: Literal["A", "B", "BE", "BC"] = Field(description="Archival category.")
    retention_years: int | None = Field(
        default=None, ge=1, le=200, description="Years after closing (B, BE, BC); none for A."
    )


def _default_scheme() -> dict[str, RetentionDefault]:
    # e-Izba keeps its own retention scheme (domain.md); these are placeholders of it, not
    # legal facts: category A, so that nothing becomes due for disposal until e-Izba's
    # archivist (or ESTRATEGIA_ARCHIVE_SCHEME) sets the category its instruction gives.
    return {
        kind: RetentionDefault(jrwa_symbol="0170", category="A")
        for kind in ("letter_of_intent", "e_strategy")
    }


class ArchiveSettings(BaseModel):
    """The archive (``workflow.archive``): e-Izba's retention scheme per document kind, the
    defaults of a record's JRWA symbol and category; the archivist overrides them per
    record."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scheme: dict[str, RetentionDefault] = Field(
        default_factory=_default_scheme,
        description="Document kind -> {jrwa_symbol, category, retention_years} (JSON).",
    )


ENVIRONMENT: dict[str, tuple[str, ...]] = {
    "ESTRATEGIA_VAR_DIR": ("var_dir",),
    "ESTRATEGIA_TEMPLATES_DIR": ("templates_dir",),
    "ESTRATEGIA_SECRET_KEY": ("secret_key",),
    "ESTRATEGIA_MAX_UPLOAD_BYTES": ("max_upload_bytes",),
    "ESTRATEGIA_DATABASE_URL": ("storage", "database_url"),
    "ESTRATEGIA_BLOB_BACKEND": ("storage", "blob_backend"),
    "ESTRATEGIA_PREVIEW_KEEP_DAYS": ("storage", "preview_keep_days"),
    "ESTRATEGIA_SESSION_IDLE_TIMEOUT_S": ("identity", "session_idle_timeout_s"),
    "ESTRATEGIA_SESSION_MAX_AGE_S": ("identity", "session_max_age_s"),
    "ESTRATEGIA_SECURE_COOKIES": ("identity", "secure_cookies"),
    "ESTRATEGIA_LOGIN_MAX_FAILURES": ("identity", "login_max_failures"),
    "ESTRATEGIA_LOGIN_MAX_FAILURES_PER_CLIENT": ("identity", "login_max_failures_per_client"),
    "ESTRATEGIA_LOGIN_FAILURE_WINDOW_S": ("identity", "login_failure_window_s"),
    "ESTRATEGIA_LOGIN_LOCKOUT_S": ("identity", "login_lockout_s"),
    "ESTRATEGIA_CONVERTER_PROCESSES": ("converter", "processes"),
    "ESTRATEGIA_CONVERTER_TIMEOUT_S": ("converter", "timeout_s"),
    "ESTRATEGIA_SOFFICE": ("converter", "soffice"),
    "ESTRATEGIA_UNO_PYTHON": ("converter", "uno_python"),
    "ESTRATEGIA_LOG_FORMAT": ("ops", "log_format"),
    "ESTRATEGIA_METRICS": ("ops", "metrics"),
    "ESTRATEGIA_METRICS_TOKEN": ("ops", "metrics_token"),
    "ESTRATEGIA_READY_CACHE_S": ("ops", "ready_cache_s"),
    "ESTRATEGIA_READY_TIMEOUT_S": ("ops", "ready_timeout_s"),
    "ESTRATEGIA_WEB_THREADS": ("ops", "web_threads"),
    "ESTRATEGIA_DEMO": ("signing", "demo"),
    "ESTRATEGIA_DEMO_SERVICES_PORT": ("signing", "demo_services_port"),
    "ESTRATEGIA_SIGNATURE_LEVEL": ("signing", "level"),
    "ESTRATEGIA_TSA_URL": ("signing", "tsa_url"),
    "ESTRATEGIA_TRUST_ROOTS": ("signing", "trust_roots"),
    "ESTRATEGIA_TSA_TRUST_ROOTS": ("signing", "tsa_trust_roots"),
    "ESTRATEGIA_CSC_URL": ("signing", "csc_url"),
    "ESTRATEGIA_CSC_API_VERSION": ("signing", "csc_api_version"),
    "ESTRATEGIA_CSC_USERNAME": ("signing", "csc_username"),
    "ESTRATEGIA_CSC_PASSWORD": ("signing", "csc_password"),
    "ESTRATEGIA_CSC_TOKEN": ("signing", "csc_token"),
    "ESTRATEGIA_JOBS_EMBEDDED_WORKER": ("jobs", "embedded_worker"),
    "ESTRATEGIA_JOBS_CONCURRENCY": ("jobs", "concurrency"),
    "ESTRATEGIA_JOBS_POLL_S": ("jobs", "poll_s"),
    "ESTRATEGIA_JOBS_HEARTBEAT_S": ("jobs", "heartbeat_s"),
    "ESTRATEGIA_JOBS_STALLED_AFTER_S": ("jobs", "stalled_after_s"),
    "ESTRATEGIA_JOBS_STALLED_SWEEP_CRON": ("jobs", "stalled_sweep_cron"),
    "ESTRATEGIA_JOBS_SCHEDULES": ("jobs", "schedules"),
    "ESTRATEGIA_PUBLIC_URL": ("public_url",),
    "ESTRATEGIA_SMTP_HOST": ("mail", "host"),
    "ESTRATEGIA_SMTP_PORT": ("mail", "port"),
    "ESTRATEGIA_SMTP_SECURITY": ("mail", "security"),
    "ESTRATEGIA_SMTP_USERNAME": ("mail", "username"),
    "ESTRATEGIA_SMTP_PASSWORD": ("mail", "password"),
    "ESTRATEGIA_SMTP_TIMEOUT_S": ("mail", "timeout_s"),
    "ESTRATEGIA_SMTP_CA_FILE": ("mail", "ca_file"),
    "ESTRATEGIA_MAIL_FROM": ("mail", "sender"),
    "ESTRATEGIA_MAIL_FROM_NAME": ("mail", "sender_name"),
    "ESTRATEGIA_REMINDER_AFTER_DAYS": ("mail", "reminder_after_days"),
    "ESTRATEGIA_ARCHIVE_SCHEME": ("archive", "scheme"),
}
"""Each environment variable and the place in ``Settings`` it sets."""

_JSON = {
    "ESTRATEGIA_TRUST_ROOTS",
    "ESTRATEGIA_TSA_TRUST_ROOTS",
    "ESTRATEGIA_JOBS_SCHEDULES",
    "ESTRATEGIA_ARCHIVE_SCHEME",
}
_MOVED = {
    name.removeprefix("ESTRATEGIA_").lower(): ".".join(place)
    for name, place in ENVIRONMENT.items()
    if len(place) > 1
}
"""The flat keyword each grouped setting had before (``tsa_url``) -> its place now."""


class _Environment(PydanticBaseSettingsSource):
    """The ``ESTRATEGIA_`` variables of ``ENVIRONMENT``, nested into their groups."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ reads the whole table at once

    def __call__(self) -> dict[str, Any]:
        environ = {name.upper(): value for name, value in os.environ.items()}
        values: dict[str, Any] = {}
        for name, place in ENVIRONMENT.items():
            if name not in environ:
                continue
            value: Any = environ[name]
            if name in _JSON:
                try:
                    value = json.loads(value)
                except json.JSONDecodeError as exc:
                    if name == "ESTRATEGIA_JOBS_SCHEDULES":
                        example = '{"audit.verify": "0 3 * * *"}'
                        raise SettingsError(
                            f"{name} must be a JSON object, e.g. '{example}'"
                        ) from exc
                    raise SettingsError(
                        f"{name} must be a JSON list, e.g. '[\"/etc/estrategia/root.pem\"]'"
                    ) from exc
            group = values
            for part in place[:-1]:
                group = group.setdefault(part, {})
            group[place[-1]] = value
        return values


class Settings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="forbid")

    var_dir: Path = Field(default=Path("var"), description="Root of the local state.")
    templates_dir: Path = Field(
        default=Path(__file__).resolve().parent.parent / "templates",
        description="The business's .docx templates loaded by `estrategia demo` and `seed`.",
    )
    secret_key: str = Field(
        default="",
        description="Binds CSRF tokens to sessions; empty means a key kept in var_dir.",
    )
    max_upload_bytes: int = 10 * 1024 * 1024
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where people reach the application: the links in mails start with it.",
    )
    identity: IdentitySettings = Field(default_factory=IdentitySettings)
    signing: SigningSettings = Field(default_factory=SigningSettings)
    converter: ConverterSettings = Field(default_factory=ConverterSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    jobs: JobsSettings = Field(default_factory=JobsSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    ops: OpsSettings = Field(default_factory=OpsSettings)
    archive: ArchiveSettings = Field(default_factory=ArchiveSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keyword arguments first, then the variables of ``ENVIRONMENT``; nothing else."""
        return init_settings, _Environment(settings_cls)

    @model_validator(mode="before")
    @classmethod
    def _refuse_old_keywords(cls, data: Any) -> Any:
        if isinstance(data, dict):
            moved = [f"{old} is now {_MOVED[old]}" for old in sorted(data) if old in _MOVED]
            if moved:
                raise ValueError(
                    "settings are grouped by area: " + "; ".join(moved) + " (pass e.g. "
                    "signing={'tsa_url': ...}); the ESTRATEGIA_ variables keep their names"
                )
        return data

    @property
    def effective_database_url(self) -> str:
        if self.storage.database_url:
            return self.storage.database_url
        return f"sqlite:///{(self.var_dir / 'estrategia.sqlite3').resolve()}"

    @property
    def blobs_dir(self) -> Path:
        return self.var_dir / "blobs"

    @property
    def converter_dir(self) -> Path:
        return self.var_dir / "converter"

    @property
    def pki_dir(self) -> Path:
        return self.var_dir / "pki"

    def effective_secret_key(self) -> str:
        """The configured key, or one generated once and kept in var_dir (mode 0600)."""
        if self.secret_key:
            return self.secret_key
        import contextlib
        import secrets
        import tempfile

        path = self.var_dir / "secret_key"
        private_dir(self.var_dir)
        if path.exists():
            private_file(path)  # an older version made it 0644
        else:
            # Written whole to a private temporary file, then linked into place: a reader
            # never sees a partial key, and of several workers starting together exactly
            # one key wins (link fails if the name exists).
            fd, tmp = tempfile.mkstemp(dir=self.var_dir, prefix=".secret_key.")
            try:
                with os.fdopen(fd, "w") as out:
                    out.write(secrets.token_urlsafe(48))
                    out.flush()
                    os.fsync(out.fileno())
                with contextlib.suppress(FileExistsError):  # another worker won
                    os.link(tmp, path)
            finally:
                os.unlink(tmp)
        key = path.read_text().strip()
        if len(key) < 32:
            raise ValueError(f"{path} holds no usable key (under 32 characters): remove it")
        return key
