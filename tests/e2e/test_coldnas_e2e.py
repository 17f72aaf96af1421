"""The cold-start recommendation page in a real browser: rate artists -> the recommendations change (the previous
list stays beside them) -> download them. Uses the shipped Last.fm checkpoint (models/coldnas/lastfm)."""
from __future__ import annotations

import pytest

from .conftest import PROJECT_ROOT, choose, full_page_screenshot, private_runs, streamlit_server, wait_for_app

HEADING = "Cold-start recommendation"
SHIPPED = PROJECT_ROOT / "models" / "coldnas" / "lastfm"


@pytest.fixture(scope="module")
def recsys_server(tmp_path_factory, data_root):
    from backend.core.data import CATALOG, dataset_status

    if dataset_status(CATALOG["lastfm"], data_root) != "present":
        pytest.skip(f"lastfm is not under {data_root}: python -m backend fetch-data lastfm")
    if not (SHIPPED / "card.json").is_file():
        pytest.skip("no shipped ColdNAS Last.fm checkpoint")
    tmp = tmp_path_factory.mktemp("coldnas-e2e")
    with private_runs(tmp), streamlit_server("coldnas") as srv:
        yield srv


def download_recommendations(page, tmp_path, name: str) -> str:
    main = page.get_by_test_id("stMain")
    with page.expect_download() as info:
        main.get_by_role("button", name="Download recommendations (CSV)").first.click()
    target = tmp_path / name
    info.value.save_as(target)
    return target.read_text(encoding="utf-8")


def rate(page, artist: str) -> None:
    choose(page, "Find an artist", artist, typed=artist)
    page.get_by_test_id("stMain").get_by_role("button", name="Add / change").first.click()
    page.wait_for_timeout(500)
    wait_for_app(page)


def test_rate_artists_recommendations_change_and_download(page, recsys_server, tmp_path):
    page.goto(f"{recsys_server.url}/recsys")
    wait_for_app(page, heading=HEADING)
    main = page.get_by_test_id("stMain")
    main.get_by_text("Rate a few artists").first.wait_for()
    before = download_recommendations(page, tmp_path, "before.csv")
    assert before.splitlines()[0] == "rank,item,item_id,predicted_rating,change"

    rate(page, "Pink Floyd")
    main.get_by_text("Now (1 rating)").first.wait_for()
    one = download_recommendations(page, tmp_path, "one.csv")
    rate(page, "Linkin Park")
    main.get_by_text("Now (2 ratings)").first.wait_for()
    two = download_recommendations(page, tmp_path, "two.csv")
    assert one != before and two != one                 # each rating changes the recommendations
    assert "Pink Floyd" not in two and "Linkin Park" not in two   # rated artists are not recommended
    assert any(mark in two for mark in ("▲", "▼", "new", "="))    # movement against the previous list
    # the previous list is shown beside the new one, and the influence bars for a recommendation
    assert main.get_by_text("Before your last change").count() >= 1
    main.get_by_text("What moved").first.wait_for()
    assert main.locator(".js-plotly-plot").count() >= 3
    assert page.locator('[data-testid="stException"]').count() == 0
    page.wait_for_timeout(1500)
    shot = full_page_screenshot(page, "coldnas_recommendations")
    assert shot.stat().st_size > 10_000
