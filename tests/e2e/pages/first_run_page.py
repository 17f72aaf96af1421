"""Test-only page for tests/e2e/test_first_run.py: a first run whose dataset is missing.

The catalog is replaced by one toy dataset whose single file the test serves from a local HTTP server:
$FIRST_RUN_URL (its address), $FIRST_RUN_SHA256 and $FIRST_RUN_BYTES (its checksum and size); the data root
is $FIRST_RUN_DATA_ROOT. The page calls the missing-data section a real page calls.
"""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from backend.core import data  # noqa: E402
from ui.components.data_missing import missing_data_section  # noqa: E402

data.CATALOG = {"toy": data.Dataset(
    name="toy", area="toy", description="toy triples served by the test", origin="the test's HTTP server",
    licence="CC0-1.0", counts={"triples": 1}, folders=("toy/set",),
    files=(data.DataFile(path="toy/set/triples.txt", bytes=int(os.environ["FIRST_RUN_BYTES"]),
                         sha256=os.environ["FIRST_RUN_SHA256"], url=os.environ["FIRST_RUN_URL"], licence="CC0-1.0",
                         source_sha256=os.environ["FIRST_RUN_SHA256"], transform="verbatim copy"),))}

st.title("First run")
if missing_data_section("toy", os.environ["FIRST_RUN_DATA_ROOT"], key="first-run-toy"):
    st.markdown("The toy knowledge graph is ready.")
