"""The pure parts of comparing two versions: the values diff, the text of a DOCX, the
word-level redline and its HTML."""

from __future__ import annotations

import io

import docx

from workflow.documents.compare import (
    ChangeKind,
    Segment,
    SegmentKind,
    ValueChange,
    diff_values,
    docx_text,
    redline,
    redline_html,
    schema_labels,
    schema_options,
    schema_types,
    split_path,
)

D, INS, E = SegmentKind.DELETED, SegmentKind.INSERTED, SegmentKind.EQUAL


def test_values_changed_added_removed() -> None:
    old = {"strategy_name": "A", "valid_until": "2027-12-31", "gone": "x"}
    new = {"strategy_name": "B", "valid_until": "2027-12-31", "extra": "y"}
    assert diff_values(old, new) == [
        ValueChange("strategy_name", ChangeKind.CHANGED, "A", "B"),
        ValueChange("extra", ChangeKind.ADDED, new="y"),
        ValueChange("gone", ChangeKind.REMOVED, old="x"),
    ]
    assert diff_values(new, new) == []


def test_list_items_are_aligned_not_shifted() -> None:
    old = {"goals": ["cyfryzacja", "kompetencje", "e-usługi"]}
    new = {"goals": ["cyfryzacja", "otwarte dane", "kompetencje", "e-usługi"]}
    assert diff_values(old, new) == [ValueChange("goals[1]", ChangeKind.ADDED, new="otwarte dane")]
    assert diff_values(new, old) == [
        ValueChange("goals[1]", ChangeKind.REMOVED, old="otwarte dane")
    ]
    changed = diff_values({"goals": ["a", "b"]}, {"goals": ["a", "B"]})
    assert changed == [ValueChange("goals[1]", ChangeKind.CHANGED, "b", "B")]


def test_table_rows_diff_by_cell() -> None:
    row = {"action": "Portal", "owner": "Wydział IT", "deadline": "2027-06-30", "budget": "1000.00"}
    old = {"actions": [row, {**row, "action": "Szkolenia"}]}
    new = {"actions": [{**row, "owner": "Biuro Cyfryzacji"}, {**row, "action": "Szkolenia"},
                       {**row, "action": "Aplikacja"}]}  # fmt: skip
    assert diff_values(old, new) == [
        ValueChange("actions[0].owner", ChangeKind.CHANGED, "Wydział IT", "Biuro Cyfryzacji"),
        ValueChange("actions[2]", ChangeKind.ADDED, new={**row, "action": "Aplikacja"}),
    ]


def test_split_path_and_labels() -> None:
    assert split_path("actions[2].owner") == ("actions", 2, "owner")
    assert split_path("goals[0]") == ("goals", 0, None)
    assert split_path("title") == ("title", None, None)
    schema = {"fields": [{"name": "actions", "label": "Plan działań", "label_en": "Action plan",
                          "columns": [{"name": "owner", "label": "Odpowiedzialny"}]}]}  # fmt: skip
    assert schema_labels(schema) == {
        "actions": ("Plan działań", "Action plan"),
        "actions.owner": ("Odpowiedzialny", "Odpowiedzialny"),
    }
    budget = {"name": "budget", "type": "decimal"}
    goals = {"name": "goals", "type": "list", "items": {"type": "string"}}
    typed = {"fields": [{"name": "actions", "type": "table", "columns": [budget]}, goals]}
    assert schema_types(typed) == {
        "actions": "table", "actions.budget": "decimal", "goals": "list", "goals[]": "string"
    }  # fmt: skip


def test_the_options_of_choices_by_the_keys_of_their_types() -> None:
    kinds = [{"value": "gmina", "label": "gmina", "label_en": "municipality"},
             {"value": "miasto_npp", "label": "miasto na prawach powiatu"}]  # fmt: skip
    schema = {"fields": [
        {"name": "unit_kind", "type": "choice", "options": kinds},
        {"name": "kinds", "type": "list", "items": {"type": "choice", "options": kinds}},
        {"name": "partners", "type": "table", "columns": [
            {"name": "name", "type": "string"},
            {"name": "kind", "type": "choice", "options": kinds},
        ]},
        {"name": "note", "type": "string"},
    ]}  # fmt: skip
    labels = {
        "gmina": ("gmina", "municipality"),
        "miasto_npp": ("miasto na prawach powiatu", "miasto na prawach powiatu"),
    }
    assert schema_options(schema) == {
        "unit_kind": labels, "kinds[]": labels, "partners.kind": labels,
    }  # fmt: skip


def test_redline_marks_only_the_changed_words() -> None:
    segments = redline("Strony postanawiają współpracować.", "Strony zgodnie postanawiają działać.")
    assert segments == [
        Segment(E, "Strony "),
        Segment(INS, "zgodnie"),
        Segment(E, " postanawiają "),
        Segment(D, "współpracować"),
        Segment(E, " "),
        Segment(INS, "działać"),
        Segment(E, "."),
    ]
    assert redline_html(segments) == (
        "Strony <ins>zgodnie</ins> postanawiają <del>współpracować</del> <ins>działać</ins>."
    )
    assert redline_html(segments, "old") == "Strony postanawiają <del>współpracować</del>."
    assert (
        redline_html(segments, "new")
        == "Strony <ins>zgodnie</ins> postanawiają <ins>działać</ins>."
    )


def test_redline_keeps_paragraphs_and_escapes() -> None:
    segments = redline("Cel 1\n\nCel <2> & więcej", "Cel 1\nCel <3> & więcej")
    html = redline_html(segments)
    assert html == "Cel 1\nCel &lt;<del>2</del><ins>3</ins>&gt; &amp; więcej"
    assert "<2>" not in redline_html(segments, "old")
    assert redline("", "") == []
    assert redline_html(redline("", "Nowy tekst")) == "<ins>Nowy tekst</ins>"


def test_docx_text_reads_paragraphs_and_tables_in_order() -> None:
    document = docx.Document()
    document.add_paragraph("List intencyjny")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Działanie", "Termin"
    table.cell(1, 0).text, table.cell(1, 1).text = "Portal", "30.06.2027"
    document.add_paragraph("")
    document.add_paragraph("Podpisy")
    out = io.BytesIO()
    document.save(out)
    assert docx_text(out.getvalue()) == (
        "List intencyjny\nDziałanie | Termin\nPortal | 30.06.2027\nPodpisy"
    )


def test_an_added_paragraph_is_one_insertion_and_a_renumbered_one_a_small_change() -> None:
    old = "Cele:\n1) Cyfryzacja usług\n2) Rozwój kompetencji cyfrowych\nKoniec."
    new = (
        "Cele:\n1) Cyfryzacja usług\n2) Rozwój e-usług dla firm\n"
        "3) Rozwój kompetencji cyfrowych\nKoniec."
    )
    assert redline_html(redline(old, new)) == (
        "Cele:\n1) Cyfryzacja usług\n<ins>2) Rozwój e-usług dla firm\n</ins>"
        "<del>2</del><ins>3</ins>) Rozwój kompetencji cyfrowych\nKoniec."
    )
    assert redline_html(redline(old, new), "old") == (
        "Cele:\n1) Cyfryzacja usług\n<del>2</del>) Rozwój kompetencji cyfrowych\nKoniec."
    )
    unlike = redline("Zupełnie inny akapit", "Nic wspólnego tutaj\nDrugi")
    assert {s.kind for s in unlike} == {D, INS}
