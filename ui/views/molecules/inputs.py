"""The episode a user asks about: their own support/query molecules (pasted or uploaded CSV), or a held-out test
task of Tox21 / SIDER as a demo. Every row is validated (backend.mol.userdata); the valid rows are kept."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from backend.core.tables import upload_limit_bytes
from backend.mol.userdata import MAX_ROWS, MAX_SHOTS, read_user_episode

#: a made-up property for trying the page: "contains a carboxylic acid" (label 1) or not (label 0)
EXAMPLE_CSV = """smiles,label
CC(=O)O,1
OC(=O)c1ccccc1,1
CCCCC(=O)O,1
OC(=O)CCc1ccccc1,1
CCO,0
c1ccccc1O,0
CCN(CC)CC,0
CC(C)=O,0
OC(=O)c1ccncc1,
CCCCCCCC(=O)O,
OCc1ccccc1,
CCOC(=O)C,
NCC(=O)O,
c1ccc2ccccc2c1,
"""
DEMO_DATASETS = ("tox21", "sider")


@dataclass
class EpisodeChoice:
    """What the page predicts: a smiles,label CSV (empty label = query), the known query labels (demo only)."""

    csv_text: str
    support: pd.DataFrame          # smiles, label
    queries: pd.DataFrame          # row, smiles (+ true_label for a demo task)
    source: str                    # "your molecules" or "tox21 · SR-p53 (seed 0)"


def _csv(support: pd.DataFrame, queries: pd.DataFrame) -> str:
    lines = ["smiles,label"] + [f"{s},{int(y)}" for s, y in zip(support["smiles"], support["label"])]
    lines += [f"{s}," for s in queries["smiles"]]
    return "\n".join(lines) + "\n"


def _user_section(key: str) -> EpisodeChoice | None:
    limit_mb = upload_limit_bytes() // (1 << 20)
    st.caption(f"A CSV with the columns **smiles** and **label**: rows labelled 1 (has the property) or 0 (does "
               f"not) are the support set, 1-{MAX_SHOTS} molecules per class (more are allowed); rows with an empty "
               f"label are the molecules to predict. Up to {MAX_ROWS:,} rows, files up to {limit_mb} MB, UTF-8.")
    if st.button("Load the example (contains a carboxylic acid?)", key=f"{key}-example", icon=":material/science:"):
        st.session_state[f"{key}-text"] = EXAMPLE_CSV
    c1, c2 = st.columns(2)
    upload = c1.file_uploader("Molecules file (CSV or TSV)", type=["csv", "tsv", "txt"], key=f"{key}-file")
    pasted = c2.text_area("…or paste the rows", key=f"{key}-text", height=180, placeholder=EXAMPLE_CSV,
                          disabled=upload is not None)
    source = upload.getvalue() if upload is not None else (pasted or "").encode("utf-8")
    if not source.strip():
        if upload is not None:
            st.error("The file is empty: it has no rows.")
        return None
    try:
        ep = read_user_episode(source)
    except ValueError as exc:                      # empty, too large, not UTF-8, no smiles column
        st.error(f"Could not read the table: {exc}")
        return None
    lines = ep.problem_lines()
    if lines:
        st.warning(f"{len({p.row for p in ep.problems}):,} row(s) could not be used; the other rows are kept:\n\n"
                   + "\n".join(f"- {line}" for line in lines[:30])
                   + (f"\n- … and {len(lines) - 30:,} more" if len(lines) > 30 else ""))
    for note in ep.notes:
        st.info(note)
    if not ep.ok:
        for error in ep.errors:
            st.error(error)
        return None
    support = pd.DataFrame({"row": ep.support_rows, "smiles": ep.support_smiles, "label": ep.support_labels})
    queries = pd.DataFrame({"row": ep.query_rows, "smiles": ep.query_smiles})
    c = ep.counts()
    st.success(f"Support set: {c['negatives']} labelled 0 and {c['positives']} labelled 1; "
               f"{c['queries']} molecule(s) to predict.")
    return EpisodeChoice(_csv(support, queries), support, queries, "your molecules")


@st.cache_data(max_entries=32, show_spinner="Sampling the demo episode…")
def demo_episode(dataset: str, task: str, seed: int, shots: int, n_query: int, data_root: str):
    from backend.mol.datasets import load_dataset
    from backend.mol.episodes import episode_rng, sample_test_episode

    data = load_dataset(dataset, data_root)
    t = data.task(task)
    ep = sample_test_episode(t, shots, episode_rng(seed, t.task_id), max_query=n_query)
    sm = data.store.smiles
    support = pd.DataFrame({"row": range(1, len(ep.support) + 1), "smiles": [sm[i] for i in ep.support],
                            "label": [int(v) for v in ep.support_labels]})
    queries = pd.DataFrame({"row": range(len(ep.support) + 1, len(ep.support) + len(ep.query) + 1),
                            "smiles": [sm[i] for i in ep.query], "true_label": [int(v) for v in ep.query_labels]})
    return support, queries


@st.cache_data(max_entries=8, show_spinner="Reading the task list…")
def test_tasks(dataset: str, data_root: str) -> list[tuple[str, int, int]]:
    from backend.mol.datasets import load_dataset

    return [(t.name, int((t.labels == 0).sum()), int(t.labels.sum())) for t in load_dataset(dataset, data_root).test_tasks]


def _demo_section(key: str, data_root: str, shots: int, default_dataset: str) -> EpisodeChoice | None:
    from ui.components.data_missing import missing_data_section

    st.caption("A property the checkpoints never trained on: a held-out test task, its support set drawn at random "
               "(K of each class, K = the checkpoint's shots) and some of its other molecules as queries, whose "
               "true labels are shown beside the predictions.")
    c1, c2, c3, c4 = st.columns([1, 2, 1, 1])
    options = list(DEMO_DATASETS)
    dataset = c1.selectbox("Dataset", options, index=options.index(default_dataset) if default_dataset in options
                           else 0, key=f"{key}-ds", format_func=lambda d: {"tox21": "Tox21", "sider": "SIDER"}[d])
    if not missing_data_section(dataset, data_root, key=f"{key}-missing"):
        return None
    tasks = test_tasks(dataset, data_root)
    names = [t[0] for t in tasks]
    task = c2.selectbox("Held-out task", names, key=f"{key}-task",
                        format_func=lambda n: next(f"{n} ({neg:,} inactive, {pos:,} active)"
                                                   for m, neg, pos in tasks if m == n))
    seed = int(c3.number_input("Support seed", 0, 999, 0, key=f"{key}-seed",
                               help="Which random support set is drawn"))
    n_query = int(c4.number_input("Queries", 10, 300, 40, step=10, key=f"{key}-nq",
                                  help="How many of the task's other molecules to predict"))
    support, queries = demo_episode(dataset, task, seed, shots, n_query, data_root)
    return EpisodeChoice(_csv(support, queries), support, queries, f"{dataset} · {task} (support seed {seed})")


def episode_section(key: str, data_root: str, shots: int, default_dataset: str) -> EpisodeChoice | None:
    """The input: the user's molecules or a demo task; None until there is a valid episode."""
    mode = st.radio("Molecules", ["Your molecules", "Demo: a held-out Tox21 / SIDER task"], horizontal=True,
                    key=f"{key}-mode", label_visibility="collapsed")
    if mode == "Your molecules":
        return _user_section(f"{key}-user")
    return _demo_section(f"{key}-demo", data_root, shots, default_dataset)
