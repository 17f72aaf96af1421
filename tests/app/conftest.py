"""AppTest helpers: run the real entry point (streamlit_app.py, with its navigation) and switch to a page.

Scripts are given by absolute path, the timeout is generous (the first run imports torch), and the
st.cache_data / st.cache_resource caches are cleared around every test.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.support import page_text as support_page_text
from ui import VIEWS_DIR

PROJECT_ROOT = Path(__file__).resolve().parents[2]
APP = PROJECT_ROOT / "streamlit_app.py"
TIMEOUT = 120


@pytest.fixture(autouse=True)
def clear_streamlit_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def run_page() -> Callable[[str], AppTest]:
    """``run_page("zoo.py")`` -> an AppTest that has run the entry point and then that page."""

    def run(view: str) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        if view != "home.py":
            at.switch_page(f"{VIEWS_DIR.relative_to(PROJECT_ROOT).as_posix()}/{view}")
            at.run()
        return at

    return run


@pytest.fixture
def page_text() -> Callable[[AppTest], str]:
    """``page_text(at)``: all titles, headers, markdown, captions and alerts of a run, joined."""
    return support_page_text
