"""Datasets: every catalog dataset, whether it is under the data root, its files, and checksums on demand.

Thin page: the catalog, presence checks and verification all live in ``backend.core.data``.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import streamlit as st

from backend.core import data
from backend.core.progress import ProgressEvent
from backend.kg.user_graphs import graphs_dir, graphs_frame
from ui.components.data_missing import missing_data_section  # noqa: E402

SMALL_DEFAULT = "umls"  # verifying everything takes a while; start with a small dataset


def _counts_text(counts: dict) -> str:
    return " · ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in counts.items())


@st.cache_data(ttl=30, show_spinner=False)
def dataset_table(root_text: str) -> pd.DataFrame:
    """One row per catalog dataset with its presence under ``root_text`` (existence checks only)."""
    root = Path(root_text)
    rows = [{
        "area": ds.area, "name": ds.name, "description": ds.description, "files": len(ds.files),
        "size MB": round(ds.bytes / 1e6, 2), "counts": _counts_text(ds.counts), "origin": ds.origin,
        "licence": ds.licence, "status": data.dataset_status(ds, root), "note": ds.note,
    } for ds in data.CATALOG.values()]
    return pd.DataFrame(rows)


def file_table(ds: data.Dataset, root: Path) -> pd.DataFrame:
    rows = []
    for f in ds.files:
        local = data.local_copy(f, root)
        rows.append({
            "file": f.path, "KB": round(f.bytes / 1e3, 1), "sha256": f.sha256[:12],
            "here": local.relative_to(root).as_posix() if local is not None else "missing",
            "URL": f.url, "downloadable": "yes" if f.downloadable else f"no: {f.why_not_downloadable}",
        })
    return pd.DataFrame(rows)


def extras_table(ds: data.Dataset, root: Path) -> pd.DataFrame:
    return pd.DataFrame([{
        "file": e.path, "why": e.why, "here": "yes" if (root / e.path).is_file() else "missing",
        "checked by": f"sha256 {e.sha256[:12]}" if e.sha256 else (f"git blob {e.git_blob[:12]}" if e.git_blob
                                                                  else "nothing pinned"),
        "URL": e.url,
    } for e in ds.extras])


def _keep_valid_selection(key: str, options: list[str], default: list[str]) -> None:
    """Initialise a multiselect's state once; drop values that are no longer options (all gone: the default)."""
    if key not in st.session_state:
        st.session_state[key] = default
    else:
        previous = list(st.session_state[key])
        kept = [v for v in previous if v in options]
        st.session_state[key] = kept if kept or not previous else default


def show_verify_result(results: list[data.VerifyResult], names: list[str]) -> None:
    tally = Counter(r.status for r in results)
    ok, missing, corrupt = tally.get("ok", 0), tally.get("missing", 0), tally.get("corrupt", 0)
    summary = (f"Verified {len(results)} files of {len(names)} dataset(s): {ok} ok, {missing} missing, "
               f"{corrupt} corrupt.")
    if corrupt:
        st.error(summary)
    elif missing:
        st.warning(summary)
    else:
        st.success(summary)
    problems = [r for r in results if r.status != "ok"]
    if problems:
        st.dataframe(pd.DataFrame([{"dataset": r.dataset, "file": r.path, "status": r.status, "detail": r.detail}
                                   for r in problems]), hide_index=True, placeholder="—")
        for name in dict.fromkeys(r.dataset for r in problems if r.status == "missing"):
            st.code(data.get_dataset(name).fetch_command, language="bash")


st.title("Datasets")

root = data.resolve_data_root()
st.markdown(f"Data root in use: `{root}` (from {data.describe_data_root()}).")
st.caption("To use another folder, start the dashboard with `PARSIMONY_DATA=/path/to/data streamlit run "
           "streamlit_app.py`; every command line tool also takes `python -m backend --data-dir /path/to/data ...`.")
if not root.is_dir():
    st.warning(f"The data root {root} does not exist yet. Download datasets into it with "
               "`python -m backend fetch-data NAME`, or point PARSIMONY_DATA at an existing copy.")

table = dataset_table(str(root))
areas = list(data.AREAS)
_keep_valid_selection("datasets_areas", areas, areas)
chosen_areas = st.multiselect("Areas", areas, key="datasets_areas")
shown = table[table["area"].isin(chosen_areas)]

present = int((shown["status"] == "present").sum())
st.caption(f"{len(shown)} datasets, {present} present under the data root, "
           f"{shown['size MB'].sum():.1f} MB in the catalog.")
st.dataframe(shown, hide_index=True, placeholder="—",
             column_config={"size MB": st.column_config.NumberColumn(format="%.2f"),
                            "description": st.column_config.TextColumn(width="large"),
                            "note": st.column_config.TextColumn(width="large")})
for area in chosen_areas:
    if data.AREA_NOTES.get(area):
        st.caption(f"**{area}**: {data.AREA_NOTES[area]}")

incomplete = shown[shown["status"] != "present"]
if len(incomplete):
    st.warning(f"{len(incomplete)} dataset(s) are missing or partial under {root}. Get them with:")
    st.code("\n".join(data.get_dataset(n).fetch_command for n in incomplete["name"]), language="bash")

st.subheader("Files and checksums")
options = list(shown["name"])
default = [SMALL_DEFAULT] if SMALL_DEFAULT in options else options[:1]
_keep_valid_selection("datasets_selected", options, default)
chosen = st.multiselect("Datasets to inspect and verify", options, key="datasets_selected",
                        help="Verification hashes every file of the chosen datasets (large ones take seconds).")

for name in chosen:
    ds = data.get_dataset(name)
    status = data.dataset_status(ds, root)
    with st.expander(f"{ds.name} — {status}, {len(ds.files)} files, {ds.bytes / 1e6:.2f} MB", expanded=len(chosen) == 1):
        st.markdown(f"{ds.description}  \nFolder: `{root / ds.folder}`  \nOrigin: {ds.origin}  \nLicence: {ds.licence}")
        if ds.note:
            st.info(ds.note)
        st.dataframe(file_table(ds, root), hide_index=True, placeholder="—")
        if ds.extras:
            st.caption("Not in the mirror; `fetch-data` downloads these from their public URL too:")
            st.dataframe(extras_table(ds, root), hide_index=True, placeholder="—")
        if status != "present":
            missing_data_section(ds.name, root, key=f"datasets-fetch-{ds.name}")

if st.button("Verify checksums", key="datasets_verify", type="primary", disabled=not chosen):
    bar = st.progress(0.0, text="Verifying checksums...")

    def _on_progress(event: ProgressEvent) -> None:
        if event.fraction is not None:
            bar.progress(event.fraction, text=f"Verifying {event.message}")

    try:
        results = data.verify_data(chosen, root, progress=_on_progress)
    except (data.DataError, OSError) as exc:
        st.error(f"Verification failed: {exc}")
    else:
        st.session_state["datasets_verify_result"] = (tuple(chosen), str(root), results)
    finally:
        bar.empty()

last = st.session_state.get("datasets_verify_result")
if last and last[0] == tuple(chosen) and last[1] == str(root):
    show_verify_result(last[2], list(last[0]))

st.subheader("Your own knowledge graphs")
own_graphs = graphs_frame()
st.caption(f"Graphs imported from your own triples (`{graphs_dir()}`), outside the catalog and the data root. "
           "Add one on the Knowledge-graph reasoning page (*Add your own knowledge graph*) or with "
           "`python -m backend import-graph FILE --name NAME`.")
if len(own_graphs):
    st.dataframe(own_graphs, hide_index=True, width="stretch", key="datasets_own_graphs")
else:
    st.info("None yet.")
