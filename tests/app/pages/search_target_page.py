"""Test page: the sidebar's "Searches run on" choice and a search job panel below it."""
import streamlit as st

from ui.components.job_panel import job_panel
from ui.components.search_target import search_target_sidebar

with st.sidebar:
    search_target_sidebar()
job_panel("toy search", ["search", "toy", "--dataset", "line"], key="search-target-test")
