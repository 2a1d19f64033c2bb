"""Word documents that try to make the converter load things from outside the document.

Each builder returns .docx bytes made from a plain python-docx document with some parts
replaced; nothing here goes through ``check_docx_upload``, so the tests can hand them to
the strip function and to LibreOffice directly.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

from .helpers import make_docx, rezip

NS = (
    'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
    'xmlns:o="urn:schemas-microsoft-com:office:office" '
    'xmlns:v="urn:schemas-microsoft-com:vml" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"'
)
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOCUMENT_RELS = "word/_rels/document.xml.rels"


def png(rgb: tuple[int, int, int], width: int, height: int) -> bytes:
    """A PNG of one colour: distinctive size and colour make it recognisable in a PDF."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\0" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def document_xml(body: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document {NS}><w:body>'
        f"<w:p><w:r><w:t>Początek listu</w:t></w:r></w:p>{body}"
        '<w:sectPr><w:pgSz w:w="11906" w:h="16838"/></w:sectPr></w:body></w:document>'
    ).encode()


def relationship(rid: str, kind: str, target: str, *, external: bool = True) -> str:
    mode = ' TargetMode="External"' if external else ""
    return f'<Relationship Id="{rid}" Type="{REL}/{kind}" Target="{target}"{mode}/>'


def with_relationships(data: bytes, part: str, *relationships: str) -> bytes:
    """Add relationships to a part's .rels (created if the part has none)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        rels = archive.read(part).decode() if part in names else None
    if rels is None:
        rels = f'<?xml version="1.0"?><Relationships xmlns="{PKG_RELS}"></Relationships>'
    rels = rels.replace("</Relationships>", "".join(relationships) + "</Relationships>")
    return rezip(data, {part: rels.encode()})


def picture(rid: str, *, linked: bool, number: int) -> str:
    """An inline DrawingML picture whose blip is embedded (r:embed) or linked (r:link)."""
    attribute = "r:link" if linked else "r:embed"
    size = 'cx="1080000" cy="1080000"'
    return (
        f'<w:p><w:r><w:drawing><wp:inline><wp:extent {size}/><wp:docPr id="{number}" '
        f'name="Obraz {number}"/><a:graphic><a:graphicData uri="http://schemas.openxmlformats'
        '.org/drawingml/2006/picture"><pic:pic><pic:nvPicPr><pic:cNvPr id="0" '
        f'name="obraz{number}.png"/><pic:cNvPicPr/></pic:nvPicPr><pic:blipFill><a:blip '
        f'{attribute}="{rid}"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill><pic:spPr>'
        f'<a:xfrm><a:off x="0" y="0"/><a:ext {size}/></a:xfrm><a:prstGeom prst="rect">'
        "<a:avLst/></a:prstGeom></pic:spPr></pic:pic></a:graphicData></a:graphic>"
        "</wp:inline></w:drawing></w:r></w:p>"
    )


def complex_field(*instruction_runs: str, result: str = "wynik pola") -> str:
    """A field as Word writes it: begin, the instruction over several runs, result, end."""
    runs = "".join(
        f'<w:r><w:instrText xml:space="preserve">{text}</w:instrText></w:r>'
        for text in instruction_runs
    )
    return (
        '<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r>'
        f'{runs}<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
        f'<w:r><w:t>{result}</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>'
    )


def simple_field(instruction: str, result: str = "wynik pola") -> str:
    return (
        f'<w:p><w:fldSimple w:instr="{instruction}"><w:r><w:t>{result}</w:t></w:r>'
        "</w:fldSimple></w:p>"
    )


def body(xml: str, *, base: bytes | None = None) -> bytes:
    return rezip(base or make_docx("x"), {"word/document.xml": document_xml(xml)})


@dataclass(frozen=True)
class Case:
    """One way to reach out, and the words the refusal must contain."""

    id: str
    docx: bytes
    reason: tuple[str, ...]


def _settings_with(element: str) -> bytes:
    base = make_docx("x")
    with zipfile.ZipFile(io.BytesIO(base)) as archive:
        settings = archive.read("word/settings.xml").decode()
    end = settings.rindex("</w:settings>")
    return rezip(base, {"word/settings.xml": (settings[:end] + element + settings[end:]).encode()})


def _header_with(xml: str) -> bytes:
    from docx import Document

    document = Document()
    document.add_paragraph("x")
    document.sections[0].header.paragraphs[0].text = "nagłówek"
    out = io.BytesIO()
    document.save(out)
    with zipfile.ZipFile(out) as archive:
        [header] = [n for n in archive.namelist() if n.startswith("word/header")]
        content = archive.read(header).decode()
    end = content.rindex("</w:hdr>")
    return rezip(out.getvalue(), {header: (content[:end] + xml + content[end:]).encode()})


def refusal_cases() -> list[Case]:
    """Every kind of external reference the upload check must refuse."""
    doc = DOCUMENT_RELS
    image = body(picture("rIdX", linked=True, number=1))
    cases = [
        Case(
            "linked image over http",
            with_relationships(image, doc, relationship("rIdX", "image", "http://10.0.0.1/x.png")),
            (doc, "external image relationship", "http://10.0.0.1/x.png"),
        ),
        Case(
            "linked image from the server's disk",
            with_relationships(image, doc, relationship("rIdX", "image", "file:///etc/x.png")),
            (doc, "external image relationship", "file:///etc/x.png"),
        ),
        Case(
            "image relationship with a URL but no TargetMode",
            with_relationships(
                image, doc, relationship("rIdX", "image", "http://10.0.0.1/x", external=False)
            ),
            (doc, "external image relationship"),
        ),
        Case(
            "linked OLE object relationship",
            with_relationships(body(""), doc, relationship("rIdO", "oleObject", "file:///x.xls")),
            (doc, "external oleObject relationship"),
        ),
        Case(
            "attached template relationship",
            with_relationships(
                body(""),
                "word/_rels/settings.xml.rels",
                relationship("rIdT", "attachedTemplate", "http://10.0.0.1/wzor.dotx"),
            ),
            ("word/_rels/settings.xml.rels", "external attachedTemplate relationship"),
        ),
        Case(
            "subdocument relationship",
            with_relationships(
                body(""), doc, relationship("rIdS", "subDocument", "file:///x.docx")
            ),
            (doc, "external subDocument relationship"),
        ),
        Case(
            "frame relationship",
            with_relationships(
                body(""),
                "word/_rels/webSettings.xml.rels",
                relationship("rIdF", "frame", "http://10.0.0.1/ramka.htm"),
            ),
            ("word/_rels/webSettings.xml.rels", "external frame relationship"),
        ),
        Case(
            "hyperlink to a file on the server",
            with_relationships(
                body(""), doc, relationship("rIdH", "hyperlink", "file:///etc/passwd")
            ),
            (doc, "external hyperlink relationship"),
        ),
        Case(
            "hyperlink to a Windows share",
            with_relationships(body(""), doc, relationship("rIdH", "hyperlink", "\\\\host\\share")),
            (doc, "external hyperlink relationship"),
        ),
        Case(
            "INCLUDEPICTURE split over runs",
            body(complex_field(" INCLUDE", 'PICTURE "http://10.0.0.1/x.png" \\d ')),
            ("word/document.xml", "INCLUDEPICTURE field"),
        ),
        Case(
            "lower-case includetext",
            body(complex_field(' includetext "file:///etc/passwd" ')),
            ("word/document.xml", "INCLUDETEXT field"),
        ),
        Case(
            "INCLUDEPICTURE in a header",
            _header_with(complex_field('INCLUDEPICTURE "http://10.0.0.1/x.png"')),
            ("word/header", "INCLUDEPICTURE field"),
        ),
        Case(
            "field nested in another field's instruction",
            body(
                '<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r>'
                '<w:r><w:instrText>IF 1 = 1 "</w:instrText></w:r>'
                '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
                '<w:r><w:instrText>LINK Excel.Sheet.8 "C:\\\\x.xls" "A1"</w:instrText></w:r>'
                '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
                '<w:r><w:instrText>"</w:instrText></w:r>'
                '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>'
            ),
            ("word/document.xml", "LINK field"),
        ),
        Case("altChunk", body('<w:altChunk r:id="rIdA"/>'), ("word/document.xml", "altChunk")),
        Case(
            "subDoc",
            body('<w:p><w:subDoc r:id="rIdS"/></w:p>'),
            ("word/document.xml", "subDoc"),
        ),
        Case(
            "linked OLE object",
            body(
                '<w:p><w:r><w:object><v:shape id="s1" style="width:10pt;height:10pt"/>'
                '<o:OLEObject Type="Link" ProgID="Excel.Sheet.12" ShapeID="s1" r:id="rIdO">'
                "<o:LinkType>EnhancedMetaFile</o:LinkType></o:OLEObject></w:object></w:r></w:p>"
            ),
            ("word/document.xml", "linked OLE object"),
        ),
        Case(
            "VML image linked with o:href",
            body(
                '<w:p><w:r><w:pict><v:shape id="s2" style="width:10pt;height:10pt">'
                '<v:imagedata o:href="file:///etc/x.png" o:title=""/></v:shape></w:pict>'
                "</w:r></w:p>"
            ),
            ("word/document.xml", "linked VML image (o:href)"),
        ),
        Case(
            "attachedTemplate in settings",
            _settings_with('<w:attachedTemplate r:id="rIdT"/>'),
            ("word/settings.xml", "attachedTemplate"),
        ),
        Case(
            "mail merge data source",
            _settings_with(
                '<w:mailMerge><w:mainDocumentType w:val="formLetters"/>'
                '<w:dataType w:val="native"/><w:connectString w:val="file:///x.mdb"/>'
                "</w:mailMerge>"
            ),
            ("word/settings.xml", "mailMerge"),
        ),
    ]
    for kind in ("INCLUDEPICTURE", "INCLUDETEXT", "LINK", "DDE", "DDEAUTO", "IMPORT"):
        instruction = f'{kind} "file:///etc/x" '
        cases.append(
            Case(f"{kind} in instrText", body(complex_field(instruction)), (f"{kind} field",))
        )
        cases.append(
            Case(
                f"{kind} in fldSimple",
                body(simple_field(instruction.replace('"', "&quot;"))),
                (f"{kind} field (fldSimple)",),
            )
        )
    return cases


def allowed_documents() -> dict[str, bytes]:
    """Documents that look like the refused ones but load nothing."""
    doc = DOCUMENT_RELS
    link = '<w:p><w:hyperlink r:id="rIdH"><w:r><w:t>strona</w:t></w:r></w:hyperlink></w:p>'
    return {
        "https hyperlink": with_relationships(
            body(link), doc, relationship("rIdH", "hyperlink", "https://eizba.pl/strategia")
        ),
        "mailto hyperlink": with_relationships(
            body(link), doc, relationship("rIdH", "hyperlink", "mailto:biuro@eizba.pl")
        ),
        "HYPERLINK and PAGE fields": body(
            complex_field('HYPERLINK "https://eizba.pl"') + simple_field("PAGE")
        ),
        "embedded image": with_relationships(
            rezip(
                body(picture("rIdE", linked=False, number=1)),
                {"word/media/x.png": png((1, 2, 3), 4, 4)},
            ),
            doc,
            relationship("rIdE", "image", "media/x.png", external=False),
        ),
    }
