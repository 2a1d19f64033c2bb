"""Every text a page shows through ``t("...")`` (templates) or ``ui_text("...")`` (page
modules) has its Polish translation in a ``ui_*.po`` catalogue, so no page shows English
to a Polish reader."""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib import resources
from importlib.resources.abc import Traversable

from workflow.i18n import ui_catalogue, ui_text

_COMMENT = re.compile(r"\{#.*?#\}", re.S)
_IN_TEMPLATE = re.compile(r"""\bt\(\s*(?:"([^"]+)"|'([^']+)')\s*\)""")
_IN_MODULE = re.compile(r"""\bui_text\(\s*"([^"]+)\"""")


def _texts() -> dict[str, set[str]]:
    pages = resources.files("workflow.web.pages")
    found: dict[str, set[str]] = {}

    def walk(folder: Traversable) -> Iterator[Traversable]:
        for entry in folder.iterdir():
            if entry.is_dir():
                yield from walk(entry)
            else:
                yield entry

    for entry in walk(pages):
        if entry.name.endswith(".html"):
            text = _COMMENT.sub("", entry.read_text(encoding="utf-8"))
            ids = {a or b for a, b in _IN_TEMPLATE.findall(text)}
        elif entry.name.endswith(".py"):
            ids = set(_IN_MODULE.findall(entry.read_text(encoding="utf-8")))
        else:
            continue
        if ids:
            found[entry.name] = ids
    return found


def test_every_page_text_has_a_polish_translation() -> None:
    polish = ui_catalogue("pl")
    missing = {name: sorted(i for i in ids if i not in polish) for name, ids in _texts().items()}
    assert not {k: v for k, v in missing.items() if v}


def test_ui_text_falls_back_to_the_msgid() -> None:
    assert ui_text("Sign in", "pl") == "Zaloguj się"
    assert ui_text("Sign in", "en") == "Sign in"
    assert ui_text("Sign in", "de") == "Zaloguj się"  # unsupported: Polish
    assert ui_text("No such text anywhere", "pl") == "No such text anywhere"
