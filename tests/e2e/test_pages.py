"""The dashboard in a real browser: cold deep link, navigation through every page, the zoo's CSV
download, no exception on any page, and a full-page screenshot of each page."""
from __future__ import annotations

import re

import pytest

from ui import available_pages

from .conftest import full_page_screenshot, streamlit_server, wait_for_app

PAGES = available_pages()
ERROR_TEXT = ("Traceback", "Error:")


def nav(page):
    return page.get_by_test_id("stSidebarNav")


def assert_no_exception(page, where: str) -> None:
    not_found = page.get_by_role("dialog").filter(has_text="Page not found")
    assert not_found.count() == 0, f"{where}: Streamlit says 'Page not found'"
    exceptions = page.locator('[data-testid="stException"]')
    assert exceptions.count() == 0, f"{where}: exception shown: {exceptions.first.inner_text()[:500]}"
    body = page.locator('[data-testid="stMain"]').inner_text()
    for text in ERROR_TEXT:
        assert text not in body, f"{where}: {text!r} in the page:\n{body[:1500]}"


def test_cold_deep_link_shows_the_navigation(page):
    """/zoo on a server nobody has visited yet shows the real sidebar navigation, with every page."""
    with streamlit_server("cold") as srv:
        page.goto(f"{srv.url}/zoo")
        wait_for_app(page, heading="Model zoo")
        links = nav(page).get_by_role("link")
        names = [links.nth(i).inner_text().strip() for i in range(links.count())]
        for spec in PAGES:
            assert any(spec.title in n for n in names), f"{spec.title!r} missing from the navigation {names}"
        assert "Overview" in nav(page).inner_text()
        assert_no_exception(page, "/zoo (cold)")


def test_navigate_through_every_page(page, server):
    page.goto(server.url)
    wait_for_app(page, heading="Parsimony explorer")
    for spec in PAGES:
        nav(page).get_by_role("link", name=spec.title).click()
        if spec.url_path:
            page.wait_for_url(re.compile(rf"/{re.escape(spec.url_path)}/?$"))
        else:
            page.wait_for_url(re.compile(r"127\.0\.0\.1:\d+/?$"))
        wait_for_app(page, heading=spec.title if spec.url_path else "Parsimony explorer")
        assert_no_exception(page, spec.title)
        shot = full_page_screenshot(page, spec.file.removesuffix(".py"))
        assert shot.stat().st_size > 10_000


@pytest.mark.parametrize("spec", PAGES, ids=[p.file.removesuffix(".py") for p in PAGES])
def test_no_exception_on_direct_load(page, server, spec):
    page.goto(f"{server.url}/{spec.url_path}")
    wait_for_app(page)
    assert_no_exception(page, spec.title)
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert len(main.strip()) > 200, f"{spec.title}: almost empty page"


def test_zoo_csv_download(page, server, tmp_path):
    from backend.core.store import list_cards

    page.goto(f"{server.url}/zoo")
    wait_for_app(page, heading="Model zoo")
    cards = list_cards()
    if cards:
        label, header = "Download checkpoints table (CSV)", "method,dataset,setting,"
    else:
        label, header = "Download reference numbers (CSV)", "method,model,dataset,setting,metric,value"
    with page.expect_download() as info:
        page.get_by_role("button", name=label).click()
    download = info.value
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith(header), lines[0]
    assert len(lines) > 1
    if cards:
        assert len(lines) == len(cards) + 1  # a header and one row per checkpoint
