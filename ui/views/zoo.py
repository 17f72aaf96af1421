"""Model zoo: every trained checkpoint (card.json under models/) beside the papers' reference numbers.

The picture the project is about: quality against size ("parameters vs. metric", log x).
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from backend.core import store
from backend.core.references import CITATIONS, reference_rows
from backend.core.viz import cards_frame, metric_title, parsimony_figure
from backend.registry import METHODS
from ui.components.model_card import show_card, trained_on

#: metric-name prefixes of the same metric under another protocol (e.g. RED-GNN's NBFNet-style ties)
VARIANT_PREFIXES = ("nbfnet_", "optimistic_")
#: metrics shown in the headline table (the CSV and the toggle show every metric)
SECONDARY_METRICS = ("mr",)
REFERENCE_COLUMNS = ["method", "model", "dataset", "setting", "metric", "value", "std", "params", "params_kind",
                     "citation", "note"]
MISSING = "—"
#: checkpoints the table shows without scrolling
ZOO_ROWS_SHOWN = 24
#: the non-metric columns of the checkpoints table
CHECKPOINT_FIELDS = ("method", "dataset", "setting", "params_total", "params_trainable", "params_adaptive",
                     "train_seconds", "epochs", "device", "created", "folder")


def checkpoints_table(cards: list[store.Card], split: str = "test") -> pd.DataFrame:
    """One row per checkpoint: identity, the ``split`` metrics as columns, size, training time, device."""
    rows, metric_names = [], {}
    for c in cards:
        params = c.params or {}
        train = c.train or {}
        metrics = (c.metrics or {}).get(split) or {}
        metric_names.update(dict.fromkeys(metrics))
        rows.append({
            "method": c.method, "dataset": c.dataset, "setting": c.setting, **metrics,
            "params_total": params.get("total"), "params_trainable": params.get("trainable"),
            "params_adaptive": params.get("adaptive"), "train_seconds": train.get("seconds"),
            "epochs": train.get("epochs"), "created": c.created,
            "device": trained_on(train, short=True) if train.get("device") else "",
            "folder": c.path or "",
        })
    columns = ["method", "dataset", "setting", *metric_names, "params_total", "params_trainable", "params_adaptive",
               "train_seconds", "epochs", "device", "created", "folder"]
    frame = pd.DataFrame(rows, columns=columns)
    for col in ("params_total", "params_trainable", "params_adaptive", "epochs"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("Int64")
    for col in (*metric_names, "train_seconds"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce")
    return frame


def headline_columns(frame: pd.DataFrame) -> list[str]:
    """Columns of the on-page table: variant-protocol metrics, mean rank and empty columns left out."""
    return [c for c in frame.columns
            if not c.startswith(VARIANT_PREFIXES) and c not in SECONDARY_METRICS and frame[c].notna().any()]


def references_table(method: str | None = None) -> pd.DataFrame:
    frame = pd.DataFrame(reference_rows(method), columns=REFERENCE_COLUMNS)
    frame["params"] = pd.to_numeric(frame["params"], errors="coerce").astype("Int64")
    return frame


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode("utf-8")


NUMBER_FORMATS = {
    "value": st.column_config.NumberColumn("value", format="%.4f"),
    "std": st.column_config.NumberColumn("std", format="%.3f"),
    "params": st.column_config.NumberColumn("params", format="localized"),
    "params_total": st.column_config.NumberColumn("params total", format="localized"),
    "params_trainable": st.column_config.NumberColumn("params trainable", format="localized"),
    "params_adaptive": st.column_config.NumberColumn("params adaptive", format="localized"),
    "train_seconds": st.column_config.NumberColumn("training time (s)", format="%.1f"),
    "epochs": st.column_config.NumberColumn("epochs", format="%d"),
    "note": st.column_config.TextColumn("note", width="large"),
}

st.title("Model zoo")
st.markdown(
    "Every checkpoint shipped under `models/` (one `card.json` each) beside the numbers the papers "
    "report. The figure puts quality against size: the parsimony claim is that the knowledge-aware "
    "models sit to the **left** (fewer parameters) while staying at the **top** (as good or better)."
)

cards = store.list_cards()
refs = reference_rows()
titles = {m.name: m.title for m in METHODS.values()}

# --- this project's checkpoints -------------------------------------------------------------
st.subheader("Trained checkpoints")
if cards:
    table = checkpoints_table(cards)
    all_metrics = st.toggle("Show every metric (mean rank, other tie policies)", value=False, key="zoo_all_metrics")
    shown = table if all_metrics else table[headline_columns(table)]
    metric_columns = [c for c in shown.columns if c not in CHECKPOINT_FIELDS]
    st.caption(f"{len(cards)} checkpoint{'s' if len(cards) != 1 else ''}, one row each; test metrics"
               + ("." if all_metrics else " (headline metrics; the CSV holds all)."))
    st.dataframe(shown, hide_index=True, width="stretch", placeholder=MISSING, key="zoo_checkpoints",
                 height=min(len(shown), ZOO_ROWS_SHOWN) * 35 + 38,  # the whole zoo at a glance, up to ZOO_ROWS_SHOWN rows
                 column_config={**NUMBER_FORMATS, **{c: st.column_config.NumberColumn(metric_title(c), format="%.4f")
                                                     for c in metric_columns}})
    st.download_button("Download checkpoints table (CSV)", data=_csv(table), file_name="model_zoo.csv",
                       mime="text/csv", icon=":material/download:", key="zoo_download_checkpoints")
else:
    st.info(
        "No trained checkpoints under `models/` yet. Train one with, for example, "
        "`python -m backend train redgnn --dataset family`; until then the page shows the papers' "
        "reference numbers alone.",
        icon=":material/info:",
    )

# --- quality against size -------------------------------------------------------------------
st.subheader("Parameters vs. metric")
metric_options = sorted({r["metric"] for r in refs if r["value"] is not None and r["params"]}
                        | {m for c in cards for m in ((c.metrics or {}).get("test") or {})})
default_metric = "mrr"
if cards:
    counts = pd.Series([m for c in cards for m in ((c.metrics or {}).get("test") or {})]).value_counts()
    default_metric = counts.index[0] if len(counts) else default_metric
left, right = st.columns(2)
metric = left.selectbox("Metric", metric_options, index=metric_options.index(default_metric)
                        if default_metric in metric_options else 0, format_func=metric_title, key="zoo_metric")
frame = cards_frame(cards, refs, priority=(metric,))
frame = frame[frame["metric"] == metric].copy()
ours = frame["source"] == "this project"
frame.loc[ours, "model"] = [titles.get(m, m) for m in frame.loc[ours, "method"]]  # same colour as the paper's
datasets = sorted(frame["dataset"].dropna().unique())
dataset = right.selectbox("Dataset", ["all datasets", *datasets], key="zoo_dataset")
if dataset != "all datasets":
    frame = frame[frame["dataset"] == dataset]
if frame["dataset"].nunique() > 1 or frame["setting"].nunique() > 1:
    # several datasets or settings in one panel: name each point's dataset (and setting) in the legend
    frame["model"] = [f"{m} ({d}{'' if s in ('', 'default', 'transductive') else ', ' + s})"
                      for m, d, s in zip(frame["model"], frame["dataset"], frame["setting"])]
plotted = frame[frame["params_total"].gt(0) & frame["value"].notna()]
title = f"Parameters vs. test {metric_title(metric)}" + ("" if dataset == "all datasets" else f" on {dataset}")
st.plotly_chart(parsimony_figure(frame, title=title), width="stretch", key="zoo_figure")
st.caption(
    f"{len(plotted)} point{'s' if len(plotted) != 1 else ''}: "
    f"{int((plotted['source'] == 'this project').sum())} from this project, "
    f"{int((plotted['source'] != 'this project').sum())} from the papers. "
    "Filled circles: this project's checkpoints; open diamonds: numbers reported in the papers "
    "(hover for dataset, setting and source). Rows without a parameter count are listed in the table below only."
)

# --- the papers' numbers --------------------------------------------------------------------
st.subheader("The papers' reference numbers")
method_names = ["all methods", *dict.fromkeys(r["method"] for r in refs)]
chosen = st.selectbox("Method", method_names, format_func=lambda n: titles.get(n, n), key="zoo_ref_method")
ref_table = references_table(None if chosen == "all methods" else chosen)
st.caption(
    f"{len(ref_table)} numbers as fractions (62.0 % is 0.620), copied with their caveats from the project's "
    "reference notes; `params_kind` says whether a count is the whole model or only the part adapted per task."
)
st.dataframe(ref_table, hide_index=True, width="stretch", column_config=NUMBER_FORMATS, placeholder=MISSING,
             key="zoo_references")
st.download_button("Download reference numbers (CSV)", data=_csv(ref_table), file_name="paper_reference_numbers.csv",
                   mime="text/csv", icon=":material/download:", key="zoo_download_references")
with st.expander("Sources of these numbers"):
    st.markdown("\n".join(f"- **{key}**: {CITATIONS[key]}" for key in dict.fromkeys(ref_table["citation"])))

# --- one card in full -----------------------------------------------------------------------
if cards:
    st.subheader("Model card")
    labels = {f"{c.method} · {c.folder_name}": c for c in cards}
    picked = st.selectbox("Checkpoint", list(labels), key="zoo_card")
    show_card(labels[picked])
