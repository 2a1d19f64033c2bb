"""Finding a local government by name or TERYT code (to start a document for it).

``search_organisations(rt, actor=..., query="rybn")`` ranks the units whose name (or short
name) starts with the query's words, then those that contain them, ignoring case and Polish
diacritics (``lodz`` finds Łódź: ł folds to l, which Unicode decomposition does not do);
a query of digits matches the start of the TERYT code (``2473`` finds Rybnik,
2473011). e-Izba's own offices are not local governments and are left out unless
``include_chamber``.

The folding is done in Python over the names of every unit, read in one narrow query:
Poland has about 2,800 local governments, so one read of (id, names, TERYT) stays in the
low milliseconds, and the same code behaves alike on SQLite and PostgreSQL (neither folds
ł by itself). Read-only.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select

from workflow.db import transaction
from workflow.identity.actors import Actor
from workflow.models import Organisation
from workflow.runtime import Runtime
from workflow.views import OrganisationView

_EXTRA_FOLDS = str.maketrans({"ł": "l", "Ł": "l", "đ": "d", "ø": "o", "ß": "ss"})
_WORDS = re.compile(r"[^\w]+")
MAX_RESULTS = 50


def fold(text: str) -> str:
    """Lowercase, without diacritics (``Łódź`` -> ``lodz``), punctuation as spaces."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_EXTRA_FOLDS).lower())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_WORDS.split(bare)).strip()


@dataclass(frozen=True)
class OrganisationMatch:
    organisation: OrganisationView
    rank: int
    """0: TERYT prefix; 1: a word of the name starts with the query; 2: the name contains it."""


def search_organisations(
    rt: Runtime,
    *,
    actor: Actor,
    query: str,
    limit: int = 20,
    include_chamber: bool = False,
) -> list[OrganisationMatch]:
    """Units matching ``query`` (best first, then by name); none for an empty query."""
    wanted = fold(query)
    if not wanted:
        return []
    limit = max(1, min(limit, MAX_RESULTS))
    digits = wanted.replace(" ", "")
    with transaction(rt.read_sessions) as session:
        rows = session.scalars(select(Organisation).order_by(Organisation.name)).all()
        matches: list[OrganisationMatch] = []
        for org in rows:
            if org.kind.is_chamber and not include_chamber:
                continue
            rank = _rank(org, wanted, digits)
            if rank is not None:
                matches.append(OrganisationMatch(OrganisationView.of(org), rank))
    matches.sort(key=lambda m: (m.rank, fold(m.organisation.name), m.organisation.id))
    return matches[:limit]


def _rank(org: Organisation, wanted: str, digits: str) -> int | None:
    if digits.isdigit():
        return 0 if org.teryt and org.teryt.startswith(digits) else None
    names = [fold(org.name), fold(org.short_name), fold(org.seat or "")]
    terms = wanted.split()
    if all(any(_starts_a_word(n, term) for n in names) for term in terms):
        return 1
    if all(any(term in n for n in names) for term in terms):
        return 2
    return None


def _starts_a_word(name: str, term: str) -> bool:
    return name.startswith(term) or f" {term}" in name
