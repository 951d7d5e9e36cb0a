"""Every clientside callback of the page names a function in ``assets/`` (``ClientsideFunction``), none is an inline
string: Dash hands the inline scripts registered at import to the first app made in a process, so a second app (the
test suite makes many; a gunicorn worker may too) served a page without them and the renderer failed reading the
function ("Cannot read properties of undefined"), as every browser test after the first app did in session 14."""

from __future__ import annotations

import ast
from pathlib import Path

import dashboard

DASHBOARD = Path(dashboard.__file__).resolve().parent


def _inline_clientside_calls() -> list[str]:
    found = []
    for path in sorted(DASHBOARD.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "clientside_callback"
                    and node.args and isinstance(node.args[0], (ast.Constant, ast.JoinedStr))):
                found.append(f"{path.name}:{node.lineno}")
    return found


def test_no_clientside_callback_is_an_inline_string():
    assert _inline_clientside_calls() == []


def test_two_apps_in_one_process_both_serve_every_clientside_function():
    from dashboard.app import create_app

    apps = [create_app(), create_app()]
    for app in apps:
        assert app.server.test_client().get("/").status_code == 200  # the first request sets the app's server up
    assert apps[0]._inline_scripts == apps[1]._inline_scripts, [app._inline_scripts for app in apps]
