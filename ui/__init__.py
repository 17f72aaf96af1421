"""The dashboard's pages: one table that the entry point (streamlit_app.py) and links between pages use.

A page is a file in ``ui/views/``; it is shown only when its file exists, so a method's page appears
as soon as its file lands. Adding a page means one line in :data:`PAGES`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
VIEWS_DIR = PROJECT_ROOT / "ui" / "views"


@dataclass(frozen=True)
class PageSpec:
    file: str          # file name inside ui/views/
    url_path: str      # "" for the default (home) page
    title: str
    icon: str
    section: str       # navigation section

    @property
    def path(self) -> Path:
        return VIEWS_DIR / self.file

    @property
    def link_target(self) -> str:
        """The page as st.page_link / st.switch_page want it: a path relative to the entry point."""
        return f"{VIEWS_DIR.relative_to(PROJECT_ROOT).as_posix()}/{self.file}"

    @property
    def exists(self) -> bool:
        return self.path.is_file()


PAGES: tuple[PageSpec, ...] = (
    PageSpec("home.py", "", "Home", ":material/home:", "Overview"),
    PageSpec("zoo.py", "zoo", "Model zoo", ":material/scatter_plot:", "Overview"),
    PageSpec("datasets.py", "datasets", "Datasets", ":material/database:", "Overview"),
    PageSpec("kg_reasoning.py", "kg-reasoning", "Knowledge-graph reasoning", ":material/hub:", "Methods"),
    PageSpec("kg_search.py", "kg-search", "Scoring-function search", ":material/grid_view:", "Methods"),
    PageSpec("ddi.py", "ddi", "Drug interactions", ":material/medication:", "Methods"),
    PageSpec("molecules.py", "molecules", "Molecular properties (few-shot)", ":material/science:", "Methods"),
    PageSpec("recsys.py", "recsys", "Cold-start recommendation", ":material/recommend:", "Methods"),
    PageSpec("physics.py", "physics", "Formulas", ":material/functions:", "Methods"),
)


def available_pages() -> list[PageSpec]:
    """The pages whose files exist, in navigation order."""
    return [p for p in PAGES if p.exists]


def page_for_url(url_path: str | None) -> PageSpec | None:
    """The page served at ``url_path`` (a Method's ``page``), if its file exists."""
    if not url_path:
        return None
    for p in PAGES:
        if p.url_path == url_path.strip("/") and p.exists:
            return p
    return None
