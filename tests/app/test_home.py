"""Home page: the project's idea and one card per method with paper, task, explanation and status."""
from __future__ import annotations

from backend.core.references import CITATIONS
from backend.registry import METHODS


def test_home_shows_seven_method_cards(run_page, page_text):
    at = run_page("home.py")
    assert not at.exception
    text = page_text(at)
    assert at.title[0].value == "Parsimony explorer"
    assert "parsimony" in text.lower()
    headings = [m.value for m in at.markdown if m.value.startswith("#### ")]
    assert [h[5:] for h in headings] == [m.title for m in METHODS.values()]
    assert len(headings) == 7
    for m in METHODS.values():
        assert CITATIONS[m.paper] in text, f"{m.title}: citation missing"
        assert m.task in text
        assert m.explains in text


def test_home_status_of_each_method(run_page, page_text, monkeypatch, tmp_path):
    from backend.core import store

    monkeypatch.setattr(store, "MODELS_DIR", tmp_path)  # no checkpoints at all
    at = run_page("home.py")
    text = page_text(at)
    planned = [m for m in METHODS.values() if not m.implemented]
    assert text.count("Implementation planned") == len(planned)
    assert text.count("no checkpoint yet") == len(METHODS) - len(planned)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Methods"] == "7"
    assert metrics["Trained checkpoints"] == "0"


def test_home_links_to_method_pages(run_page):
    from ui import page_for_url

    at = run_page("home.py")
    links = [p.proto.page for p in at.get("page_link")]
    for m in METHODS.values():
        page = page_for_url(m.page)
        if page is not None:
            assert any(page.file in link or page.url_path in link for link in links), (m.name, links)
