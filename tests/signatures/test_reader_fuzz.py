"""Hostile bytes: whatever arrives, validation ends in a report or ``UnreadablePdf``.

``POST /api/v1/verify`` is public, so ``validate_pdf`` parses and walks files written by an
attacker. An independent probe found two files that made pyHanko raise past every handler
(an ``AssertionError`` and a ``RecursionError``: HTTP 500 and 175 KB of traceback per
request). This table holds them and their relatives: truncations and bit flips of a real
signed letter, deep nesting, a catalog entry of the wrong type at every key, loops in the
xref chain, indirect objects and object streams that refer to themselves. Each case must
end in a ``ValidationReport`` or ``UnreadablePdf``, nothing else; the cases are small, so
each also ends quickly (an endless loop would hang the test, not pass it).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from signatures import (
    PadesLevel,
    Pkcs12Key,
    TrustSettings,
    UnreadablePdf,
    ValidationReport,
    sign_pdf,
    validate_pdf,
)
from signatures.fields import read_pdf
from signatures.pki import DemoPki
from tests.signatures import hostile
from tests.signatures.conftest import FIELDS

ROOT_IS_42 = hostile.minimal_pdf({1: b"42"}, pages=False)
"""The probe's first file: a 144-byte PDF whose ``/Root`` is an integer object."""

DEEP_CATALOG = hostile.minimal_pdf(
    {1: b"<< /Type /Catalog /X " + hostile.nested(600) + b" >>"}, pages=False
)
"""The probe's second file: a 1.5 KB PDF whose catalog nests arrays 600 deep."""


def outcome(pdf: bytes, trust: TrustSettings) -> ValidationReport | UnreadablePdf:
    """What validation made of ``pdf``: any other exception fails the test."""
    try:
        return validate_pdf(pdf, trust=trust)
    except UnreadablePdf as exc:
        return exc


def test_the_probes_files_are_unreadable_not_a_crash(trust_settings: TrustSettings) -> None:
    assert len(ROOT_IS_42) < 150
    assert 1000 < len(DEEP_CATALOG) < 2000
    with pytest.raises(UnreadablePdf, match=r"catalog \(/Root\) is not a dictionary"):
        validate_pdf(ROOT_IS_42, trust=trust_settings)
    with pytest.raises(UnreadablePdf, match="nested too deeply"):
        validate_pdf(DEEP_CATALOG, trust=trust_settings)
    # read_pdf is the door: it alone refuses them, for signing as for validation
    for pdf in (ROOT_IS_42, DEEP_CATALOG):
        with pytest.raises(UnreadablePdf):
            read_pdf(pdf)


def test_a_refusal_is_one_line(trust_settings: TrustSettings) -> None:
    for pdf in (ROOT_IS_42, DEEP_CATALOG, hostile.minimal_pdf({1: b"1 0 R"})):
        with pytest.raises(UnreadablePdf) as refused:
            validate_pdf(pdf, trust=trust_settings)
        assert "\n" not in str(refused.value)
        assert len(str(refused.value)) < 300


# --- structure: small files written by hand --------------------------------------------

NOT_A_DICTIONARY = {
    "int": b"42",
    "name": b"/Catalog",
    "string": b"(Catalog)",
    "array": b"[1 0 R]",
    "null": b"null",
    "dangling": b"99 0 R",
}

UNREADABLE, REPORT, EITHER = "UnreadablePdf", "ValidationReport", "either"


def _deep(kind: str, depth: int, where: str) -> bytes:
    value = hostile.nested(depth, kind=kind)
    if where == "trailer":
        return hostile.minimal_pdf(trailer_extra=b" /X " + value)
    return hostile.minimal_pdf({1: b"<< /Type /Catalog /Pages 2 0 R /X " + value + b" >>"})


STRUCTURE_CASES: dict[str, tuple[bytes, str]] = {
    **{f"root object is {k}": (hostile.minimal_pdf({1: v}), UNREADABLE)
       for k, v in NOT_A_DICTIONARY.items()},
    **{f"/Root is {k}": (hostile.minimal_pdf(root=v), UNREADABLE)
       for k, v in NOT_A_DICTIONARY.items()},
    "no /Root": (hostile.minimal_pdf().replace(b"/Root 1 0 R", b"/Info 1 0 R"), UNREADABLE),
    # real files nest a few levels deep: a modest depth is read; hundreds are refused
    **{f"{kind}s {depth} deep in the {where}": (
        _deep(kind, depth, where), REPORT if depth == 50 else UNREADABLE)
       for kind in ("array", "dict") for depth in (50, 600, 5000)
       for where in ("catalog", "trailer")},
    "/Pages nested 600 deep": (
        hostile.minimal_pdf({1: b"<< /Type /Catalog /Pages " + hostile.nested(600) + b" >>"}),
        UNREADABLE,
    ),
    "an object that is a reference to itself": (hostile.minimal_pdf({1: b"1 0 R"}), UNREADABLE),
    "a cycle of three references": (
        hostile.minimal_pdf({1: b"10 0 R", **hostile.reference_chain(3)}), UNREADABLE
    ),
    "a chain of 2000 references": (
        hostile.minimal_pdf({1: b"10 0 R", **hostile.reference_chain(2000)}), UNREADABLE
    ),
    "a page tree that contains itself": (
        hostile.minimal_pdf({2: b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>"}), EITHER
    ),
    "/Prev pointing at its own xref": (hostile.xref_loop_self(), UNREADABLE),
    "two xrefs pointing at each other": (hostile.xref_loop_pair(), UNREADABLE),
    "an object stream containing itself": (hostile.objstm_containing_itself(), UNREADABLE),
    "no xref at all": (b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n", EITHER),
    "startxref beyond the end": (
        hostile.minimal_pdf().replace(b"startxref\n", b"startxref\n9"), EITHER
    ),
    "a header only": (b"%PDF-1.7\n", UNREADABLE),
}  # fmt: skip


@pytest.mark.parametrize("name", STRUCTURE_CASES)
def test_hand_written_structures(name: str, trust_settings: TrustSettings) -> None:
    pdf, expected = STRUCTURE_CASES[name]
    result = outcome(pdf, trust_settings)
    if expected != EITHER:
        assert type(result).__name__ == expected, result
    if isinstance(result, ValidationReport):
        assert result.signatures == ()
        assert not result.valid


# --- a real signed letter, broken by incremental updates ---------------------------------

WRONG_TYPES = {
    "int": b"7",
    "name": b"/X",
    "string": b"(x)",
    "array": b"[1 2]",
    "null": b"null",
    "dangling": b"999 0 R",
    "empty dictionary": b"<< >>",
}

CATALOG_KEYS = ("Pages", "AcroForm", "Perms", "DSS", "Names")

DEEPER: dict[str, bytes] = {
    "/AcroForm /Fields not an array": b"<< /Fields 5 >>",
    "/AcroForm /Fields of non-references": b"<< /Fields [5 (x) /N null] >>",
    "/AcroForm /Fields nested 600 deep": b"<< /Fields " + hostile.nested(600) + b" >>",
    "/AcroForm nested 600 deep": hostile.nested(600, kind="dict"),
}


def _signed_cases(pdf: bytes) -> Iterator[tuple[str, bytes]]:
    for key in CATALOG_KEYS:
        for kind, value in WRONG_TYPES.items():
            yield f"/{key} is {kind}", hostile.catalog_with(pdf, **{key: value})
    for name, value in DEEPER.items():
        yield name, hostile.catalog_with(pdf, AcroForm=value)
    yield "/Perms /DocMDP is an integer", hostile.catalog_with(pdf, Perms=b"<< /DocMDP 5 >>")
    yield (
        "/DSS of junk",
        hostile.catalog_with(pdf, DSS=b"<< /Certs 5 /OCSPs [1 2] /CRLs (x) /VRI 3 >>"),
    )
    yield (
        "/DSS /Certs of references to non-streams",
        hostile.append_update(
            hostile.catalog_with(pdf, DSS=b"<< /Certs [900 0 R] /OCSPs [900 0 R] >>"),
            {900: b"<< /Not (a stream) >>"},
        ),
    )
    yield (
        "a signature field whose /Kids contain itself",
        hostile.append_update(
            hostile.catalog_with(pdf, AcroForm=b"<< /Fields [900 0 R] >>"),
            {900: b"<< /FT /Sig /T (loop) /Kids [900 0 R] >>"},
        ),
    )
    for kind, value in NOT_A_DICTIONARY.items():
        size = read_pdf(pdf).trailer["/Size"]
        if kind == "int":  # an indirect object 42, as in the probe's file
            update = hostile.append_update(
                pdf, {size: b"42"}, trailer=b"/Size %d /Root %d 0 R" % (size + 1, size)
            )
        else:
            update = hostile.append_update(pdf, {}, trailer=b"/Size %d /Root %s" % (size, value))
        yield f"the update's trailer /Root is {kind}", update


@pytest.fixture(scope="module")
def b_b_signed(
    one_field_pdf: bytes,
    demo_pki: DemoPki,
    signer_keys: dict[str, Pkcs12Key],
    trust_settings: TrustSettings,
    demo_services: object,
) -> bytes:
    """The letter signed once at B-B (cheap to validate: for the many mutations)."""
    return sign_pdf(
        one_field_pdf,
        key=signer_keys["prezes"],
        field_name=FIELDS[0],
        profile=demo_pki.signatory("prezes").profile(),
        trust=trust_settings,
        level=PadesLevel.B_B,
    )


@pytest.mark.parametrize("signed", ["b_b_signed", "lta_two_signed"])
def test_a_signed_letter_with_a_broken_catalog(
    signed: str, request: pytest.FixtureRequest, trust_settings: TrustSettings
) -> None:
    pdf: bytes = request.getfixturevalue(signed)
    before = validate_pdf(pdf, trust=trust_settings)
    assert all(s.intact for s in before.signatures)
    assert before.valid or signed == "b_b_signed"  # B-B: no revocation data offline
    seen: dict[str, str] = {}
    for name, broken in _signed_cases(pdf):
        result = outcome(broken, trust_settings)
        # whatever the damage, a document changed after its signatures is never valid
        if isinstance(result, ValidationReport):
            assert not result.valid, name
        seen[name] = type(result).__name__
    assert set(seen.values()) == {"ValidationReport", "UnreadablePdf"}, seen
    assert seen["/AcroForm /Fields nested 600 deep"] == "UnreadablePdf"
    assert seen["a signature field whose /Kids contain itself"] == "UnreadablePdf"
    # a null DSS is no DSS (PDF: a null value is an absent key): still a report
    assert seen["/DSS is null"] == "ValidationReport"


# --- a real signed letter, cut and flipped -----------------------------------------------


def test_truncations_of_a_signed_letter(
    lta_two_signed: bytes, b_b_signed: bytes, trust_settings: TrustSettings
) -> None:
    kinds = set()
    for pdf in (lta_two_signed, b_b_signed):
        for _, cut in hostile.truncations(pdf, 40, seed=6):
            kinds.add(type(outcome(cut, trust_settings)).__name__)
        for at in range(0, len(pdf), len(pdf) // 40):
            kinds.add(type(outcome(pdf[:at], trust_settings)).__name__)
    assert "UnreadablePdf" in kinds
    # cut right after an earlier revision's %%EOF, the file is that revision: readable
    first_eof = lta_two_signed.index(b"%%EOF") + len(b"%%EOF\n")
    assert isinstance(outcome(lta_two_signed[:first_eof], trust_settings), ValidationReport)


@pytest.mark.parametrize(("signed", "count"), [("b_b_signed", 150), ("lta_two_signed", 60)])
def test_bit_flips_in_a_signed_letter(
    signed: str, count: int, request: pytest.FixtureRequest, trust_settings: TrustSettings
) -> None:
    pdf: bytes = request.getfixturevalue(signed)
    kinds = {
        type(outcome(flipped, trust_settings)).__name__
        for _, flipped in hostile.bit_flips(pdf, count, seed=7)
    }
    assert kinds <= {"ValidationReport", "UnreadablePdf"}
    assert "ValidationReport" in kinds
