from __future__ import annotations

import io
import os
import re
import struct
import zipfile

import pytest

from workflow.errors import ErrorCode, InvalidInput
from workflow.rendering.docx_safety import (
    check_docx_upload,
    find_external_references,
    strip_external_references,
)
from workflow.rendering.engine import render_docx

from .helpers import docx_text, make_docx, rezip
from .hostile_docx import Case, allowed_documents, body, complex_field, refusal_cases, simple_field

XXE = (
    b'<?xml version="1.0"?>\n<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    b"<w:body><w:p><w:r><w:t>&xxe;</w:t></w:r></w:p></w:body></w:document>"
)


def refused(data: bytes, filename: str = "wzor.docx", **limits: int) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        check_docx_upload(data, filename=filename, **limits)
    assert caught.value.field == "file"
    assert not caught.value.message("pl").startswith("docx_")  # it has a Polish message
    return caught.value


@pytest.fixture(scope="module")
def plain() -> bytes:
    return make_docx("Zażółć gęślą jaźń")


def test_real_templates_pass(letter_template: bytes, strategy_template: bytes) -> None:
    check_docx_upload(letter_template, filename="list_intencyjny.docx")
    check_docx_upload(strategy_template, filename="E_STRATEGIA.DOCX")


def test_too_large(plain: bytes) -> None:
    small = refused(plain + b"\0" * 2048, max_bytes=len(plain) + 1024)
    assert (small.code, small.params["limit"]) == (ErrorCode.FILE_TOO_LARGE, len(plain) + 1024)
    default = refused(b"\0" * (10 * 1024 * 1024 + 1))
    assert default.params["limit"] == 10 * 1024 * 1024


def test_wrong_name(plain: bytes) -> None:
    assert refused(plain, "wzor.docm").code == ErrorCode.DOCX_NAME_REQUIRED
    assert refused(plain, "wzor.pdf").message("pl") == (
        "Przesłany plik musi mieć rozszerzenie .docx."
    )


def test_not_a_zip() -> None:
    assert refused(b"%PDF-1.7 this is no docx", "wzor.docx").code == ErrorCode.DOCX_NOT_ZIP


def test_zip_bomb_by_ratio(plain: bytes) -> None:
    bomb = rezip(plain, {"word/media/zeros.bin": b"\0" * (20 * 1024 * 1024)})
    assert len(bomb) < 100 * 1024  # 20 MB of zeros deflate to about 20 kB
    error = refused(bomb)
    assert (error.code, error.params["entry"]) == (ErrorCode.DOCX_ZIP_BOMB, "word/media/zeros.bin")


def test_zip_bomb_by_total_size(plain: bytes) -> None:
    noise = os.urandom(2 * 1024 * 1024)  # incompressible: no ratio alarm, just big
    big = rezip(plain, {"word/media/a.bin": noise, "word/media/b.bin": noise})
    error = refused(big, max_bytes=20 * 1024 * 1024, max_uncompressed=3 * 1024 * 1024)
    assert (error.code, error.params["limit"]) == (ErrorCode.DOCX_UNPACKS_TOO_LARGE, "3 MB")
    assert "przekracza 3 MB" in error.message("pl")


def test_zip_bomb_that_lies_about_its_size(plain: bytes) -> None:
    """The directory claims 1 kB; inflating shows more. Caught while reading."""
    honest = rezip(plain, {"word/media/big.bin": b"\0" * (512 * 1024)})
    lying = _patch_declared_size(honest, "word/media/big.bin", 1024)
    assert refused(lying).code in (ErrorCode.DOCX_ZIP_BOMB, ErrorCode.DOCX_CORRUPT_ENTRY)


def _patch_declared_size(data: bytes, name: str, size: int) -> bytes:
    """Rewrite the uncompressed size of one member in both its local and central headers."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(name)
    patched = bytearray(data)
    struct.pack_into("<I", patched, info.header_offset + 22, size)  # local header
    central = data.index(b"PK\x01\x02")
    while True:  # find this member's central directory entry
        name_length = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46 : central + 46 + name_length] == name.encode():
            break
        central = data.index(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", patched, central + 24, size)
    return bytes(patched)


def test_xxe_in_the_document(plain: bytes) -> None:
    error = refused(rezip(plain, {"word/document.xml": XXE}))
    assert (error.code, error.params["part"]) == (ErrorCode.DOCX_DTD, "word/document.xml")


def test_doctype_hidden_in_utf16(plain: bytes) -> None:
    utf16 = XXE.replace(b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="UTF-16"?>')
    error = refused(rezip(plain, {"word/styles.xml": utf16.decode().encode("utf-16")}))
    assert (error.code, error.params["part"]) == (ErrorCode.DOCX_DTD, "word/styles.xml")


def test_billion_laughs_in_a_relationship_part(plain: bytes) -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><r>&lol2;</r>'
    )
    assert refused(rezip(plain, {"_rels/.rels": laughs})).code == ErrorCode.DOCX_DTD


def test_malformed_xml(plain: bytes) -> None:
    error = refused(rezip(plain, {"word/document.xml": b"<w:document><w:body>"}))
    assert error.code == ErrorCode.DOCX_XML_INVALID


@pytest.mark.parametrize(
    "name",
    ["../../etc/cron.d/evil", "/etc/passwd", "word\\..\\evil.xml", "C:/evil.xml", "word/./x.xml"],
)
def test_path_traversal(plain: bytes, name: str) -> None:
    error = refused(rezip(plain, {name: b"x"}))
    assert (error.code, error.params["entry"]) == (ErrorCode.DOCX_UNSAFE_PATH, repr(name))


def test_missing_parts(plain: bytes) -> None:
    for part in ("word/document.xml", "[Content_Types].xml"):
        error = refused(rezip(plain, drop=(part,)))
        assert (error.code, error.params["part"]) == (ErrorCode.DOCX_PART_MISSING, part)


def test_macros(plain: bytes) -> None:
    assert refused(rezip(plain, {"word/vbaProject.bin": b"\0" * 16})).code == ErrorCode.DOCX_MACROS


def test_encrypted_entries(plain: bytes) -> None:
    patched = bytearray(plain)
    central = plain.index(b"PK\x01\x02")  # first member's central directory entry
    flags = struct.unpack_from("<H", plain, central + 8)[0]
    struct.pack_into("<H", patched, central + 8, flags | 0x1)  # "encrypted"
    assert refused(bytes(patched)).code == ErrorCode.DOCX_ENCRYPTED


# -- references to anything outside the document ------------------------------------------

REFUSALS = refusal_cases()


@pytest.mark.parametrize("case", REFUSALS, ids=[case.id for case in REFUSALS])
def test_external_references_are_refused_naming_what_and_where(case: Case) -> None:
    error = refused(case.docx)
    assert error.code == ErrorCode.DOCX_EXTERNAL_REFERENCE
    where = f"{error.params['part']}: {error.params['what']}"
    for words in case.reason:
        assert words in where
    assert f"Część {error.params['part']} przesłanego pliku" in error.message("pl")


@pytest.mark.parametrize("name", sorted(allowed_documents()))
def test_hyperlinks_fields_and_embedded_images_are_allowed(name: str) -> None:
    document = allowed_documents()[name]
    check_docx_upload(document, filename="wzor.docx")
    assert strip_external_references(document) is document


@pytest.mark.parametrize("case", REFUSALS, ids=[case.id for case in REFUSALS])
def test_strip_removes_what_the_upload_check_refuses(case: Case) -> None:
    assert find_external_references(case.docx)
    stripped = strip_external_references(case.docx)
    assert find_external_references(stripped) == []
    check_docx_upload(stripped, filename="wzor.docx")
    assert visible_text(stripped) == visible_text(case.docx)  # fields keep their result


def visible_text(data: bytes) -> list[str]:
    """Every w:t of every part, in order: what a reader of the document sees."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [
            text
            for name in sorted(archive.namelist())
            if name.startswith("word/") and name.endswith(".xml")
            for text in re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", archive.read(name).decode())
        ]


def test_strip_keeps_a_fields_result_as_text() -> None:
    document = body(
        complex_field(" INCLUDE", 'PICTURE "http://10.0.0.1/x.png" ', result="zdjęcie")
        + simple_field("INCLUDETEXT &quot;/etc/passwd&quot;", result="tekst")
    )
    stripped = strip_external_references(document)
    assert find_external_references(stripped) == []
    text = docx_text(stripped)
    assert "zdjęcie" in text
    assert "tekst" in text
    assert "INCLUDE" not in text


def test_a_field_instruction_filled_from_a_value_is_stripped_at_render_time() -> None:
    """The upload check sees ``{{ kod }}``; only the rendered document shows the field."""
    template = body(complex_field("{{ kod }}", result="stopka"))
    check_docx_upload(template, filename="wzor.docx")
    rendered = render_docx(template, {"kod": 'INCLUDEPICTURE "http://10.0.0.1/x.png"'})
    assert find_external_references(rendered) == []
    assert "stopka" in docx_text(rendered)


def test_real_templates_render_unchanged(letter_docx: bytes, strategy_docx: bytes) -> None:
    for document in (letter_docx, strategy_docx):
        assert find_external_references(document) == []
        assert strip_external_references(document) is document
