"""The administration of people through its forms: add a person, give and take a role,
deactivate; errors beside their fields; every change audited."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.web.pages.conftest import PageLogin, csrf_of, sign_in
from workflow.db import transaction
from workflow.demo.data import DemoIds
from workflow.models import AuditRecord, Membership, User
from workflow.runtime import Runtime

NEW_PASSWORD = "Rybnik-Ratusz-2026!"


def _person_id(rt: Runtime, email: str) -> int:
    with transaction(rt.read_sessions) as session:
        user_id = session.scalar(select(User.id).where(User.email == email))
    assert user_id is not None
    return user_id


def test_add_a_person_give_a_role_and_deactivate(
    page_login: PageLogin, clients: Callable[[], TestClient], rt: Runtime, demo: DemoIds
) -> None:
    admin = page_login("prezes")
    page = admin.get("/admin/people")
    assert page.status_code == 200
    assert "<h1>Osoby i role</h1>" in page.text
    assert "Piotr Kuczera" in page.text and "prezydent@rybnik.demo" in page.text
    created = admin.post(
        "/admin/people",
        data={
            "csrf_token": csrf_of(page.text), "full_name": "Jan  Sekretarz",
            "email": "Sekretarz@Rybnik.demo", "function_title": "Sekretarz Miasta",
            "new_password": NEW_PASSWORD,
        },
        follow_redirects=False,
    )  # fmt: skip
    assert created.status_code == 303
    user_id = _person_id(rt, "sekretarz@rybnik.demo")
    assert created.headers["location"] == f"/admin/people?done=created#person-{user_id}"
    listed = admin.get(created.headers["location"]).text
    assert "Dodano osobę." in listed and "Jan Sekretarz" in listed

    given = admin.post(
        f"/admin/people/{user_id}/memberships",
        data={
            "csrf_token": csrf_of(listed), "organisation_id": str(demo.organisations["rybnik"]),
            "role": "signatory",
        },
        follow_redirects=False,
    )  # fmt: skip
    assert given.status_code == 303
    with transaction(rt.read_sessions) as session:
        roles = session.execute(
            select(Membership.id, Membership.organisation_id, Membership.role).where(
                Membership.user_id == user_id
            )
        ).all()
    assert [(r.organisation_id, r.role.value) for r in roles] == [
        (demo.organisations["rybnik"], "signatory")
    ]

    # The new person signs in and sees their dashboard.
    newcomer = clients()
    assert sign_in(newcomer, "sekretarz@rybnik.demo", NEW_PASSWORD).status_code == 303
    assert newcomer.get("/", follow_redirects=False).status_code == 200

    listed = admin.get("/admin/people").text
    taken = admin.post(
        f"/admin/memberships/{roles[0].id}/delete", data={"csrf_token": csrf_of(listed)},
        follow_redirects=False,
    )  # fmt: skip
    assert taken.status_code == 303
    off = admin.post(
        f"/admin/people/{user_id}/deactivate", data={"csrf_token": csrf_of(listed)},
        follow_redirects=False,
    )  # fmt: skip
    assert off.status_code == 303
    # Their session ended at once, and they cannot sign in again.
    ended = newcomer.get("/", follow_redirects=False)
    assert ended.status_code == 303 and ended.headers["location"] == "/login?next=/&expired=1"
    assert "Your session has ended." in newcomer.get(ended.headers["location"]).text
    assert sign_in(clients(), "sekretarz@rybnik.demo", NEW_PASSWORD).status_code == 401
    assert "dezaktywowane" in admin.get("/admin/people").text
    with transaction(rt.read_sessions) as session:
        actions = session.scalars(
            select(AuditRecord.action).where(AuditRecord.action.like("registry.%"))
        ).all()
    assert actions == [
        "registry.person_created", "registry.membership_added",
        "registry.membership_removed", "registry.person_deactivated",
    ]  # fmt: skip


def test_errors_beside_their_fields(page_login: PageLogin, rt: Runtime) -> None:
    admin = page_login("prezes")
    page = admin.get("/admin/people").text
    form = {
        "csrf_token": csrf_of(page), "full_name": "Ewa Nowak", "email": "to nie adres",
        "function_title": "", "new_password": NEW_PASSWORD,
    }  # fmt: skip
    bad_email = admin.post("/admin/people", data=form)
    assert bad_email.status_code == 422
    assert re.search(
        r'aria-invalid="true" aria-describedby="f-email-error">\s*'
        r'<p class="field__error" id="f-email-error">Wpisz adres e-mail w postaci',
        bad_email.text,
    )
    assert 'value="Ewa Nowak"' in bad_email.text  # what was typed stays
    taken = admin.post("/admin/people", data={**form, "email": "autor@e-izba.demo"})
    assert taken.status_code == 422
    assert "Osoba z adresem autor@e-izba.demo już jest w rejestrze." in taken.text
    short = admin.post(
        "/admin/people", data={**form, "email": "ewa@rybnik.demo", "new_password": "krotkie"}
    )
    assert short.status_code == 422
    assert 'id="f-new_password-error"' in short.text
    with transaction(rt.read_sessions) as session:
        assert session.scalar(select(User.id).where(User.full_name == "Ewa Nowak")) is None


def test_admin_forms_need_csrf_and_an_admin(
    page_login: PageLogin, rt: Runtime, demo: DemoIds
) -> None:
    admin = page_login("prezes")
    wojt_id = demo.people["wojt"]
    r = admin.post(f"/admin/people/{wojt_id}/deactivate", data={}, follow_redirects=False)
    assert r.status_code == 403
    reviewer = page_login("recenzent")
    token = csrf_of(reviewer.get("/").text)
    r = reviewer.post(f"/admin/people/{wojt_id}/deactivate", data={"csrf_token": token})
    assert r.status_code == 403
    with transaction(rt.read_sessions) as session:
        assert session.scalar(select(User.is_active).where(User.id == wojt_id)) is True
    own = admin.post(
        f"/admin/people/{demo.people['prezes']}/deactivate",
        data={"csrf_token": csrf_of(admin.get("/").text)},
    )
    assert own.status_code == 403
    assert "Nie możesz dezaktywować własnego konta." in own.text
