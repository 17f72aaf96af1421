"""A page's missing dataset, with the command and a Download button beside it.

Usage in a page::

    from ui.components.data_missing import missing_data_section

    if missing_data_section("family", data_root, key="kg-data-family"):
        ...  # the data is there

When every file of the dataset is under the data root this draws nothing and returns True. Otherwise it shows a
warning naming the dataset, the exact ``python -m backend fetch-data NAME`` command, the download size (the
catalog's bytes of the missing files) and the licence, and a button "Download NAME (12.3 MB)" that runs
``backend.core.data.fetch_dataset`` (pooch, sha256-checked, resumable) with a progress bar, then reruns the page.
A failed download is an ``st.error`` with the backend's one-line message, never a traceback.
"""
from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from backend.core import data
from backend.core.progress import ProgressEvent


def format_bytes(n: int) -> str:
    """12_300_000 -> '12.3 MB' (decimal units, as the datasets page)."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def download_size(ds: data.Dataset, missing: list[str]) -> int:
    """Bytes to download: the catalog's sizes of the ``missing`` files."""
    wanted = set(missing)
    return sum(f.bytes for f in ds.files if f.path in wanted)


class _DownloadBar:
    """Feeds ``fetch_dataset``'s ProgressEvents to an ``st.progress`` bar: bytes of the files downloaded so far
    (each file's own total once its reply says it, the catalog's size until then) over the whole download."""

    def __init__(self, bar, ds: data.Dataset, missing: list[str]) -> None:
        self.bar, self.ds = bar, ds
        self.expected = {f"download {Path(f.download_path).name}": f.bytes for f in ds.files if f.path in missing}
        self.done: dict[str, int] = {}
        self.totals: dict[str, int] = {}
        self.shown = 0.0

    def __call__(self, event: ProgressEvent) -> None:
        if event.stage.startswith("download "):
            self.done[event.stage] = event.step
            if event.total:
                self.totals[event.stage] = event.total
            name = event.stage.removeprefix("download ")
            total = sum(self.totals.get(s, b) for s, b in self.expected.items())
            total += sum(t for s, t in self.totals.items() if s not in self.expected)  # extras, not in the catalog
            got = sum(self.done.values())
            # never backwards: a file's own total may exceed the catalog's (a .gz downloaded as its original)
            self.shown = max(self.shown, min(1.0, got / max(1, total, got)))
            self.bar.progress(self.shown,
                              text=f"Downloading {name}: {format_bytes(got)} of {format_bytes(max(total, got))}")
        elif event.stage.startswith("fetch ") and event.total and event.step >= event.total:
            self.bar.progress(1.0, text=f"Verified {event.step} of {event.total} files of {self.ds.name}")


def missing_data_section(dataset_name: str, data_root: str | os.PathLike | None, key: str) -> bool:
    """True when every file of ``dataset_name`` is under ``data_root`` (None: the data root in use); else draws
    the warning, the command, the size and licence and the Download button, and returns False."""
    root = data.resolve_data_root(data_root)
    try:
        ds = data.get_dataset(dataset_name)
    except data.DataError as exc:
        st.error(str(exc))
        return False
    done_key = f"{key}__downloaded"
    missing = data.missing_files(ds, root)
    if not missing:
        message = st.session_state.pop(done_key, None)
        if message:
            st.success(message)
        return True

    size = download_size(ds, missing)
    shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
    st.warning(f"The dataset **{ds.name}** is not under the data root `{root}` (missing {shown}). "
               f"Download it here, or from a terminal with:", icon=":material/cloud_download:")
    st.code(ds.fetch_command, language="bash")
    st.caption(f"{format_bytes(size)} to download from {_hosts(ds, missing)} · licence: {ds.licence} · "
               f"each file checked against its sha256 in the catalog")
    blocked = [f for f in ds.files if f.path in missing and not f.downloadable]
    if blocked:
        st.info(f"{blocked[0].path}{f' and {len(blocked) - 1} more' if len(blocked) > 1 else ''} cannot be "
                f"downloaded directly ({blocked[0].why_not_downloadable}); see {ds.readme} of the data mirror.")
        return False
    if st.button(f"Download {ds.name} ({format_bytes(size)})", key=f"{key}__download", type="primary",
                 icon=":material/download:"):
        bar = st.progress(0.0, text=f"Downloading {ds.name}…")
        try:
            paths = data.fetch_dataset(ds.name, root, progress=_DownloadBar(bar, ds, missing))
        except Exception as exc:  # noqa: BLE001 - DataError is the expected one; a page never shows a traceback
            bar.empty()
            text = str(exc) if isinstance(exc, data.DataError) else f"{type(exc).__name__}: {exc}"
            st.error(f"Could not download {ds.name}: {text}")
            return False
        st.session_state[done_key] = (f"**{ds.name}** is present under `{root}`: {len(missing)} of its "
                                      f"{len(ds.files)} files downloaded, {len(paths)} files verified against "
                                      f"their sha256.")
        st.rerun()
    return False


def _hosts(ds: data.Dataset, missing: list[str]) -> str:
    from urllib.parse import urlparse

    hosts = list(dict.fromkeys(urlparse(f.url).netloc for f in ds.files if f.path in missing and f.single_url))
    return ", ".join(hosts[:2]) + (" …" if len(hosts) > 2 else "") if hosts else "its public URL"
