"""Index terms of Polish text: lemmas, proper nouns apart, folding, offsets."""

from __future__ import annotations

import threading
import unicodedata

import pytest

from workflow.polish.lemmas import (
    FORM,
    PROPER,
    fold,
    index_terms,
    morfeusz,
    query_terms,
    tokens,
    word_query_terms,
)


def matches(query: str, text: str) -> bool:
    """What the index does with these terms: every query word has a term in the text."""
    terms = set(index_terms(text))
    return all(group & terms for group in query_terms(query))


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("Rybnik", "Spotkanie odbyło się w Rybniku."),
        ("rybnik", "Delegacja z Rybnika przyjechała."),
        ("Śląsk", "Pracujemy na Śląsku."),
        ("samorząd", "Przedstawiciele samorządów zgłosili uwagi."),
        ("Łódź", "Ratusz w Łodzi."),
        ("lodz", "Ratusz w Łodzi."),
        ("Piła", "Mieszkańcy Piły są zadowoleni."),
        ("pić", "Kierownik pił kawę."),
        ("Katowice urząd", "W urzędzie w Katowicach."),
        ("Gaszowice", "Wójt Gminy Gaszowice."),
        ("Xyzowo", "Spotkanie w Xyzowie i w Xyzowo."),  # unknown to the dictionary: its form
    ],
)
def test_inflected_forms_match_their_base_form(query: str, text: str) -> None:
    assert matches(query, text)


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("Rybnik", "Rybny targ był zamknięty, a zupa rybna wystygła."),
        ("Piła", "W warsztacie leżała stara piła."),
        ("Piła", "Kierownik pił kawę, sekretarka piła herbatę."),
        ("Łódź", "Na jeziorze kołysała się drewniana łódź."),
        ("piła", "Mieszkańcy Piły są zadowoleni."),
        ("Katowice urząd", "Spotkanie w Katowicach."),  # words are ANDed
    ],
)
def test_lookalikes_do_not_match(query: str, text: str) -> None:
    assert not matches(query, text)


def test_terms_are_folded_ascii_with_proper_nouns_and_forms_apart() -> None:
    terms = index_terms("Łódź")
    assert f"{PROPER}lodz" in terms and f"{FORM}lodz" in terms
    assert all(t.isascii() and t.isalnum() and t == t.lower() for t in terms)
    assert fold("ŻÓŁW źdźbło Łęczyca") == "zolw zdzblo leczyca"


def test_tokens_keep_the_offsets_of_the_words_as_written() -> None:
    text = "Umowa z  Żorami (2026), „Bielsko-Biała”."
    found = list(tokens(text))
    assert [t.word for t in found] == ["Umowa", "z", "Żorami", "2026", "Bielsko", "Biała"]
    assert all(text[t.start : t.end] == t.word for t in found)
    assert found[0].sentence_start and not found[2].sentence_start


@pytest.mark.parametrize("query", ['"', "AND OR NOT", "(((", "*:^", "", "!!!", "a" * 10_000])
def test_any_query_gives_only_plain_terms(query: str) -> None:
    for group in query_terms(query):
        assert group and all(t.isalnum() for t in group), group


def test_a_decomposed_query_is_read_as_composed() -> None:
    assert query_terms(unicodedata.normalize("NFD", "Łódź")) == query_terms("Łódź")


def test_a_lowercase_query_word_means_the_current_common_word() -> None:
    assert word_query_terms("piła") == {"pila", "pic"}
    assert word_query_terms("Piła") == {f"{PROPER}pila"}


def test_each_thread_has_its_own_analyser() -> None:
    mine = morfeusz()
    assert morfeusz() is mine
    other: list[object] = []
    thread = threading.Thread(target=lambda: other.append(morfeusz()))
    thread.start()
    thread.join()
    assert other and other[0] is not mine


def test_terc_codes_and_their_voivodeships() -> None:
    from workflow.polish.teryt import is_terc, voivodeship_of

    assert voivodeship_of("2473011") == "śląskie"  # Rybnik, a city with county rights
    assert voivodeship_of("1465011") == "mazowieckie"  # Warsaw
    assert voivodeship_of("99") is None and voivodeship_of(None) is None
    assert all(is_terc(c) for c in ("24", "2473", "2473011", "2412022"))
    assert not any(is_terc(c) for c in ("99", "247", "2473016", "24730111", "24a3011"))
