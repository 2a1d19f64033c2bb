"""The message catalogue: every code has a Polish and an English sentence, every sentence
quotes only what its raisers pass, and a Polish user reads no English."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest

from workflow.errors import ErrorCode, GuardRefused, InvalidInput, NotPermitted
from workflow.i18n import LANGUAGES, catalogue, label, placeholders, render_message
from workflow.states import Action, Refusal, Role, Status

RAISERS = {
    "NotFound",
    "NotPermitted",
    "GuardRefused",
    "ConflictingChange",
    "InvalidInput",
    "RenderingFailed",
    "render_message",
}
WORKFLOW = Path(__file__).resolve().parents[1] / "workflow"
CODES = [*ErrorCode, *Refusal]

#: Words of the English reasons the API used to wrap in a Polish sentence.
ENGLISH = re.compile(
    r"\b(the|an|is|not|cannot|must|has|have|of|for|and|or|with|required|refused|"
    r"reviewer|document|signatory|signatories|version|rendered|sign|signed|turn|already|"
    r"every|reason|requesting|changes|frozen|presented|awaiting|differs|invalid|larger|"
    r"bytes|failed|found|permitted|needs|allowed|action|roles?)\b",
    re.IGNORECASE,
)


def test_codes_are_unique_across_the_enums() -> None:
    values = [str(c) for c in CODES]
    assert len(values) == len(set(values))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("code", CODES, ids=str)
def test_every_code_has_a_message(code: str, language: str) -> None:
    entry = catalogue(language).get(str(code))
    assert entry is not None and entry.string, f"{code} has no {language} message"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("value", [*Status, *Action, *Role], ids=repr)
def test_every_status_action_and_role_has_a_label(value: Status, language: str) -> None:
    assert label(value, language) != str(value) or language == "en"
    assert label(value, language)


def test_catalogue_has_no_orphans() -> None:
    known = {str(c) for c in CODES}
    for language in LANGUAGES:
        orphans = {m.id for m in catalogue(language) if m.id and not m.context} - known
        assert not orphans, (language, orphans)


@pytest.mark.parametrize("code", CODES, ids=str)
def test_polish_messages_are_polish(code: str) -> None:
    text = catalogue("pl").get(str(code)).string
    words = re.sub(r"\{[a-z_]+\}", "", text)  # placeholders are filled in, not read
    words = re.sub(r"[A-Z][\w-]*-[A-Z][\w-]*|[A-Z]{2,}[\w-]*|\([^)]*:[^)]*\)", "", words)
    assert not ENGLISH.search(words), (code, text)


def _raised_params() -> dict[str, list[tuple[str, set[str]]]]:
    """For every error raised in ``workflow/`` with a code: the keyword names it passes."""
    found: dict[str, list[tuple[str, set[str]]]] = defaultdict(list)
    for path in WORKFLOW.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or any(k.arg is None for k in node.keywords):
                continue
            names = {k.arg for k in node.keywords if k.arg}
            callee = node.func.id if isinstance(node.func, ast.Name) else ""
            if callee not in RAISERS:
                continue
            if callee == "InvalidInput":
                names.add("field")
            for arg in node.args:
                if (
                    isinstance(arg, ast.Attribute)
                    and isinstance(arg.value, ast.Name)
                    and arg.value.id in ("ErrorCode", "Refusal")
                ):
                    code = getattr(ErrorCode, arg.attr, None) or getattr(Refusal, arg.attr)
                    found[str(code)].append((f"{path.relative_to(WORKFLOW)}:{node.lineno}", names))
    return found


def test_messages_quote_only_what_their_raisers_pass() -> None:
    raised = _raised_params()
    assert raised, "the scan found no raise site"
    for code, sites in raised.items():
        for language in LANGUAGES:
            wanted = placeholders(code, language)
            for where, names in sites:
                assert wanted <= names, f"{where}: {code} ({language}) needs {wanted - names}"


def test_guard_refusals_render_in_both_languages() -> None:
    refused = GuardRefused(Refusal.REVIEWER_WROTE_VERSION)
    assert refused.code is Refusal.REVIEWER_WROTE_VERSION
    assert refused.message("pl") == (
        "Odmowa: recenzent nie może zatwierdzić dokumentu, którego wersję sam napisał."
    )
    assert str(refused) == "Refused: a reviewer cannot approve a document they wrote a version of."
    role = NotPermitted(Refusal.ROLE_REQUIRED, action=Action.APPROVE, roles=[Role.REVIEWER])
    assert role.message("pl") == "Akcja „Zatwierdź” wymaga jednej z ról: recenzent."


def test_an_unknown_code_or_language_does_not_break_the_error_path() -> None:
    assert render_message("no_such_code", {}, "pl") == "no_such_code"
    assert render_message(ErrorCode.DOCUMENT_NOT_FOUND, {"document_id": 7}, "de") == (
        "Nie znaleziono dokumentu 7."
    )
    missing = render_message(ErrorCode.DOCUMENT_NOT_FOUND, {}, "en")
    assert missing == "Document {document_id} not found."


def test_invalid_input_names_its_field() -> None:
    error = InvalidInput("title", ErrorCode.VALUE_REQUIRED)
    assert error.field == "title"
    assert error.params == {"field": "title"}
    assert str(error) == "title: The field 'title' is required."
