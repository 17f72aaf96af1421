"""Model zoo: the parsimony story, one panel per task and dataset, then every trained checkpoint (card.json under
models/) and the papers' reference numbers.

Everything here is driven by the registry (each method's declared headline metric and direction, its task) and by
backend/core/references.py: a new method's cards and reference rows bring their own panels, with no code here.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from backend.core import store
from backend.core.references import CITATIONS, reference_rows
from backend.core.viz import (
    ROLE_STYLE,
    ROLES,
    card_headline,
    cards_frame,
    metric_title,
    panel_figure,
    panels_frame,
    parsimony_panels,
    round_sig,
)
from backend.registry import METHODS
from ui.components.model_card import format_seconds, show_card, trained_on

#: metrics shown in the headline table (the CSV and the toggle show every metric)
SECONDARY_METRICS = ("mr",)
REFERENCE_COLUMNS = ["method", "model", "dataset", "setting", "metric", "value", "std", "params", "params_kind",
                     "params_source", "knowledge_aware", "citation", "source", "note"]
#: the reference download: the citation's full text and where in the work, instead of the project's own notes
REFERENCE_CSV_COLUMNS = ["method", "model", "dataset", "setting", "metric", "value", "std", "params", "params_kind",
                         "params_source", "knowledge_aware", "citation", "source"]
MISSING = "—"
#: checkpoints the table shows without scrolling
ZOO_ROWS_SHOWN = 24
#: the non-metric columns of the checkpoints table
CHECKPOINT_FIELDS = ("method", "dataset", "setting", "headline", "over_seeds", "params_total", "params_trainable",
                     "params_adaptive", "training_time", "epochs", "device", "created", "folder", "reference")
#: parsimony panels side by side on a wide screen (Streamlit stacks columns on a phone)
PANELS_PER_ROW = 2
#: significant digits of the metrics in the downloads
DIGITS = 4


def checkpoints_table(cards: list[store.Card], split: str = "test") -> tuple[pd.DataFrame, list[str]]:
    """One row per checkpoint: identity, its headline metric (and its mean ± std over seeds where the card has
    seeds), the ``split`` metrics as columns (each variant as "<variant>_<metric>"), size, training time, device;
    and the names of the variant columns."""
    rows, metric_names, variant_names = [], {}, {}
    for c in cards:
        params = c.params or {}
        train = c.train or {}
        metrics = c.flat_metrics(split)
        plain = (c.metrics or {}).get(split) or {}
        metric_names.update(dict.fromkeys(plain))
        variant_names.update(dict.fromkeys(k for k in metrics if k not in plain))
        headline, _, _ = card_headline(c, split)
        rows.append({
            "method": c.method, "dataset": c.dataset, "setting": c.setting,
            "headline": metric_title(headline) if headline else "",
            "over_seeds": c.seed_text(split, headline) if headline else "", **metrics,
            "params_total": params.get("total"), "params_trainable": params.get("trainable"),
            "params_adaptive": params.get("adaptive"),
            "training_time": format_seconds(train.get("seconds")) if train.get("seconds") is not None else "",
            "epochs": train.get("epochs"), "created": c.created,
            "device": trained_on(train, short=True) if train.get("device") else "",
            "folder": c.path or "", "reference": CITATIONS.get(c.reference, c.reference),
        })
    columns = ["method", "dataset", "setting", "headline", "over_seeds", *metric_names, *variant_names,
               "params_total", "params_trainable", "params_adaptive", "training_time", "epochs", "device", "created",
               "folder", "reference"]
    frame = pd.DataFrame(rows, columns=columns)
    for col in ("params_total", "params_trainable", "params_adaptive", "epochs"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("Int64")
    for col in (*metric_names, *variant_names):
        frame[col] = pd.to_numeric(frame[col], errors="coerce")
    return frame, list(variant_names)


def shown_columns(frame: pd.DataFrame, variants: list[str]) -> list[str]:
    """Columns of the on-page table: variant-protocol metrics, mean rank, the folder, the citation and empty
    columns left out (the CSV and the toggle have them)."""
    return [c for c in frame.columns if c not in variants and c not in SECONDARY_METRICS
            and c not in ("folder", "reference") and frame[c].notna().any() and (frame[c] != "").any()]


def references_table(method: str | None = None) -> pd.DataFrame:
    frame = pd.DataFrame(reference_rows(method), columns=REFERENCE_COLUMNS)
    frame["params"] = pd.to_numeric(frame["params"], errors="coerce").astype("Int64")
    return frame


def rounded(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``frame`` with ``columns`` rounded to DIGITS significant digits."""
    out = frame.copy()
    for col in columns:
        if col in out:
            out[col] = [round_sig(v, DIGITS) if pd.notna(v) else v for v in out[col]]
    return out


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode("utf-8")


def checkpoints_csv(frame: pd.DataFrame, metric_columns: list[str]) -> bytes:
    return _csv(rounded(frame, metric_columns))


def references_csv(frame: pd.DataFrame) -> bytes:
    out = rounded(frame, ["value", "std"])[REFERENCE_CSV_COLUMNS].copy()
    out["citation"] = [CITATIONS.get(k, k) for k in out["citation"]]
    return _csv(out)


def panels_csv(panels) -> bytes:
    out = rounded(panels_frame(panels), ["value", "std"])
    out["params"] = pd.to_numeric(out["params"], errors="coerce").round().astype("Int64")
    out["citation"] = [CITATIONS.get(k, k) if role != ROLES[0] else f"this project ({CITATIONS.get(k, k)})"
                       for k, role in zip(out["citation"], out["role"])]
    return _csv(out)


NUMBER_FORMATS = {
    "value": st.column_config.NumberColumn("value", format="%.4f"),
    "std": st.column_config.NumberColumn("std", format="%.3f"),
    "params": st.column_config.NumberColumn("params", format="localized"),
    "params_total": st.column_config.NumberColumn("params total", format="localized"),
    "params_trainable": st.column_config.NumberColumn("params trainable", format="localized"),
    "params_adaptive": st.column_config.NumberColumn("params adaptive", format="localized"),
    "training_time": st.column_config.TextColumn("training time"),
    "over_seeds": st.column_config.TextColumn("headline over seeds", help="mean ± sample std over training seeds "
                                                                          "of the same configuration"),
    # wide enough for 'mechanics', 'drugbank' and 'MSE (lower is better)' (the grid sizes columns by the first rows)
    "dataset": st.column_config.TextColumn("dataset", width="medium"),
    "headline": st.column_config.TextColumn("headline", width="medium"),
    "epochs": st.column_config.NumberColumn("epochs", format="%d"),
    "note": st.column_config.TextColumn("note", width="large"),
    "source": st.column_config.TextColumn("source", width="large"),
}

st.title("Model zoo")
st.markdown(
    "Quality against size, one panel per task and dataset: this project's checkpoints beside the papers' numbers "
    "for the knowledge-aware models and their baselines. The parsimony claim: knowledge-aware models sit to the "
    "**left** (fewer parameters) and stay at the **top**."
)

def cards_stamp() -> tuple:
    """When each shipped card last changed: the key of the cached panels and figures below."""
    return tuple(sorted((str(p), p.stat().st_mtime_ns) for p in store.MODELS_DIR.glob("*/*/card.json")))


@st.cache_resource(max_entries=4, show_spinner=False)
def zoo_panels(stamp: tuple) -> list:
    """The panels (built in about 1 s from the cards and the papers' rows; kept until a card changes)."""
    return parsimony_panels(cards_frame(store.list_cards(), reference_rows()))


@st.cache_resource(max_entries=4, show_spinner=False)
def zoo_figures(stamp: tuple) -> dict:
    """Each panel's figure by its key (drawing them all took about 3 s a rerun)."""
    return {panel.key: panel_figure(panel) for panel in zoo_panels(stamp)}


stamp = cards_stamp()
cards = store.list_cards()
refs = reference_rows()
titles = {m.name: m.title for m in METHODS.values()}

# --- quality against size, one panel per task and dataset ------------------------------------
panels = zoo_panels(stamp)
tasks = list(dict.fromkeys(p.task for p in panels))
left, right = st.columns([1, 2], vertical_alignment="bottom")
task = left.selectbox("Task", ["all tasks", *tasks], key="zoo_task")
shown = [p for p in panels if task in ("all tasks", p.task)]
colours = " · ".join(f"<span style='color:{ROLE_STYLE[r][0]}'>■</span> {r}" for r in ROLES)
right.caption(f"{len(shown)} panel{'s' if len(shown) != 1 else ''}; y: the method's headline test metric, x: "
              "parameters, log scale (adapted per task for few-shot methods). "
              f"{colours}; **bold**: a method's own number. Dotted: a number without a size, or a size without a "
              "number. Hover a point for its source (*computed* counts come from published dimensions).",
              unsafe_allow_html=True)
for start in range(0, len(shown), PANELS_PER_ROW):
    columns = st.columns(PANELS_PER_ROW)
    for column, panel in zip(columns, shown[start:start + PANELS_PER_ROW]):
        with column.container(border=True):
            st.markdown(f"**{panel.dataset}**" + (f" ({panel.setting})" if panel.setting else "")
                        + f" · {panel.task}")
            st.markdown(panel.headline)
            st.plotly_chart(zoo_figures(stamp)[panel.key], width="stretch", key=f"zoo_panel_{panel.key}", theme=None,
                            config={"displayModeBar": False})
            if panel.also:
                st.caption(panel.also)
if panels:
    st.download_button("Download the panels' numbers (CSV)", data=panels_csv(shown), file_name="parsimony_panels.csv",
                       mime="text/csv", icon=":material/download:", key="zoo_download_panels")
else:
    st.info("No numbers with a parameter count yet.", icon=":material/info:")

# --- this project's checkpoints -------------------------------------------------------------
st.subheader("Trained checkpoints")
if cards:
    table, variant_columns = checkpoints_table(cards)
    all_metrics = st.toggle("Show every metric (mean rank, other tie policies)", value=False, key="zoo_all_metrics")
    visible = table if all_metrics else table[shown_columns(table, variant_columns)]
    visible = visible.replace({"over_seeds": {"": None}})  # a single seed: "—", as every other missing cell
    metric_columns = [c for c in table.columns if c not in CHECKPOINT_FIELDS]
    st.caption(f"{len(cards)} checkpoint{'s' if len(cards) != 1 else ''}, one row each; test metrics"
               + ("." if all_metrics else " (headline metrics; the CSV holds all).")
               + " Where a card records several training seeds, 'headline over seeds' gives their mean ± std beside "
                 "the shipped checkpoint's own value.")
    st.dataframe(visible, hide_index=True, width="stretch", placeholder=MISSING, key="zoo_checkpoints",
                 height=min(len(visible), ZOO_ROWS_SHOWN) * 35 + 38,  # the whole zoo at a glance, up to ZOO_ROWS_SHOWN
                 column_config={**NUMBER_FORMATS, **{c: st.column_config.NumberColumn(metric_title(c), format="%.4f")
                                                     for c in metric_columns}})
    st.download_button("Download checkpoints table (CSV)", data=checkpoints_csv(table, metric_columns),
                       file_name="model_zoo.csv", mime="text/csv", icon=":material/download:",
                       key="zoo_download_checkpoints")
else:
    st.info(
        "No trained checkpoints under `models/` yet. Train one with, for example, "
        "`python -m backend train redgnn --dataset family`; until then the page shows the papers' "
        "reference numbers alone.",
        icon=":material/info:",
    )

# --- the papers' numbers --------------------------------------------------------------------
st.subheader("The papers' reference numbers")
method_names = ["all methods", *dict.fromkeys(r["method"] for r in refs)]
chosen = st.selectbox("Method", method_names, format_func=lambda n: titles.get(n, n), key="zoo_ref_method")
ref_table = references_table(None if chosen == "all methods" else chosen)
st.caption(
    f"{len(ref_table)} numbers as fractions (62.0 % is 0.620), each with its citation and where in that work; "
    "`params_kind` says whether a count is the whole model or only the part adapted per task, `params_source` "
    "whether the paper gives it, the authors' code has it or it is computed from the published dimensions."
)
st.dataframe(ref_table, hide_index=True, width="stretch", column_config=NUMBER_FORMATS, placeholder=MISSING,
             key="zoo_references")
st.download_button("Download reference numbers (CSV)", data=references_csv(ref_table),
                   file_name="paper_reference_numbers.csv", mime="text/csv", icon=":material/download:",
                   key="zoo_download_references")
with st.expander("Sources of these numbers"):
    st.markdown("\n".join(f"- **{key}**: {CITATIONS[key]}" for key in dict.fromkeys(ref_table["citation"])))

# --- one card in full -----------------------------------------------------------------------
if cards:
    st.subheader("Model card")
    labels = {f"{c.method} · {c.folder_name}": c for c in cards}

    def card_title(label: str) -> str:
        """'RED-GNN · family': the method as its page names it."""
        card = labels[label]
        return f"{titles.get(card.method, card.method)} · {card.folder_name}"

    picked = st.selectbox("Checkpoint", list(labels), key="zoo_card", format_func=card_title)
    show_card(labels[picked], title=card_title(picked))
