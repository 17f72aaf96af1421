"""Shared test setup: the data root and the markers.

PARSIMONY_DATA defaults to ``../shared/data`` next to the project (as in CI) when it is not set and
that folder exists; tests that need data skip with a message when it is absent.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"

if "PARSIMONY_DATA" not in os.environ and SHARED_DATA.is_dir():
    os.environ["PARSIMONY_DATA"] = str(SHARED_DATA)


def pytest_configure(config: pytest.Config) -> None:
    for line in (
        "app: Streamlit AppTest page tests (tests/app)",
        "e2e: browser tests against a running `streamlit run` (tests/e2e)",
        "slow: tests that take more than a few seconds",
    ):
        config.addinivalue_line("markers", line)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).parts
        if "app" in parts:
            item.add_marker(pytest.mark.app)
        elif "e2e" in parts:
            item.add_marker(pytest.mark.e2e)


_SECONDS_BY_AREA: dict[str, float] = {}
#: test files by the method (or shared area) they test, for the suite's time budget (about 3 minutes a method)
AREAS = ("redgnn", "kg", "autoblm", "emergnn", "par", "pacia", "coldnas", "gsr", "toy")  # "kg": the RED-GNN page


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    words = Path(report.fspath).stem.split("_")  # test_redgnn_apply -> redgnn; test_evidence_parts -> shared
    area = next((a for a in AREAS if a in words), "shared").replace("kg", "redgnn")
    _SECONDS_BY_AREA[area] = _SECONDS_BY_AREA.get(area, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter) -> None:
    """Where the suite's time goes, per method (budget: about 3 minutes each on a 2-core CPU)."""
    if _SECONDS_BY_AREA:
        terminalreporter.write_line("time by method: " + ", ".join(
            f"{area} {seconds / 60:.1f} min" for area, seconds in sorted(_SECONDS_BY_AREA.items(),
                                                                           key=lambda kv: -kv[1])))


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_ROOT


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The data root the tests use ($PARSIMONY_DATA); skips when it does not exist."""
    root = os.environ.get("PARSIMONY_DATA")
    if not root or not Path(root).is_dir():
        pytest.skip("no data root: set PARSIMONY_DATA (CI uses ../shared/data)")
    return Path(root)


@pytest.fixture(scope="session")
def umls(data_root):
    """The shipped RED-GNN umls checkpoint, loaded once on the CPU (skips when it is not shipped)."""
    from backend.core import store
    from backend.methods.redgnn.explain import load_model

    path = store.MODELS_DIR / "redgnn" / "umls"
    if not (path / "card.json").exists():
        pytest.skip(f"{path} is not shipped")
    return load_model(path, "cpu")
