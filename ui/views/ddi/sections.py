"""The Drug interactions page's own sections. The model is reached through backend.registry only (via the loaded
checkpoint); everything shown is in drug names and Hetionet names, never bare ids."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import streamlit as st

from backend.core import store
from backend.core.evidence import Evidence
from backend.core.references import reference_rows
from ui.components.batch_input import batch_input_section
from ui.components.checkpoints import EXPECTED_ERRORS
from ui.components.evidence_view import show_evidence
from ui.components.progress import kept_with_progress

LICENCE = ("DrugBank data (drug names, interactions, type descriptions) are licensed "
           "[CC BY-NC 4.0](https://creativecommons.org/licenses/by-nc/4.0/): non-commercial use only. Hetionet is "
           "CC0 for its original content, with per-source licences (SIDER CC BY-NC-SA 4.0, DrugCentral CC BY 4.0, ...).")
PAGE_MAX_ROWS = 300
EXAMPLE = "drug1,drug2\nWarfarin,Acetylsalicylic acid\nTapentadol,Dolasetron\nSimvastatin,Clarithromycin"
STATUS_TEXT = {"existing": "existing — its known interactions were training facts",
               "emerging": "emerging — none of its interactions was seen in training; the model reaches it through "
                           "the biomedical network",
               "new": "new — given by SMILES, linked to its most similar DrugBank drugs by fingerprint"}
EXAMPLE_EVIDENCE = "example_evidence.json"


def card_notes(card: store.Card) -> list[str]:
    notes = list((card.extras or {}).get("notes") or [])
    rows = [r for r in reference_rows("emergnn") if r["dataset"] == card.dataset and r["setting"] == card.setting
            and r["model"] == "EmerGNN" and r["metric"] in ("f1", "accuracy", "kappa")]
    if rows:
        notes.append("Paper (five data splits): " + ", ".join(
            f"{r['metric']} {100 * r['value']:.1f}" for r in rows) + ".")
    return notes


def baselines_table(card: store.Card) -> pd.DataFrame | None:
    base = (card.extras or {}).get("baselines") or {}
    if not base:
        return None
    rows = [{"model": "EmerGNN (this checkpoint)", **{k: card.metric("test", k) for k in ("f1", "accuracy", "kappa")},
             "parameters": (card.params or {}).get("trainable")}]
    for name, res in base.items():
        rows.append({"model": name, **{k: res["test"][k] for k in ("f1", "accuracy", "kappa")},
                     "parameters": res.get("params")})
    return pd.DataFrame(rows)


def show_baselines(card: store.Card) -> None:
    table = baselines_table(card)
    if table is None:
        return
    st.markdown("**Same split, same test pairs: EmerGNN beside two baselines**")
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "f1": st.column_config.NumberColumn("macro F1", format="%.3f",
                                            help="Mean F1 over the interaction types present"),
        "accuracy": st.column_config.NumberColumn(format="%.3f"),
        "kappa": st.column_config.NumberColumn("Cohen's kappa", format="%.3f",
                                               help="Agreement beyond chance (1 = perfect, 0 = chance)"),
        "parameters": st.column_config.NumberColumn(format="localized")})
    subsets = ((card.extras or {}).get("subsets") or {}).get("test") or {}
    if subsets:
        st.caption("Test F1 by pair kind: " + "; ".join(
            f"{kind}: {m['f1']:.3f} over {m['pairs']:,} pairs" for kind, m in subsets.items() if m) + ".")


def drug_input(model, side: str, default: str) -> dict:
    """Drug 1 or 2: a searchable list over names and DrugBank ids (a name typed that is not in it is accepted and
    matched forgivingly), or a SMILES for a drug outside DrugBank."""
    options = model.names.options()
    key = f"ddi-{side}"
    kinds = ["From DrugBank's 1,710 drugs"] + (["New drug by SMILES"] if model.takes_smiles else [])
    kind = st.radio(f"Drug {side}", kinds, horizontal=True, key=f"{key}-kind", label_visibility="collapsed")
    if kind == kinds[0]:
        value = st.selectbox(f"Drug {side}", options, index=options.index(default) if default in options else 0,
                             key=f"{key}-name", accept_new_options=True,
                             help="Type to search names and DrugBank ids; a name not in the list is matched "
                                  "ignoring case and spelling slips, with the closest names suggested")
        return {f"drug{side}": value}
    smiles = st.text_input(f"SMILES of drug {side}", key=f"{key}-smiles", placeholder="CC(=O)Oc1ccccc1C(=O)O",
                           help="Read with RDKit; the drug is linked to its most similar DrugBank drugs "
                                "(Morgan fingerprint, Dice >= 0.5) and is emerging for the model")
    return {f"smiles{side}": smiles.strip()}


def pair_section(model, model_dir: str) -> None:
    st.subheader("Predict one pair")
    st.caption("Pick two drugs by name or DrugBank id (type to search), or give a new drug by SMILES. The model "
               "predicts which of DrugBank's 86 interaction types links them and shows the paths through the "
               "biomedical network it relied on. The pair's own DrugBank record is hidden from the model while it "
               "answers.")
    c1, c2 = st.columns(2)
    with c1:
        q1 = drug_input(model, "1", "Tapentadol (DB06204)")
    with c2:
        q2 = drug_input(model, "2", "Dolasetron (DB00757)")
    query = {**q1, **q2}
    if not any(query.get(k) for k in ("drug1", "smiles1")) or not any(query.get(k) for k in ("drug2", "smiles2")):
        st.info("Choose both drugs.")
        return
    try:
        frame = model.predict({**query, "top": 5})
    except KeyError as exc:  # UnknownDrug: a clear message with the closest names
        st.error(f"{exc}. Pick one of the suggestions from the list, or check the spelling.")
        return
    except EXPECTED_ERRORS as exc:
        st.error(str(exc))
        return
    a = frame.attrs
    s1, s2 = st.columns(2)
    s1.markdown(f"**Drug 1:** {a['drug1']}  \n{STATUS_TEXT[a['status1']]}")
    s2.markdown(f"**Drug 2:** {a['drug2']}  \n{STATUS_TEXT[a['status2']]}")
    if a.get("known"):
        st.caption(f"DrugBank records for this pair: “{a['known']}”.")
    st.markdown("**Most likely interaction types** (probabilities over the 86 types sum to 1)")
    st.dataframe(frame, hide_index=True, width="stretch", column_config={
        "rank": st.column_config.NumberColumn(width="small"),
        "type": st.column_config.NumberColumn("type", help="DrugBank interaction type (0-85)", width="small"),
        "probability": st.column_config.ProgressColumn("probability", format="%.3f", min_value=0.0, max_value=1.0),
        "description": st.column_config.TextColumn(width="large"),
        "known in DrugBank": st.column_config.TextColumn(help="Whether DrugBank records this type for the pair")})
    explain_types = frame["type"].tolist()
    chosen = st.selectbox("Explain type", explain_types, index=0, key="ddi-explain-type",
                          format_func=lambda r: f"type {r}: " + frame.set_index("type").loc[r, "description"])
    evidence = kept_with_progress("ddi-evidence", (model_dir, json.dumps(query, sort_keys=True), int(chosen)),
                                  "Tracing the paths", "steps",
                                  lambda progress: model.explain({**query, "type": int(chosen), "paths": 10}))
    st.markdown("**Why: paths between the two drugs**")
    st.caption("The graph shows the paths of at most three hops through the DDI + Hetionet network that raised the "
               "predicted type most; nodes are coloured by entity type, edge width is the edge's contribution. "
               "The sentence below says how much the probability falls when their facts are removed and the model "
               "re-scores the pair.")
    show_evidence(without_graph_paths(evidence), key="ddi-evidence", height=520, file_stem="emergnn-evidence",
                  edge_slider=False)


def without_graph_paths(evidence: Evidence) -> Evidence:
    """The evidence with its graph's path list left to the richer "Top paths" table part (one path table, not two;
    the JSON download keeps every path in that table)."""
    copy = Evidence.from_dict(evidence.to_dict())
    copy.paths = []
    return copy


def batch_section(model, model_dir: str) -> None:
    st.subheader("Predict a table of pairs")
    batch_input_section(
        model, model_dir, "ddi",
        explanation=("Upload a CSV or TSV with columns drug1 and drug2 (names or DrugBank ids; a header is "
                     "optional), or paste the rows. Each pair gets its most likely interaction type, its "
                     "probability and description, and the runner-up. Rows naming an unknown drug (with the closest "
                     "names), a drug paired with itself, or a pair already listed are reported by line and left "
                     "out; the other rows are predicted. `python -m backend predict emergnn --input FILE` reads a "
                     "file of any length."),
        example=EXAMPLE, file_stem="emergnn-pairs", max_rows=PAGE_MAX_ROWS,
        column_config={"probability": st.column_config.NumberColumn(format="%.3f"),
                       "second probability": st.column_config.NumberColumn(format="%.3f"),
                       "description": st.column_config.TextColumn(width="large")},
        file_label="Pairs file")


def example_evidence_section(model_dir: str) -> None:
    """Without data: the checkpoint's shipped example evidence."""
    path = Path(model_dir) / EXAMPLE_EVIDENCE
    if not path.exists():
        return
    st.subheader("Example evidence shipped with the checkpoint")
    show_evidence(without_graph_paths(Evidence.from_json(path.read_text(encoding="utf-8"))), key="ddi-example",
                  height=480, file_stem="emergnn-example", edge_slider=False)
