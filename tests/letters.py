"""Building blocks for workflow tests: the Rybnik letter of intent as in the demo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from workflow.demo.data import DemoIds
from workflow.documents.drafting import PartyInput, SignatoryInput, create_document
from workflow.identity.actors import Actor
from workflow.rendering.engine import SYSTEM_VARIABLES
from workflow.runtime import Runtime
from workflow.views import DocumentView

EXAMPLE = Path(__file__).resolve().parents[1] / "templates/examples/list_intencyjny.rybnik.json"


def letter_values() -> dict[str, Any]:
    data = json.loads(EXAMPLE.read_text("utf-8"))
    return {k: v for k, v in data.items() if k not in SYSTEM_VARIABLES}


def rybnik_letter(
    rt: Runtime, actors: dict[str, Actor], demo: DemoIds, **overrides: Any
) -> DocumentView:
    org, people = demo.organisations, demo.people
    kwargs: dict[str, Any] = {
        "actor": actors["autor"],
        "template_name": "list_intencyjny",
        "title": "List intencyjny w sprawie wdrożenia e-strategii Miasta Rybnika",
        "values": letter_values(),
        "parties": [PartyInput(org["eizba"]), PartyInput(org["rybnik"])],
        "signatories": [SignatoryInput(people["prezes"]), SignatoryInput(people["prezydent"])],
    }
    kwargs.update(overrides)
    return create_document(rt, **kwargs)
