"""Demo organisations, people and templates, loaded once into an empty database.

The names of e-Izba's President and the Mayor of Rybnik come from the letter of intent the
programme is modelled on (domain.md); everyone else is fictional. Every demo account shares
one password, printed by ``make run``: this data is for trying the system, not for use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import audit
from workflow.db import transaction
from workflow.identity.actors import hash_password
from workflow.models import DocumentKind, Membership, Organisation, OrganisationKind, Template, User
from workflow.runtime import Runtime
from workflow.states import Role
from workflow.template_library.store import register_version

DEMO_PASSWORD = "demo-haslo-2026"  # noqa: S105  # printed on purpose: demo accounts only

TEMPLATES = (
    (
        "list_intencyjny",
        DocumentKind.LETTER_OF_INTENT,
        "List intencyjny w sprawie wdrożenia e-strategii",
    ),
    ("e_strategia", DocumentKind.E_STRATEGY, "e-Strategia jednostki samorządu terytorialnego"),
)


@dataclass(frozen=True)
class DemoPerson:
    key: str
    email: str
    full_name: str
    function_title: str | None
    org_key: str
    roles: tuple[Role, ...]


ORGANISATIONS = {
    "eizba": {
        "name": "Izba Gospodarki Elektronicznej",
        "short_name": "e-Izba",
        "kind": OrganisationKind.CHAMBER,
        "head_title": "Prezes Zarządu Izby Gospodarki Elektronicznej",
        "seat": "Warszawa",
    },
    "eizba_slask": {
        "name": "Izba Gospodarki Elektronicznej – Oddział Śląski w Rybniku",
        "short_name": "e-Izba Oddział Śląski",
        "kind": OrganisationKind.CHAMBER_BRANCH,
        "head_title": "Dyrektor Oddziału Śląskiego",
        "seat": "Rybnik",
    },
    "rybnik": {
        "name": "Miasto Rybnik",
        "short_name": "Rybnik",
        "kind": OrganisationKind.MIASTO_NA_PRAWACH_POWIATU,
        "teryt": "2473011",
        "head_title": "Prezydent Miasta Rybnika",
        "seat": "Rybnik",
    },
    "gaszowice": {
        "name": "Gmina Gaszowice",
        "short_name": "Gaszowice",
        "kind": OrganisationKind.GMINA_WIEJSKA,
        "teryt": "2412022",
        "head_title": "Wójt Gminy Gaszowice",
        "seat": "Gaszowice",
    },
}

PEOPLE = (
    DemoPerson("prezes", "prezes@e-izba.demo", "Patrycja Sass-Staniszewska",
               "Prezes Zarządu e-Izby", "eizba", (Role.SIGNATORY, Role.ADMIN)),
    DemoPerson("recenzent", "recenzent@e-izba.demo", "Marek Wiśniewski",
               "Radca prawny", "eizba", (Role.REVIEWER,)),
    DemoPerson("autor", "autor@e-izba.demo", "Katarzyna Zielińska",
               "Menedżer rozwoju regionalnego", "eizba_slask", (Role.AUTHOR,)),
    DemoPerson("archiwista", "archiwista@e-izba.demo", "Tomasz Król",
               "Archiwista", "eizba", (Role.ARCHIVIST,)),
    DemoPerson("prezydent", "prezydent@rybnik.demo", "Piotr Kuczera",
               "Prezydent Miasta Rybnika", "rybnik", (Role.SIGNATORY,)),
    DemoPerson("wojt", "wojt@gaszowice.demo", "Anna Przykładowa",
               "Wójt Gminy Gaszowice", "gaszowice", (Role.SIGNATORY,)),
)  # fmt: skip


@dataclass(frozen=True)
class DemoIds:
    organisations: dict[str, int]
    people: dict[str, int]


def demo_ids(session: Session) -> DemoIds | None:
    """The ids of the demo data, or None when it has not been loaded."""
    orgs = {
        key: session.scalar(select(Organisation.id).where(Organisation.name == spec["name"]))
        for key, spec in ORGANISATIONS.items()
    }
    people = {p.key: session.scalar(select(User.id).where(User.email == p.email)) for p in PEOPLE}
    if None in orgs.values() or None in people.values():
        return None
    return DemoIds(
        organisations={k: v for k, v in orgs.items() if v is not None},
        people={k: v for k, v in people.items() if v is not None},
    )


def load_demo_data(rt: Runtime) -> DemoIds:
    """Load the demo data unless it is there already; return its ids either way."""
    with transaction(rt.sessions) as session:
        existing = demo_ids(session)
        if existing is None:
            _insert(session)
    with transaction(rt.sessions) as session:
        present = set(session.scalars(select(Template.name)))
    for name, kind, title in TEMPLATES:
        if name not in present:
            folder = rt.settings.templates_dir
            register_version(
                rt,
                actor=None,
                name=name,
                kind=kind,
                title=title,
                docx=(folder / f"{name}.docx").read_bytes(),
                filename=f"{name}.docx",
                schema=json.loads((folder / f"{name}.schema.json").read_text("utf-8")),
            )
    with transaction(rt.sessions) as session:
        ids = demo_ids(session)
        assert ids is not None  # noqa: S101  # inserted above
        return ids


def _insert(session: Session) -> None:
    orgs: dict[str, Organisation] = {}
    for key, spec in ORGANISATIONS.items():
        orgs[key] = Organisation(**spec)
        session.add(orgs[key])
    orgs["eizba_slask"].parent = orgs["eizba"]
    password = hash_password(DEMO_PASSWORD)
    for p in PEOPLE:
        user = User(
            email=p.email, full_name=p.full_name, function_title=p.function_title,
            password_hash=password,
        )  # fmt: skip
        session.add(user)
        for role in p.roles:
            user.memberships.append(Membership(organisation=orgs[p.org_key], role=role))
    session.flush()
    audit.append(
        session,
        action="demo.loaded",
        actor_id=None,
        actor="system",
        payload={"organisations": sorted(orgs), "people": [p.email for p in PEOPLE]},
    )
