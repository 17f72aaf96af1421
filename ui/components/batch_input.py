"""Any method's batch input: upload a table (or paste rows), every readable row predicted through the loaded
model's ``predict(table=...)``, every other row listed with its line and reason, results and skipped rows
downloadable. The upload limit is the dashboard's one (backend.core.tables.upload_limit_bytes)."""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable

import pandas as pd
import streamlit as st

from backend.core.tables import upload_limit_bytes
from ui.components.downloads import download_buttons, frame_csv
from ui.components.progress import kept_with_progress

PROBLEM_COLUMNS = ["row", "column", "value", "reason"]


def predicted_table(model, key: Hashable, source: bytes, max_rows: int, query: dict | None = None):
    """(predictions, skipped rows, problem lines) of ``source`` through ``model.predict(table=...)``, with a progress
    bar; kept for the session under ``key`` and the source's checksum."""

    def compute(progress):
        frame = model.predict(query, table=source, progress=progress, max_rows=max_rows)
        skipped = pd.DataFrame(frame.attrs.get("problem_rows", []), columns=PROBLEM_COLUMNS)
        return frame, skipped, list(frame.attrs.get("problems", []))

    return kept_with_progress("batch-predictions", (key, hashlib.sha256(source).hexdigest(), max_rows),
                              "Predicting the rows", "distinct queries", compute)


def batch_input_section(model, key: Hashable, tag: str, *, explanation: str, example: str, file_stem: str,
                        max_rows: int, column_config: dict | None = None, query: dict | None = None,
                        file_label: str = "Table file",
                        on_error: Callable[[Exception], None] | None = None) -> pd.DataFrame | None:
    """Upload or paste a table, predict its rows; returns the predictions (None before any input).
    ``explanation``: what the table holds (a caption); ``example``: rows in the format read (the placeholder)."""
    limit_mb = upload_limit_bytes() // (1 << 20)
    st.caption(explanation + f" Files up to {limit_mb} MB, UTF-8; the page reads the first {max_rows:,} rows.")
    c1, c2 = st.columns(2)
    upload = c1.file_uploader(file_label, type=["csv", "tsv", "txt"], key=f"batch-file-{tag}")
    pasted = c2.text_area("…or paste rows", key=f"batch-text-{tag}", height=120, placeholder=example,
                          disabled=upload is not None, help="One row per line, tab- or comma-separated")
    source = upload.getvalue() if upload is not None else pasted.encode("utf-8")
    if not source.strip():
        return None
    try:
        frame, skipped, problems = predicted_table(model, key, source, max_rows, query)
    except (ValueError, KeyError, OSError, RuntimeError) as exc:
        (on_error or (lambda e: st.error(f"Could not read the table: {e}")))(exc)
        return None
    if problems:
        lead = (f"{len(skipped):,} row{'' if len(skipped) == 1 else 's'} could not be used — the others are "
                "predicted:" if len(skipped) else "Not every row was read:")
        st.warning(lead + "\n\n" + "\n".join(f"- {line}" for line in problems[:20])
                   + (f"\n- … {len(problems) - 20:,} more in the skipped-rows download" if len(problems) > 20 else ""))
    for sentence in frame.attrs.get("sentences", []):
        st.markdown(sentence)
    if not frame.empty:
        st.dataframe(frame, hide_index=True, width="stretch", column_config=column_config or {},
                     height=min(388, (len(frame) + 1) * 35 + 3))  # every row up to ten, then a scroll
    items = [("Download results (CSV)", frame_csv(frame), f"{file_stem}.csv", "text/csv")]
    if len(skipped):
        items.append(("Download skipped rows (CSV)", frame_csv(skipped), f"{file_stem}-skipped.csv", "text/csv"))
    download_buttons(items, key=f"batch-{tag}")
    return frame
