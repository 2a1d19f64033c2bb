"""A real SoftHSM2 token for tests, built with the same tools an administrator uses.

    token = create_token(tmp_dir, label="e-izba", so_pin="...", pin="...")
    token.import_key(private_key, label="prezes", key_id=b"\\x01")
    token.import_certificate(certificate, label="prezes", cert_id=b"\\x01")
    with Pkcs11Key.open(module_path=token.module_path, token_label=token.label,
                        pin=token.pin, key_label="prezes") as key: ...

:func:`create_token` writes a SoftHSM2 configuration with its own token directory under
``directory``, points ``SOFTHSM2_CONF`` at it (in this process, so that the in-process
module sees the token; the old value is restored by :meth:`SoftHsmToken.restore_env`) and
initialises the token with ``softhsm2-util --init-token``. Keys go in as PKCS#8 through
``softhsm2-util --import``; certificates through ``pkcs11-tool --write-object``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

_MODULE_CANDIDATES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
)


def find_module() -> Path | None:
    """The SoftHSM2 PKCS#11 module, or ``None`` when SoftHSM2 is not installed."""
    for candidate in _MODULE_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    return None


def missing_tools() -> list[str]:
    """What is missing to build a token here (empty when everything is installed)."""
    missing = [tool for tool in ("softhsm2-util", "pkcs11-tool") if shutil.which(tool) is None]
    if find_module() is None:
        missing.append("libsofthsm2.so")
    return missing


@dataclass
class SoftHsmToken:
    """An initialised SoftHSM2 token and how to reach it."""

    module_path: Path
    conf_path: Path
    label: str
    so_pin: str
    pin: str
    _previous_conf: str | None = field(default=None, repr=False)

    def env(self) -> dict[str, str]:
        """Environment for a subprocess (pkcs11-tool, softhsm2-util) that uses this token."""
        return {**os.environ, "SOFTHSM2_CONF": str(self.conf_path)}

    def _run(self, *args: str) -> None:
        result = subprocess.run(args, env=self.env(), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {result.stdout}{result.stderr}")

    def import_key(self, key: PrivateKeyTypes, *, label: str, key_id: bytes) -> None:
        """Import a private key (and its public key) as PKCS#8 with the given label and id."""
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path = self.conf_path.parent / f"import-{key_id.hex()}.p8"
        path.write_bytes(pem)
        try:
            self._run(
                "softhsm2-util",
                "--import",
                str(path),
                "--token",
                self.label,
                "--label",
                label,
                "--id",
                key_id.hex(),
                "--pin",
                self.pin,
            )
        finally:
            path.unlink()  # no plaintext key left beside the token

    def import_certificate(self, cert: x509.Certificate, *, label: str, cert_id: bytes) -> None:
        """Write a certificate object with the given label and id."""
        path = self.conf_path.parent / f"cert-{cert_id.hex()}-{label}.der"
        path.write_bytes(cert.public_bytes(serialization.Encoding.DER))
        self._run(
            "pkcs11-tool",
            "--module",
            str(self.module_path),
            "--token-label",
            self.label,
            "--login",
            "--pin",
            self.pin,
            "--write-object",
            str(path),
            "--type",
            "cert",
            "--label",
            label,
            "--id",
            cert_id.hex(),
        )

    def list_objects(self) -> str:
        """``pkcs11-tool --list-objects`` output, for debugging a failing test."""
        result = subprocess.run(
            [
                "pkcs11-tool",
                "--module",
                str(self.module_path),
                "--token-label",
                self.label,
                "--login",
                "--pin",
                self.pin,
                "--list-objects",
            ],
            env=self.env(),
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout

    def restore_env(self) -> None:
        """Give ``SOFTHSM2_CONF`` back its value from before :func:`create_token`."""
        if self._previous_conf is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = self._previous_conf


def create_token(directory: Path, *, label: str, so_pin: str, pin: str) -> SoftHsmToken:
    """Initialise a fresh token in its own token directory under ``directory``.

    Sets ``SOFTHSM2_CONF`` in this process and (re-)initialises the SoftHSM2 module so
    that it reads the new configuration: sessions already open on it are lost, so build
    tokens before opening keys (one token per module- or session-scoped fixture).
    """
    module = find_module()
    if module is None:
        raise RuntimeError("SoftHSM2 is not installed (Debian package softhsm2)")
    token_dir = directory / "tokens"
    token_dir.mkdir(parents=True, exist_ok=True)
    conf = directory / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {token_dir}\n"
        "objectstore.backend = file\n"
        "log.level = ERROR\n"
        "slots.removable = false\n",
        encoding="utf-8",
    )
    token = SoftHsmToken(
        module_path=module,
        conf_path=conf,
        label=label,
        so_pin=so_pin,
        pin=pin,
        _previous_conf=os.environ.get("SOFTHSM2_CONF"),
    )
    token._run(
        "softhsm2-util",
        "--init-token",
        "--free",
        "--label",
        label,
        "--so-pin",
        so_pin,
        "--pin",
        pin,
    )
    os.environ["SOFTHSM2_CONF"] = str(conf)
    _reload_module_if_loaded(module)
    return token


def _reload_module_if_loaded(module: Path) -> None:
    """SoftHSM2 reads its configuration and token list in C_Initialize."""
    import pkcs11

    pkcs11.lib(str(module)).reinitialize()
