"""Predictions with structures, the relation graph of one query, and the evidence you can test (remove the most
related support molecules vs random ones, switch support molecules off, edit a query)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from ui.components.checkpoints import EXPECTED_ERRORS, loaded_model
from ui.components.downloads import frame_download
from ui.components.evidence_view import show_evidence
from ui.components.molecule_table import structure_column, with_structures
from ui.views.molecules.inputs import EpisodeChoice

PROBABILITY = st.column_config.ProgressColumn("P(label 1)", help="The model's probability that the molecule has "
                                              "the property (label 1)", min_value=0.0, max_value=1.0, format="%.3f")


@st.cache_data(max_entries=64, show_spinner="Predicting…")
def cached_predict(method: str, model_dir: str, data_root: str, csv_text: str) -> pd.DataFrame:
    return loaded_model(method, model_dir, data_root).predict({"table": csv_text})


def _episode_csv(support: pd.DataFrame, queries: list[str]) -> str:
    lines = ["smiles,label"] + [f"{s},{int(y)}" for s, y in zip(support["smiles"], support["label"])]
    return "\n".join(lines + [f"{q}," for q in queries]) + "\n"


def predictions_section(method, model_dir: str, data_root: str, choice: EpisodeChoice, key: str) -> pd.DataFrame | None:
    st.subheader("Predictions")
    try:
        frame = cached_predict(method.name, model_dir, data_root, choice.csv_text)
    except EXPECTED_ERRORS as exc:
        st.error(f"Could not predict: {exc}")
        return None
    frame = frame.copy()
    if "true_label" in choice.queries.columns and "true_label" not in frame.columns:
        frame["true_label"] = choice.queries["true_label"].to_numpy()[: len(frame)]
    frame = frame.sort_values("probability", ascending=False).reset_index(drop=True)
    sentence = (f"{len(frame)} molecule(s) of {choice.source}, most likely to have the property first "
                "(click a column title to sort).")
    if "true_label" in frame.columns and frame["true_label"].nunique() == 2:
        from sklearn.metrics import roc_auc_score

        auc = roc_auc_score(frame["true_label"], frame["probability"])
        sentence += (f" Against their true labels the ranking has a ROC-AUC of {auc:.3f} (1.0: every active above "
                     "every inactive; 0.5: chance).")
    st.caption(sentence)
    notes = [n for n in frame.attrs.get("sentences", []) if n.startswith(method.title)]
    if notes:
        st.caption(" ".join(notes))
    shown = with_structures(frame)
    config = {"structure": structure_column(), "probability": PROBABILITY,
              "row": st.column_config.NumberColumn("row", help="Line of your table (the header is line 1)"),
              "rank": st.column_config.NumberColumn("rank", help="1 = the most likely to have the property"),
              "true_label": st.column_config.NumberColumn("true label", help="Demo task: the measured label")}
    st.dataframe(shown, hide_index=True, width="stretch", column_config=config, row_height=90,
                 key=f"{key}-table")
    frame_download(frame, f"{method.name}-predictions.csv", key=f"{key}-download", label="Download predictions (CSV)")
    return frame


def relation_graph_section(method, model, choice: EpisodeChoice, frame: pd.DataFrame, key: str) -> None:
    st.subheader("Why: the relation graph of one query")
    st.caption(method.capabilities.evidence[:1].upper() + method.capabilities.evidence[1:] + ".")
    query = st.selectbox("Query molecule", frame["smiles"].tolist(), key=f"{key}-query",
                         format_func=lambda s: f"{s}  (P = {float(frame.loc[frame.smiles == s, 'probability'].iloc[0]):.3f})")
    try:
        evidence = model.explain({"table": choice.csv_text, "query": query})
    except EXPECTED_ERRORS as exc:
        st.error(f"Could not build the evidence: {exc}")
        return
    show_evidence(evidence, key=f"{key}-evidence", height=480, layered=False)


def removal_section(model, choice: EpisodeChoice, frame: pd.DataFrame, key: str) -> None:
    if not hasattr(model, "removal_test"):
        return
    st.markdown("**Remove the most related support molecules.** If the relation graph is what the prediction "
                "rests on, taking away the k support molecules most similar to the query should move its "
                "probability more than taking away k random ones.")
    c1, c2 = st.columns([3, 1])
    query = c1.selectbox("Query", frame["smiles"].tolist(), key=f"{key}-rq")
    k_max = max(1, len(choice.support) - 2)
    k = int(c2.number_input("k", 1, k_max, min(3, k_max), key=f"{key}-k", help="Support molecules removed"))
    try:
        with st.spinner("Re-predicting without them…"):
            r = model.removal_test({"table": choice.csv_text}, query_index=_query_position(choice, query), k=k)
    except EXPECTED_ERRORS as exc:
        st.error(f"Could not run the test: {exc}")
        return
    a, b, c = st.columns(3)
    a.metric("P(label 1), full support", f"{r['probability']:.3f}")
    b.metric(f"without the {r['k']} most related", f"{r['probability_without_most_related']:.3f}",
             delta=f"{r['change_most_related']:+.3f}", delta_color="off")
    if r["change_random_mean"] is not None:
        c.metric(f"without {r['k']} random (mean of {len(r['random_changes'])})",
                 f"{r['probability'] + r['change_random_mean']:.3f}",
                 delta=f"{r['change_random_mean']:+.3f} ± {r['change_random_std']:.3f}", delta_color="off")
    removed = choice.support.iloc[r["removed_most_related"]].assign(similarity=r["similarities"])
    st.dataframe(with_structures(removed[["smiles", "label", "similarity"]]), hide_index=True, row_height=70,
                 column_config={"structure": structure_column(),
                                "similarity": st.column_config.NumberColumn("similarity to the query", format="%.3f")},
                 key=f"{key}-removed")


def _query_position(choice: EpisodeChoice, smiles: str) -> int:
    return [s.strip() for s in choice.queries["smiles"]].index(smiles.strip())


def toggle_section(method, model_dir: str, data_root: str, choice: EpisodeChoice, frame: pd.DataFrame,
                   key: str) -> None:
    st.markdown("**Switch support molecules off.** Untick molecules of the support set and see how every "
                "prediction changes (at least one molecule of each label must stay on).")
    table = with_structures(choice.support[["smiles", "label"]]).assign(use=True)
    edited = st.data_editor(table, hide_index=True, key=f"{key}-editor", row_height=70, width="stretch",
                            height=min(38 + 71 * len(table), 720),
                            disabled=["structure", "smiles", "label"],
                            column_config={"structure": structure_column(),
                                           "use": st.column_config.CheckboxColumn("use", help="in the support set")})
    kept = choice.support[edited["use"].to_numpy(dtype=bool)]
    if kept["label"].nunique() < 2:
        st.error("Keep at least one support molecule labelled 0 and one labelled 1 switched on.")
        return
    if len(kept) == len(choice.support):
        return
    try:
        after = cached_predict(method.name, model_dir, data_root, _episode_csv(kept, choice.queries["smiles"].tolist()))
    except EXPECTED_ERRORS as exc:
        st.error(f"Could not predict: {exc}")
        return
    change = frame[["smiles", "probability"]].merge(after[["smiles", "probability"]], on="smiles",
                                                    suffixes=(" before", " after"))
    change["change"] = change["probability after"] - change["probability before"]
    change = change.reindex(change["change"].abs().sort_values(ascending=False).index)
    st.caption(f"{len(choice.support) - len(kept)} support molecule(s) switched off; the largest change is "
               f"{change['change'].abs().max():.3f}.")
    st.dataframe(change, hide_index=True, width="stretch", key=f"{key}-changes",
                 column_config={c: st.column_config.NumberColumn(c, format="%.3f")
                                for c in ("probability before", "probability after", "change")})


def edit_query_section(method, model_dir: str, data_root: str, choice: EpisodeChoice, frame: pd.DataFrame,
                       key: str) -> None:
    from backend.mol.featurise import parse_smiles

    st.markdown("**Edit a query.** Change a query's SMILES (add a group, remove one) and see its new probability "
                "with the same support set.")
    c1, c2 = st.columns([3, 2])
    base = c1.selectbox("Start from", frame["smiles"].tolist(), key=f"{key}-base")
    edited = c2.text_input("Edited SMILES", value=base, key=f"{key}-edit-{base}")
    if not edited.strip() or edited.strip() == base:
        return
    mol, reason = parse_smiles(edited)
    if mol is None:
        st.error(f"RDKit cannot read {edited!r}: {reason}")
        return
    support_smiles = {s.strip() for s in choice.support["smiles"]}
    if edited.strip() in support_smiles:
        st.info("That molecule is in the support set: its label is given, not predicted.")
        return
    try:
        after = cached_predict(method.name, model_dir, data_root, _episode_csv(choice.support, [base, edited.strip()]))
    except EXPECTED_ERRORS as exc:
        st.error(f"Could not predict: {exc}")
        return
    p_base, p_new = float(after["probability"].iloc[0]), float(after["probability"].iloc[1])
    a, b = st.columns(2)
    a.image(with_structures(pd.DataFrame({"smiles": [edited.strip()]}))["structure"].iloc[0] or "", width=160)
    b.metric("P(label 1) of the edited molecule", f"{p_new:.3f}", delta=f"{p_new - p_base:+.3f} vs the original",
             delta_color="off")
