"""What the import-linter contracts (pyproject.toml, run by `make test`) cannot say."""

from __future__ import annotations

import subprocess
import sys

import grimp


def test_states_imports_only_the_standard_library() -> None:
    graph = grimp.build_graph("workflow", include_external_packages=True)
    imported = {m.split(".")[0] for m in graph.find_modules_directly_imported_by("workflow.states")}
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}


def test_importing_the_edges_builds_nothing_and_leaves_the_demo_out() -> None:
    """No engine, thread, process or demo data comes with an import; the web app reaches
    for workflow.demo only when a demo-mode app builds its runtime."""
    probe = (
        "import sys, threading\n"
        "before = threading.active_count()\n"
        "import workflow.runtime, workflow.web.app, workflow.signing.trust, workflow.config\n"
        "assert threading.active_count() == before, 'a thread started at import'\n"
        "demo = sorted(m for m in sys.modules if m.startswith('workflow.demo'))\n"
        "assert not demo, demo\n"
    )
    subprocess.run([sys.executable, "-c", probe], check=True, timeout=120)
