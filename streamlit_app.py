"""Entry point of the dashboard: ``streamlit run streamlit_app.py``.

Builds the navigation (st.navigation over ui/views/*.py, grouped in sections) and the sidebar
shared by every page: the background jobs running now (progress, time left, a link to the page that
holds each job's panel), the data root in use and the device models run on.

The entry point stays light: it imports neither torch nor plotly before a page draws. The device line
(torch) is filled in after the page has run, into a slot reserved in the sidebar.
"""
from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:  # `streamlit run` from another folder
    sys.path.insert(0, str(ROOT))

from ui import PAGES, VIEWS_DIR, PageSpec  # noqa: E402
from ui.components.running_jobs import running_jobs_sidebar  # noqa: E402
from ui.components.search_target import search_target_sidebar  # noqa: E402

st.set_page_config(page_title="Parsimony explorer", page_icon=":material/scatter_plot:", layout="wide")


def _extra_views() -> list[PageSpec]:
    """View files not (yet) in the page table: shown under Methods with a title from their name."""
    known = {p.file for p in PAGES}
    return [PageSpec(f.name, f.stem.replace("_", "-"), f.stem.replace("_", " ").capitalize(), ":material/article:",
                     "Methods")
            for f in sorted(VIEWS_DIR.glob("*.py")) if not f.name.startswith("_") and f.name not in known]


def build_navigation() -> dict[str, list]:
    sections: dict[str, list] = {}
    for spec in [p for p in PAGES if p.exists] + _extra_views():
        page = st.Page(spec.path, title=spec.title, icon=spec.icon, url_path=spec.url_path or None,
                       default=spec.url_path == "")
        sections.setdefault(spec.section, []).append(page)
    return sections


@st.cache_data(show_spinner=False)
def _device_text() -> str:
    try:
        from backend.core.device import select_device
        import torch

        device = select_device()
        if device.type == "cuda":
            return f"cuda ({torch.cuda.get_device_name(device)})"
        n = torch.get_num_threads()
        return f"cpu ({n} thread{'' if n == 1 else 's'})"
    except ValueError as exc:  # e.g. PARSIMONY_DEVICE=cuda on a machine without CUDA
        return f"cpu — {exc}"


def _data_root_text() -> tuple[str, str, bool] | None:
    """(path, where it comes from, exists) of the data root, or None before backend.core.data exists."""
    try:
        from backend.core import data
    except ImportError:
        return None
    root = Path(data.resolve_data_root(None))
    origin = data.describe_data_root(None) if hasattr(data, "describe_data_root") else ""
    return str(root), origin, root.is_dir()


def sidebar():
    """The shared sidebar; returns the slot the device line goes into once the page has run."""
    with st.sidebar:
        running_jobs_sidebar()
        data_root = _data_root_text()
        if data_root is not None:
            path, origin, present = data_root
            st.caption("Data root" + (f", from {origin}" if origin.startswith("$") else "")
                       + ("" if present else " (not created yet)"))
            st.code(path, language=None, wrap_lines=True)
        device = st.container()
        search_target_sidebar()
        st.caption("Set `PARSIMONY_DATA` / `PARSIMONY_DEVICE` before starting to change them.")
    return device


def device_line(slot) -> None:
    with slot:
        st.caption("Device")
        st.code(_device_text(), language=None, wrap_lines=True)


navigation = st.navigation(build_navigation(), position="sidebar", expanded=True)
device_slot = sidebar()
navigation.run()
device_line(device_slot)  # after the page: its first paint never waits for torch's import
