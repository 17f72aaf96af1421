"""The page-side progress bar's line and the session store of long results (ui/components/progress.py)."""
from __future__ import annotations

from ui.components.progress import progress_line


def test_progress_line_counts_and_says_the_time_left_once_it_can():
    assert progress_line("Scoring the triples", "distinct queries", 64, 469, 11.0) == \
        "Scoring the triples: 64 of 469 distinct queries · about 1 min 10 s left"  # 405 more at 64 per 11 s
    assert progress_line("Scoring the triples", "distinct queries", 64, 469, 1.5) == \
        "Scoring the triples: 64 of 469 distinct queries"                          # too early to tell
    assert progress_line("Running", "checkpoints", 3, 16, 9.0, "fb237_v2 (inductive)") == \
        "Running: 3 of 16 checkpoints (last: fb237_v2 (inductive)) · about 39.0 s left"
    assert progress_line("Running", "checkpoints", 16, 16, 40.0) == "Running: 16 of 16 checkpoints"


def _page():
    import streamlit as st

    from ui.components.progress import kept_with_progress

    def compute(progress):
        st.session_state["runs"] = st.session_state.get("runs", 0) + 1
        for done in range(1, 4):
            progress(done, 3, f"part {done}")
        return st.session_state["key"] * 10

    st.write(f"result {kept_with_progress('demo', st.session_state['key'], 'Working', 'parts', compute, kept=2)}")


def test_a_result_is_computed_once_per_key_and_the_oldest_is_dropped():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_page)
    at.session_state["key"] = 1
    at.run()
    at.run()  # a rerun with the same key reads the kept result
    assert not at.exception and at.session_state["runs"] == 1 and at.markdown[0].value == "result 10"
    for key in (2, 3, 1):  # 1 was dropped when 3 came (two kept): computed again
        at.session_state["key"] = key
        at.run()
    assert at.session_state["runs"] == 4 and at.markdown[0].value == "result 10"
    assert not at.get("progress")  # the bar is gone once the result is there
