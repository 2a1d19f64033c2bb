"""Administration of people, their roles and organisations (``/admin/people``): for
administrators of an e-Izba office; everyone else gets the 403 page (the use-cases of
``workflow.registry.people`` refuse them). Each change is a POST form with the session's
CSRF token, answered by a redirect back to the list (POST/redirect/GET) or, when a field
is wrong, by the page again with the message beside that field."""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import Form, Request, Response
from fastapi.responses import RedirectResponse

from workflow.errors import InvalidInput
from workflow.i18n import ui_text
from workflow.registry import people
from workflow.states import Role
from workflow.web.deps import get_context
from workflow.web.pages.deps import FormCsrfDep, PageActor, page_language
from workflow.web.pages.errors import field_errors, page_router
from workflow.web.pages.rendering import render_page
from workflow.web.types import DbId

router = page_router(prefix="/admin", tags=["pages"])

#: What ``?done=`` after a change says (msgids of ``ui_common.po``).
DONE: Final[dict[str, str]] = {
    "created": "The person was added. Now give them a role in an organisation.",
    "added": "The role was given.",
    "removed": "The role was taken away.",
    "deactivated": "The account was deactivated and its sessions ended.",
}


def _page(
    request: Request,
    actor: Any,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    row_errors: dict[int, dict[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    rt = get_context(request).runtime
    done = DONE.get(request.query_params.get("done", ""))
    return render_page(
        request, "admin/people.html", status_code=status_code,
        people=people.list_people(rt, actor=actor),
        organisations=people.organisation_choices(rt, actor=actor),
        roles=list(Role), form=form or {}, errors=errors or {}, row_errors=row_errors or {},
        flash=ui_text(done, page_language(request)) if done else None, flash_kind="success",
    )  # fmt: skip


def _back(done: str, anchor: str = "") -> Response:
    return RedirectResponse(f"/admin/people?done={done}{anchor}", status_code=303)


@router.get("/people")
def people_page(request: Request, actor: PageActor) -> Response:
    return _page(request, actor)


@router.post("/people")
def create_person(
    request: Request,
    actor: PageActor,
    _: FormCsrfDep,
    email: Annotated[str, Form(max_length=320)] = "",
    full_name: Annotated[str, Form(max_length=400)] = "",
    function_title: Annotated[str, Form(max_length=400)] = "",
    new_password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    try:
        user_id = people.create_person(
            get_context(request).runtime, actor=actor, email=email, full_name=full_name,
            function_title=function_title, password=new_password,
        )  # fmt: skip
    except InvalidInput as exc:
        form = {"email": email, "full_name": full_name, "function_title": function_title}
        return _page(request, actor, form=form, errors=field_errors(request, exc), status_code=422)
    return _back("created", f"#person-{user_id}")


@router.post("/people/{user_id}/memberships")
def add_membership(
    request: Request,
    user_id: DbId,
    actor: PageActor,
    _: FormCsrfDep,
    organisation_id: Annotated[str, Form(max_length=20)] = "",
    role: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    try:
        org = int(organisation_id) if organisation_id.isdigit() else 0
        people.add_membership(
            get_context(request).runtime, actor=actor, user_id=user_id, organisation_id=org,
            role=role,
        )  # fmt: skip
    except InvalidInput as exc:
        return _page(
            request, actor, row_errors={user_id: field_errors(request, exc)}, status_code=422
        )
    return _back("added", f"#person-{user_id}")


@router.post("/memberships/{membership_id}/delete")
def remove_membership(
    request: Request, membership_id: DbId, actor: PageActor, _: FormCsrfDep
) -> Response:
    people.remove_membership(get_context(request).runtime, actor=actor, membership_id=membership_id)
    return _back("removed")


@router.post("/people/{user_id}/deactivate")
def deactivate(request: Request, user_id: DbId, actor: PageActor, _: FormCsrfDep) -> Response:
    people.deactivate_person(get_context(request).runtime, actor=actor, user_id=user_id)
    return _back("deactivated", f"#person-{user_id}")
