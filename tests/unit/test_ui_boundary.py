"""Pages reach methods only through backend.registry: nothing under ui/ imports backend.methods (backend.core and
backend.kg data helpers are fine), and a method never imports streamlit."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def test_nothing_under_ui_imports_a_method():
    offending = [f"{path.relative_to(ROOT)}:{line} imports {name}"
                 for path in sorted((ROOT / "ui").rglob("*.py")) + [ROOT / "streamlit_app.py"]
                 for line, name in _imports(path) if name == "backend.methods" or name.startswith("backend.methods.")]
    assert offending == [], "\n".join(offending)


def test_no_method_imports_streamlit():
    offending = [f"{path.relative_to(ROOT)}:{line} imports {name}"
                 for path in sorted((ROOT / "backend").rglob("*.py"))
                 for line, name in _imports(path) if name == "streamlit" or name.startswith("streamlit.")]
    assert offending == [], "\n".join(offending)


def test_the_check_sees_a_violation(tmp_path):
    """The scanner finds both import forms (a test that cannot fail is no test)."""
    sample = tmp_path / "page.py"
    sample.write_text("import backend.methods.redgnn\nfrom backend.methods import redgnn\n"
                      "def f():\n    from backend.methods.redgnn.explain import load_model\n", encoding="utf-8")
    names = [name for _, name in _imports(sample)]
    assert "backend.methods.redgnn" in names and "backend.methods.redgnn.explain" in names
    assert "backend.methods.redgnn" in [n for n in names if n.startswith("backend.methods")]
