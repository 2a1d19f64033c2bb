"""The fast hex-string reader gives exactly what pyHanko 0.38's own reader gives."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PdfStreamError

from signatures import TrustSettings, hexstrings, validate_pdf

SAMPLES = [
    b"<>",
    b"<48656c6c6f>",
    b"<48656C6C6F>",
    b"<abc>",  # odd number of digits: a trailing 0 is implied
    b"< 48 65\n6c\r6c\t6f\x0c\x00 >",
    b"<FEFF00410042>",  # UTF-16 BOM: a text string
    b"<EFBBBF41>",  # UTF-8 BOM
    b"<" + b"0123456789abcdef" * 3000 + b"0" * 9000 + b">",  # a /Contents-sized one
    b"<" + b"ab" * 127 + b"c>",  # the closing > right after the first chunk
    b"<41>>> /Next 1",  # only the first > closes
    b"<41 % a comment > in it\n 42>",  # comments: pyHanko's reader handles them
]

BROKEN = [
    b"<4G>",  # not a hex digit
    b"<41 42",  # no closing >
    b"<" + b"a" * 5000,
]


def _read(reader: object, data: bytes, prefix: bytes = b"1 0 obj ") -> tuple[object, int]:
    stream = io.BytesIO(prefix + data + b" trailing")
    stream.seek(len(prefix))
    value = reader(stream)  # type: ignore[operator]
    return value, stream.tell()


@pytest.mark.parametrize("data", SAMPLES)
def test_same_value_type_and_position_as_pyhanko(data: bytes) -> None:
    expected, expected_pos = _read(hexstrings.PYHANKO_READER, data)
    value, pos = _read(hexstrings.read_hex_string, data)
    assert type(value) is type(expected)
    assert value == expected
    assert pos == expected_pos


@pytest.mark.parametrize("data", BROKEN)
def test_same_error_as_pyhanko(data: bytes) -> None:
    with pytest.raises(PdfStreamError) as expected:
        _read(hexstrings.PYHANKO_READER, data)
    with pytest.raises(PdfStreamError) as got:
        _read(hexstrings.read_hex_string, data)
    assert str(got.value) == str(expected.value)


def test_installed_by_reading_a_pdf(lta_two_signed: bytes, trust_settings: TrustSettings) -> None:
    validate_pdf(lta_two_signed, trust=trust_settings)
    assert hexstrings.installed()
    assert hexstrings.install()  # idempotent


def test_not_installed_on_an_unchecked_pyhanko(monkeypatch: pytest.MonkeyPatch) -> None:
    import pyhanko.version

    monkeypatch.setattr(generic, "read_hex_string_from_stream", hexstrings.PYHANKO_READER)
    monkeypatch.setattr(pyhanko.version, "__version__", "0.39.0")
    assert not hexstrings.install()
    assert generic.read_hex_string_from_stream is hexstrings.PYHANKO_READER


def test_not_installed_over_someone_elses_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    def other(stream: object) -> object:  # pragma: no cover - never called
        raise AssertionError

    monkeypatch.setattr(generic, "read_hex_string_from_stream", other)
    assert not hexstrings.install()
    assert generic.read_hex_string_from_stream is other


def test_same_report_with_pyhanko_reader(
    lta_two_signed: bytes, trust_settings: TrustSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    when = datetime.now(UTC)
    fast = validate_pdf(lta_two_signed, trust=trust_settings, when=when)
    monkeypatch.setattr(hexstrings, "install", lambda: False)
    monkeypatch.setattr(generic, "read_hex_string_from_stream", hexstrings.PYHANKO_READER)
    slow = validate_pdf(lta_two_signed, trust=trust_settings, when=when)
    assert fast.valid
    assert fast == slow
