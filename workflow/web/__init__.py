"""The HTTP API (and later the browser pages) over the use-cases.

Public names: ``create_app`` and ``app_from_env`` (the uvicorn factory). Nothing below
``web/`` imports from here.
"""

from __future__ import annotations

from workflow.web.app import app_from_env, create_app

__all__ = ["app_from_env", "create_app"]
