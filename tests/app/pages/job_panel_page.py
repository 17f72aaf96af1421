"""Test-only page: the job panel running the dummy training (jobs folder from $PARSIMONY_JOBS)."""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from ui.components.job_panel import job_panel  # noqa: E402

st.title("Job panel test")
steps = os.environ.get("JOB_PANEL_TEST_STEPS", "5")
sleep = os.environ.get("JOB_PANEL_TEST_SLEEP", "0.3")
argv = ["--steps", steps, "--sleep", sleep]
if os.environ.get("JOB_PANEL_TEST_FAIL"):
    argv.append("--fail")
job_panel("dummy", argv, key="dummy_job", module="backend.dummy")
