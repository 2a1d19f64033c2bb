"""The demo PKI's definition: who gets which certificate, as a certomancer configuration.

Split from :mod:`signatures.pki` (which writes, loads and serves it). Certificates are
described, not built: certomancer issues them deterministically from this configuration.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from .profiles import SignerProfile

__all__ = ["ARCH_LABEL", "DEMO_ORGANISATION", "DemoCertStatus", "DemoSignatory", "demo_config"]

ARCH_LABEL = "estrategia-demo"
DEMO_ORGANISATION = "estrategia DEMO PKI — not for production"
_NOT_FOR_PRODUCTION = "NOT FOR PRODUCTION"


class DemoCertStatus(StrEnum):
    """The state a demo signatory's certificate is created in."""

    VALID = "valid"
    EXPIRED = "expired"
    """Validity ended ten days before the PKI was created."""
    REVOKED = "revoked"
    """Listed as revoked (key compromise) on the CRL and by the OCSP responder."""
    NOT_YET_VALID = "not_yet_valid"
    """Validity starts thirty days after the PKI was created."""


@dataclass(frozen=True)
class DemoSignatory:
    """A person who gets a demo certificate and a PKCS#12 file."""

    key_id: str
    """Short label, used in file names: ``"prezes"`` -> ``signatories/prezes.p12``."""

    full_name: str
    """Certificate subject common name, e.g. ``"Patrycja Sass-Staniszewska"``."""

    organisation: str
    """The party represented, e.g. ``"Izba Gospodarki Elektronicznej"`` (subject OU; the
    subject O always says the certificate is a demo)."""

    function: str = ""
    """Office held, e.g. ``"Prezes Zarządu e-Izby"`` (subject title)."""

    passphrase: str = "demo"  # noqa: S105 - a published demo passphrase; never production
    """Passphrase of the PKCS#12 file."""

    status: DemoCertStatus = DemoCertStatus.VALID
    """Create the certificate valid, expired, revoked or not yet valid."""

    def profile(self, *, reason: str | None = None, location: str | None = None) -> SignerProfile:
        """The signer profile for stamps, from this signatory's name and function."""
        return SignerProfile(
            full_name=self.full_name,
            function=self.function,
            organisation=self.organisation,
            reason=reason,
            location=location,
        )


# -- configuration ---------------------------------------------------------------------------


def write_key(path: Path) -> None:
    """Generate an RSA-2048 key as unencrypted PKCS#8 PEM (demo only), mode 0600."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    os.chmod(path, 0o600)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _validity(start: datetime, end: datetime) -> dict[str, str]:
    return {"valid-from": _iso(start), "valid-to": _iso(end)}


def _key_usage(*usages: str) -> dict[str, Any]:
    return {
        "id": "key_usage",
        "critical": True,
        "smart-value": {"schema": "key-usage", "params": list(usages)},
    }


def _crl_dp(repo: str) -> dict[str, Any]:
    return {
        "id": "crl_distribution_points",
        "smart-value": {"schema": "crl-dist-url", "params": {"crl-repo-names": [repo]}},
    }


def _signatory_cert(signatory: DemoSignatory, now: datetime, validity: timedelta) -> dict[str, Any]:
    start, end = now - timedelta(days=1), now + validity
    spec: dict[str, Any] = {"issuer": "intermediate"}
    if signatory.status is DemoCertStatus.EXPIRED:
        start, end = now - timedelta(days=50), now - timedelta(days=10)
    elif signatory.status is DemoCertStatus.NOT_YET_VALID:
        start = now + timedelta(days=30)
    elif signatory.status is DemoCertStatus.REVOKED:
        start = now - timedelta(days=50)
        spec["revocation"] = {
            "revoked-since": _iso(now - timedelta(days=40)),
            "reason": "key_compromise",
        }
    spec["validity"] = _validity(start, end)
    spec["extensions"] = [
        _key_usage("digital_signature", "non_repudiation"),
        {
            "id": "authority_information_access",
            "smart-value": {
                "schema": "aia-urls",
                "params": {"ocsp-responder-names": ["intermediate"]},
            },
        },
        _crl_dp("intermediate"),
    ]
    return spec


def demo_config(
    *,
    base_url: str,
    signatories: Sequence[DemoSignatory],
    now: datetime,
    ca_validity: timedelta,
    tsa_validity: timedelta,
    signer_validity: timedelta,
) -> dict[str, Any]:
    ca_start = now - timedelta(days=60)
    entities: dict[str, dict[str, str]] = {
        "root": {"common-name": f"estrategia DEMO Root CA — {_NOT_FOR_PRODUCTION}"},
        "intermediate": {"common-name": f"estrategia DEMO Signing CA — {_NOT_FOR_PRODUCTION}"},
        "tsa": {"common-name": f"estrategia DEMO TSA — {_NOT_FOR_PRODUCTION}"},
        "ocsp": {"common-name": f"estrategia DEMO OCSP — {_NOT_FOR_PRODUCTION}"},
    }
    for s in signatories:
        entity = {"common-name": s.full_name, "organizational-unit-name": s.organisation}
        if s.function:
            entity["title"] = s.function
        entities[s.key_id] = entity
    certs: dict[str, Any] = {
        "root": {
            "issuer": "root",
            "validity": _validity(ca_start, now + ca_validity),
            "extensions": [
                {"id": "basic_constraints", "critical": True, "value": {"ca": True}},
                _key_usage("digital_signature", "key_cert_sign", "crl_sign"),
            ],
        },
        "intermediate": {
            "issuer": "root",
            "validity": _validity(ca_start, now + ca_validity - timedelta(days=1)),
            "extensions": [
                {
                    "id": "basic_constraints",
                    "critical": True,
                    "value": {"ca": True, "path_len_constraint": 0},
                },
                _key_usage("digital_signature", "key_cert_sign", "crl_sign"),
                _crl_dp("root"),
            ],
        },
        "tsa": {
            "issuer": "root",
            "validity": _validity(ca_start, now + tsa_validity),
            "extensions": [
                _key_usage("digital_signature", "non_repudiation"),
                {"id": "extended_key_usage", "critical": True, "value": ["time_stamping"]},
                _crl_dp("root"),
            ],
        },
        "ocsp": {
            "issuer": "intermediate",
            "validity": _validity(ca_start, now + tsa_validity),
            "extensions": [
                _key_usage("digital_signature"),
                {"id": "extended_key_usage", "critical": True, "value": ["ocsp_signing"]},
                {"id": "ocsp_no_check"},
            ],
        },
    }
    for s in signatories:
        certs[s.key_id] = _signatory_cert(s, now, signer_validity)
    return {
        "external-url-prefix": base_url,
        "keysets": {
            "demo": {
                "path-prefix": "keys",
                "keys": {name: {"path": f"{name}.key.pem"} for name in entities},
            }
        },
        "pki-architectures": {
            ARCH_LABEL: {
                "keyset": "demo",
                "entity-defaults": {"country-name": "PL", "organization-name": DEMO_ORGANISATION},
                "entities": entities,
                "certs": certs,
                "services": {
                    "ocsp": {
                        "intermediate": {
                            "for-issuer": "intermediate",
                            "responder-cert": "ocsp",
                            "signing-key": "ocsp",
                        }
                    },
                    "crl-repo": {
                        "root": {"for-issuer": "root", "simulated-update-schedule": "P1D"},
                        "intermediate": {
                            "for-issuer": "intermediate",
                            "simulated-update-schedule": "P1D",
                        },
                    },
                    "time-stamping": {"tsa": {"signing-key": "tsa", "signing-cert": "tsa"}},
                },
            }
        },
    }
