"""Signing and validation speed: our path against pyHanko's documented one, side by side.

Run by hand from the repository root::

    .venv/bin/python bench/sign.py [--rounds 30]

One run, one PDF (the two-page Polish letter of intent from the tests, frozen with two
signature fields), one demo PKI with its TSA/OCSP/CRL on 127.0.0.1:

* B-B:   ``signatures.sign_pdf`` (key kept loaded, ``bytes_reserved``, visible stamp in
         DejaVu Sans, certificate checked before signing)
         vs ``pyhanko.sign.signers.sign_pdf`` with ``SimpleSigner.load_pkcs12`` per call
         (pyHanko's default stamp, dry-run size estimate, no certificate check).
* B-LTA: the same two, with the local TSA and OCSP/CRL (pyHanko: ``embed_validation_info``,
         ``use_pades_lta``, a fetching ``ValidationContext``).
* validation of a two-signature B-LTA document, offline: ``signatures.validate_pdf``
  (AdES-LTA + modification analysis for both signatures and both document timestamps).
"""

from __future__ import annotations

import argparse
import io
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "signatures"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def measure(fn: Callable[[], object], rounds: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()

    from conftest import SIGNATORIES
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers, timestamps
    from pyhanko_certvalidator import ValidationContext
    from sample import make_sample_pdf

    from signatures import FieldSpec, PadesLevel, prepare_for_signing, sign_pdf, validate_pdf
    from signatures.pki import create_demo_pki
    from signatures.services import DemoServices
    from signatures.stamp import prepared_font

    workdir = Path(tempfile.mkdtemp(prefix="bench-sign-"))
    pki = create_demo_pki(
        workdir / "pki", signatories=SIGNATORIES, base_url=f"http://127.0.0.1:{_free_port()}"
    )
    services = DemoServices(pki).start()
    try:
        prepared_font()  # the one-time font preparation is not part of signing
        # Signing is measured on a one-field document (B-B is refused where several
        # officials sign: a later document timestamp would leave a B-B signature
        # unverifiable); validation on the two-signature letter.
        pdf = prepare_for_signing(make_sample_pdf(), [FieldSpec("podpis-e-izba")])
        letter = prepare_for_signing(
            make_sample_pdf(), [FieldSpec("podpis-e-izba"), FieldSpec("podpis-rybnik")]
        )
        trust, urls = pki.trust_settings(), pki.service_urls()
        key = pki.key("prezes")
        profile = pki.signatory("prezes").profile(location="Rybnik")
        p12 = str(pki.p12_path("prezes"))
        passphrase = pki.signatory("prezes").passphrase.encode()

        def ours(level: PadesLevel) -> Callable[[], bytes]:
            def run() -> bytes:
                return sign_pdf(
                    pdf,
                    key=key,
                    field_name="podpis-e-izba",
                    profile=profile,
                    trust=trust,
                    level=level,
                    services=urls if level.timestamped else None,
                )

            return run

        def documented(lta: bool) -> Callable[[], bytes]:
            def run() -> bytes:
                signer = signers.SimpleSigner.load_pkcs12(p12, passphrase=passphrase)
                assert signer is not None
                meta = signers.PdfSignatureMetadata(
                    field_name="podpis-e-izba",
                    subfilter=fields.SigSeedSubFilter.PADES,
                    md_algorithm="sha256",
                )
                timestamper = None
                if lta:
                    meta = signers.PdfSignatureMetadata(
                        field_name="podpis-e-izba",
                        subfilter=fields.SigSeedSubFilter.PADES,
                        md_algorithm="sha256",
                        embed_validation_info=True,
                        use_pades_lta=True,
                        validation_context=ValidationContext(
                            trust_roots=[pki.root_cert], allow_fetching=True
                        ),
                    )
                    timestamper = timestamps.HTTPTimeStamper(pki.tsa_url)
                writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
                out = signers.sign_pdf(writer, meta, signer=signer, timestamper=timestamper)
                data: bytes = out.getvalue()
                return data

            return run

        rows: list[tuple[str, list[float], list[float] | None]] = []
        for level, lta in ((PadesLevel.B_B, False), (PadesLevel.B_LTA, True)):
            rounds = args.rounds if level is PadesLevel.B_B else max(10, args.rounds // 2)
            rows.append(
                (
                    f"sign {level.value}",
                    measure(ours(level), rounds),
                    measure(documented(lta), rounds),
                )
            )

        two = letter
        for key_id, field in (("prezes", "podpis-e-izba"), ("prezydent", "podpis-rybnik")):
            two = sign_pdf(
                two,
                key=pki.key(key_id),
                field_name=field,
                profile=pki.signatory(key_id).profile(),
                trust=trust,
                level=PadesLevel.B_LTA,
                services=urls,
            )
        assert validate_pdf(two, trust=trust).valid
        rows.append(
            (
                "validate 2x B-LTA (offline)",
                measure(lambda: validate_pdf(two, trust=trust), args.rounds),
                None,
            )
        )
    finally:
        services.stop()

    print(f"PDF: {len(pdf)} bytes prepared, two-signature B-LTA {len(two)} bytes")
    print(
        f"{'operation':<30}{'ours median':>12}{'p95':>8}{'pyHanko doc.':>14}{'p95':>8}{'ratio':>8}"
    )
    for name, mine, theirs in rows:
        line = f"{name:<30}{statistics.median(mine):>10.1f}ms{p95(mine):>6.1f}ms"
        if theirs is not None:
            ratio = statistics.median(theirs) / statistics.median(mine)
            line += f"{statistics.median(theirs):>12.1f}ms{p95(theirs):>6.1f}ms{ratio:>7.1f}x"
        print(line)


if __name__ == "__main__":
    main()
