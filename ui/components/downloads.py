"""Download buttons laid out in a row (files the user can take away: JSON, CSV, HTML, ...).

Buttons use ``on_click="ignore"``: downloading does not rerun the page.
"""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

#: (label, data, file name, MIME type)
DownloadItem = tuple[str, "bytes | str", str, str]


def download_buttons(items: Sequence[DownloadItem], key: str, max_columns: int = 4) -> None:
    """One ``st.download_button`` per item, side by side (at most ``max_columns`` per row).

    key: a prefix unique on the page; button i gets ``f"{key}-download-{i}"``.
    """
    items = [it for it in items if it is not None]
    if not items:
        return
    n = max(1, min(max_columns, len(items)))
    if columns_for(max(len(it[0]) for it in items)) < n:  # a label too long for the grid: buttons as wide as
        with st.container(horizontal=True):                # their labels, wrapping onto the next line
            for i, (label, data, file_name, mime) in enumerate(items):
                st.download_button(label, data=data, file_name=file_name, mime=mime, key=f"{key}-download-{i}",
                                   on_click="ignore", width="content")
        return
    for start in range(0, len(items), n):
        row = items[start:start + n]
        cols = st.columns(n)
        for j, (label, data, file_name, mime) in enumerate(row):
            with cols[j]:
                st.download_button(label, data=data, file_name=file_name, mime=mime,
                                   key=f"{key}-download-{start + j}", on_click="ignore", width="stretch")


#: the longest label a button shows whole with 4, 3, 2 buttons in a row of the wide layout (characters)
LABEL_FITS = {4: 26, 3: 36, 2: 56}


def columns_for(longest_label: int) -> int:
    """Buttons a row of the grid so that a label of ``longest_label`` characters is not cut off (1: none)."""
    return next((n for n, fits in LABEL_FITS.items() if longest_label <= fits), 1)


def frame_csv(frame: pd.DataFrame) -> bytes:
    """A frame as UTF-8 CSV bytes, without the index."""
    return frame.to_csv(index=False).encode("utf-8")


def frame_download(frame: pd.DataFrame, file_name: str, key: str, label: str = "Download CSV") -> None:
    """One button that downloads ``frame`` as CSV."""
    st.download_button(label, data=frame_csv(frame), file_name=file_name, mime="text/csv", key=key,
                       on_click="ignore", disabled=frame is None or frame.empty)
