"""Administration of people, their roles and organisations (``/admin/people``): e-Izba
office admins only."""

from __future__ import annotations

from workflow.web.pages.errors import page_router

router = page_router(tags=["pages"])
