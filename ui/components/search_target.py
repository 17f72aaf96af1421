"""Where the dashboard's searches run: this machine (default) or a Ray cluster, chosen once in the sidebar.

Every search started through :func:`ui.components.job_panel.job_panel` (argv beginning with ``search``) gets the
matching ``--executor`` flags, so a page's search panel needs no code of its own for it.
"""
from __future__ import annotations

import streamlit as st

KIND_KEY = "search-target-kind"
ADDRESS_KEY = "search-target-address"
LOCAL, RAY = "This machine", "Ray cluster"


def search_target_sidebar() -> None:
    """The sidebar's "Searches run on" choice (kept across pages in session state)."""
    with st.expander("Searches run on", expanded=st.session_state.get(KIND_KEY) == RAY):
        kind = st.radio("Searches run on", [LOCAL, RAY], key=KIND_KEY, label_visibility="collapsed",
                        help="Where the candidates of a search started from a page are trained. A Ray cluster "
                             "trains many at once; the trajectory file and the page are the same.")
        if kind == RAY:
            st.text_input("Ray address", value="auto", key=ADDRESS_KEY,
                          help="auto: the cluster `ray start --head` made on this machine; ray://host:10001: a "
                               "remote one; local: a private cluster on this machine. Needs `pip install ray`.")


def search_executor_argv() -> list[str]:
    """The CLI flags of the chosen target: [] for this machine, else --executor ray --ray-address ADDRESS."""
    if st.session_state.get(KIND_KEY) != RAY:
        return []
    address = str(st.session_state.get(ADDRESS_KEY) or "auto").strip() or "auto"
    return ["--executor", "ray", "--ray-address", address]
