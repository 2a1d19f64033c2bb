"""The converter itself loads nothing from outside the document (issue 6, defect 2).

The document below bypasses the upload check and the render-time strip on purpose: it goes
straight to LibreOffice, so only the converter's own profile settings stand between it and
the network or the server's disk. Without them LibreOffice 7.4 sends OPTIONS and GET to the
http:// image and embeds the file:/// image in the PDF.
"""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pikepdf
import pytest

from tests.support import free_port
from workflow.rendering.converter import ColdConverter, WarmConverterPool, check_pdf

from .helpers import needs_office, pdf_text
from .hostile_docx import (
    DOCUMENT_RELS,
    body,
    complex_field,
    picture,
    png,
    relationship,
    with_relationships,
)

pytestmark = [pytest.mark.slow, needs_office]

SECRET_COLOUR = (0x13, 0x37, 0xC0)
SECRET_SIZE = (37, 23)


class Listener:
    """A TCP listener on 127.0.0.1 that records every connection made to it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.connections: list[bytes] = []
        self._server = socket.create_server(("127.0.0.1", self.port))
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:  # closed
                return
            with client:
                client.settimeout(2)
                try:
                    self.connections.append(client.recv(4096))
                except OSError:
                    self.connections.append(b"")

    def close(self) -> None:
        self._server.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() (Linux)
        self._server.close()
        self._thread.join()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "secret.png"
    path.write_bytes(png(SECRET_COLOUR, *SECRET_SIZE))
    return path


def hostile_docx(port: int, secret: Path) -> bytes:
    """Two linked images (http, file), an INCLUDEPICTURE field and a plain hyperlink."""
    url = f"http://127.0.0.1:{port}"
    document = body(
        picture("rIdHttp", linked=True, number=1)
        + picture("rIdFile", linked=True, number=2)
        + complex_field(f'INCLUDEPICTURE "{url}/pole.png" \\d', result="pole")
        + '<w:p><w:hyperlink r:id="rIdLink"><w:r><w:t>strona e-Izby</w:t></w:r>'
        "</w:hyperlink></w:p>"
    )
    return with_relationships(
        document,
        DOCUMENT_RELS,
        relationship("rIdHttp", "image", f"{url}/obraz.png"),
        relationship("rIdFile", "image", secret.as_uri()),
        relationship("rIdLink", "hyperlink", f"{url}/strona"),
    )


def images(pdf: bytes) -> list[tuple[int, int, set[tuple[int, int, int]]]]:
    """(width, height, colours) of every image in the PDF, form XObjects included."""
    found = []
    with pikepdf.open(io.BytesIO(pdf)) as document:
        for page in document.pages:
            for image in page.get_images().values():
                picture = pikepdf.PdfImage(image).as_pil_image().convert("RGB")
                colours = {colour for _, colour in picture.getcolors(1 << 24) or []}
                found.append((picture.width, picture.height, colours))
    return found


def assert_nothing_loaded(pdf: bytes, listener: Listener, tmp_path: Path) -> None:
    check_pdf(pdf)
    assert "Początek listu" in pdf_text(pdf, tmp_path)  # the document itself was converted
    assert listener.connections == []  # not a single connection, let alone a request
    for width, height, colours in images(pdf):
        assert (width, height) != SECRET_SIZE
        assert SECRET_COLOUR not in colours
    assert images(pdf) == []  # the document's only images are the linked ones


def test_the_warm_converter_loads_nothing_from_outside(
    tmp_path: Path, listener: Listener, secret: Path
) -> None:
    with WarmConverterPool(1, workdir=tmp_path / "warm", timeout=60) as pool:
        pdf = pool.convert(hostile_docx(listener.port, secret))
    assert_nothing_loaded(pdf, listener, tmp_path)


def test_the_cold_converter_loads_nothing_from_outside(
    tmp_path: Path, listener: Listener, secret: Path
) -> None:
    pdf = ColdConverter(workdir=tmp_path / "cold").convert(hostile_docx(listener.port, secret))
    assert_nothing_loaded(pdf, listener, tmp_path)


def test_a_restarted_warm_office_keeps_its_settings(
    tmp_path: Path, listener: Listener, secret: Path
) -> None:
    """The office saves its profile when it stops; the next start rewrites the settings."""
    workdir = tmp_path / "warm"
    with WarmConverterPool(1, workdir=workdir, timeout=60) as pool:
        pool.start()
    with WarmConverterPool(1, workdir=workdir, timeout=60) as pool:
        pdf = pool.convert(hostile_docx(listener.port, secret))
    assert_nothing_loaded(pdf, listener, tmp_path)
