"""Imports flow one way: web → workflows → checklists → audit; only web imports Flask/WTForms."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["audit", "checklists", "workflows", "web"]
WEB_ONLY = {"flask", "flask_wtf", "flask_login", "flask_babel", "wtforms", "werkzeug"}


def _imports(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield path, alias.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                yield path, node.module.split(".")[0]


@pytest.mark.parametrize("package", LAYERS[:-1])
def test_domain_layers_do_not_import_the_web(package):
    bad = [(str(p.relative_to(ROOT)), name) for p, name in _imports(package) if name in WEB_ONLY]
    assert bad == []


@pytest.mark.parametrize("index", range(len(LAYERS)))
def test_imports_only_point_downwards(index):
    above = set(LAYERS[index + 1 :])
    package = LAYERS[index]
    bad = [(str(p.relative_to(ROOT)), name) for p, name in _imports(package) if name in above]
    assert bad == []
