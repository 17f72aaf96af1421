"""Scoring-function search with AutoBLM: the search trajectory, the best block structure, its formula, classic
models beside it, a search started from the browser, and link prediction with the trained model.

A composition of shared sections (ui.components: trajectory view, job panel, checkpoint card, query form, evidence)
and the page's own (ui.views.kg_search: heatmaps and searches on disk). AutoBLM is reached only through
backend.registry.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import streamlit as st

PROJECT_ROOT = Path(__file__).resolve().parents[2]
if str(PROJECT_ROOT) not in sys.path:  # the page also runs on its own (AppTest, `streamlit run` of this file)
    sys.path.insert(0, str(PROJECT_ROOT))

from backend.core import store  # noqa: E402
from backend.core.data import DataMissingError, resolve_data_root  # noqa: E402
from backend.core.search import Trajectory, records_frame  # noqa: E402
from backend.core.search_viz import trajectory_figure  # noqa: E402
from ui.components.checkpoints import EXPECTED_ERRORS, card_brief, loaded_model  # noqa: E402
from ui.components.data_missing import missing_data_section  # noqa: E402
from ui.components.evidence_view import show_evidence  # noqa: E402
from ui.components.job_panel import job_panel, running_job_labels  # noqa: E402
from ui.components.query_form import query_form  # noqa: E402
from ui.components.trajectory import trajectory_view  # noqa: E402
from ui.views.kg_search.structures import (ALGEBRA, CLASSICS, METHOD, Search, best_of, classic_scores,  # noqa: E402
                                           find_searches, run_path, show_structure, structure_of)

SEARCH_KEY = "kg-search-which"
JOB_PREFIX = f"{METHOD.name}/search-"
#: the small search the browser starts: candidate settings that train in seconds on a laptop CPU
BROWSER_SEARCH = {"search-dim": 16, "search-epochs": 5}


def trajectory_section(search: Search) -> int | None:
    """The trajectory chart with the classic structures placed in it; returns the selected record index."""
    records = Trajectory(search.path).records()
    meta = search.meta
    classics = classic_scores(search)
    st.caption(
        f"Each point is one candidate structure trained for {meta.get('search_epochs', '?')} epochs with d = "
        f"{meta.get('search_dim', '?')} and scored by its **validation MRR** (filtered; higher is better); the red "
        "line is the best so far. Grey lines: the four classic bilinear models trained with the same settings. "
        "Click a point to see its structure.")
    refs = [{"label": name, "score": classics[name]} for name in CLASSICS if name in classics]
    return trajectory_view(records, direction="max", reference_points=refs, key=f"kgs-{search.dataset}-"
                           f"{search.algorithm}-{'shipped' if search.shipped else 'run'}", score_label="valid MRR",
                           file_name=f"autoblm-{search.dataset}-{search.algorithm}-trajectory.csv")


def best_section(search: Search) -> None:
    best = best_of(search)
    if best is None:
        st.info("No candidate of this search has finished yet.")
        return
    A = structure_of(best)
    left, right = st.columns([2, 3])
    with left:
        show_structure(A, key=f"kgs-best-{search.dataset}", title="Best structure found",
                       score=float(best["score"]), terms_per_line=3)
    with right:
        st.markdown("**How to read it.** Embeddings of the head *h*, relation *r* and tail *t* are cut into four "
                    "chunks. A cell in row h*i*, column t*j* holding ±r*k* adds ±⟨h*i*, r*k*, t*j*⟩ to the score. "
                    "DistMult fills the diagonal only (every relation symmetric); ComplEx, Analogy and SimplE are "
                    "other fillings; the search looks for the filling this knowledge graph needs.")
        classics = classic_scores(search)
        if classics:
            rows = [{"structure": n, "valid MRR": classics[n]} for n in CLASSICS if n in classics]
            rows.append({"structure": "best searched", "valid MRR": float(best["score"])})
            st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                         column_config={"valid MRR": st.column_config.NumberColumn(format="%.4f")})
        payload = {"dataset": search.dataset, "algorithm": search.algorithm, "matrix": A.tolist(),
                   "structure": ALGEBRA.to_vector(A), "canonical": ALGEBRA.canonical_key(A),
                   "formula": ALGEBRA.formula_text(A), "valid_mrr": float(best["score"]),
                   "candidate": int(best["index"]) + 1, "settings": search.meta}
        st.download_button("Download best structure (JSON)", json.dumps(payload, indent=1),
                           file_name=f"autoblm-{search.dataset}-best-structure.json", mime="application/json",
                           key=f"kgs-best-json-{search.dataset}-{search.algorithm}", icon=":material/download:")


def selected_section(search: Search, index: int | None) -> None:
    if index is None:
        return
    records = {int(r["index"]): r for r in Trajectory(search.path).records()}
    rec = records.get(index)
    if rec is None or "candidate" not in rec:
        return
    with st.container(border=True):
        st.markdown(f"**Selected candidate #{index + 1}**")
        left, _ = st.columns([3, 2])
        with left:
            show_structure(structure_of(rec), key=f"kgs-sel-{search.dataset}", score=rec.get("score"))


def compare_section(search: Search) -> None:
    records = [r for r in Trajectory(search.path).records() if r.get("status") == "ok"]
    options = {f"#{int(r['index']) + 1} · {r['score']:.4f} · {r['canonical']}": (structure_of(r), r["score"])
               for r in records}
    classics = classic_scores(search)
    for name in CLASSICS:
        options[f"{name} (classic)"] = (ALGEBRA.as_matrix(name), classics.get(name))
    labels = list(options)
    if len(labels) < 2:
        return
    st.subheader("Compare two structures")
    best = max(records, key=lambda r: r["score"]) if records else None
    first = next((i for i, lab in enumerate(labels) if best and lab.startswith(f"#{int(best['index']) + 1} ·")), 0)
    a, b = st.columns(2)
    with a:
        pick_a = st.selectbox("Structure A", labels, index=first, key=f"kgs-cmp-a-{search.dataset}")
        show_structure(options[pick_a][0], key=f"kgs-cmp-a-{search.dataset}", score=options[pick_a][1],
                       terms_per_line=4)
    with b:
        default_b = labels.index("ComplEx (classic)") if "ComplEx (classic)" in labels else 1
        pick_b = st.selectbox("Structure B", labels, index=default_b, key=f"kgs-cmp-b-{search.dataset}")
        show_structure(options[pick_b][0], key=f"kgs-cmp-b-{search.dataset}", score=options[pick_b][1],
                       terms_per_line=4)


def cards_section(dataset: str) -> None:
    """The searched structure's card and the classic models' cards of ``dataset``: test MRR, mean ± std over seeds."""
    cards = [c for c in store.list_cards(method=METHOD.name) if c.dataset == dataset]
    if not cards:
        st.info(f"No trained AutoBLM checkpoint for {dataset} is shipped yet.")
        return
    rows = []
    for c in sorted(cards, key=lambda c: (c.setting not in ("default", ""), c.setting)):
        art = (c.artefacts or {}).get("structure", {}).get("value", {})
        seeds = (c.seeds or {}).get("metrics", {}).get("test", {}).get("mrr") or {}
        rows.append({"model": "searched structure" if c.setting in ("", "default") else art.get("name", c.setting),
                     "blocks": art.get("blocks"), "test MRR": c.metric("test", "mrr"),
                     "mean test MRR": seeds.get("mean"), "± std": seeds.get("std"),
                     "seeds": (c.seeds or {}).get("n", 1), "valid MRR": c.metric("valid", "mrr"),
                     "parameters": (c.params or {}).get("total")})
    table = pd.DataFrame(rows).sort_values("mean test MRR", ascending=False, na_position="last")
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        **{k: st.column_config.NumberColumn(format="%.4f") for k in ("test MRR", "mean test MRR", "± std", "valid MRR")},
        "parameters": st.column_config.NumberColumn(format="localized")})
    st.caption("Every model trained with the same settings (the card's config): d, epochs, learning rate, batch; "
               "the epoch kept is the one with the best validation MRR. Mean ± sample std over the seeds; the test "
               "MRR column is the shipped seed's checkpoint.")


def link_prediction_section(dataset: str) -> None:
    folder = store.default_model_dir(METHOD.name, dataset)
    if not (folder / "card.json").exists():
        return
    card = store.load_card(folder)
    st.subheader("Link prediction with the searched structure")
    card_brief(METHOD, card, own=False, names=("mrr", "hits@1", "hits@10"),
               notes=["Filtered ranking over all entities, tail and head of every test triple, average ties."])
    data_root = str(resolve_data_root(None))
    try:
        model = loaded_model(METHOD.name, str(folder), data_root)
    except DataMissingError as exc:
        st.warning(f"The {dataset} knowledge graph is not under the data root, so the model cannot answer queries.")
        missing_data_section(getattr(exc, "dataset", dataset) or dataset, data_root, key=f"kgs-data-{dataset}")
        return
    except EXPECTED_ERRORS as exc:
        st.error(f"Could not load the checkpoint in {folder}: {exc}")
        return
    st.caption(f"The same question as on the *Knowledge-graph reasoning* page: {model.kg.n_ent:,} entities, "
               f"{model.kg.n_rel} relations (+ inverses). {model.kg.naming_note}")
    query = query_form(METHOD, model, key=f"kgs-query-{dataset}", names=("head", "relation", "top"))
    try:
        answers = model.predict(query)
    except EXPECTED_ERRORS as exc:
        st.error(str(exc))
        return
    shown = answers.drop(columns=["entity"]).rename(columns={"known_fact": "known fact", "known_in": "known in"})
    st.dataframe(shown, hide_index=True, width="stretch", column_config={
        "score": st.column_config.NumberColumn(format="%.4f"),
        "filtered_rank": st.column_config.NumberColumn("filtered rank", format="%.1f",
                                                       help="Rank among all entities with the other known answers "
                                                            "set aside (average ties), as in the test")})
    if not answers.empty:
        pick = st.selectbox("Explain the score of", answers["entity"].tolist(), key=f"kgs-explain-{dataset}",
                            format_func=lambda e: answers.set_index("entity").loc[e, "label"])
        show_evidence(model.explain({**query, "answer": pick}), key=f"kgs-evidence-{dataset}",
                      file_stem=f"autoblm-{dataset}-evidence")


def start_section() -> None:
    st.subheader("Run a small search")
    st.markdown(
        "Starts `python -m backend search autoblm` in the background. Each candidate is trained for "
        f"{BROWSER_SEARCH['search-epochs']} epochs with d = {BROWSER_SEARCH['search-dim']} (seconds each on "
        "umls, under a minute on family) and scored on validation; the chart above lists your run once its first "
        "candidate is done and grows as the search goes. You can leave the page and come back, cancel, and "
        "continue a cancelled search where it stopped.")
    running = [lab[len(JOB_PREFIX):] for lab in running_job_labels(JOB_PREFIX)]
    a, b, c = st.columns(3)
    datasets = [d for d in ("umls", "family") if d in METHOD.datasets]  # the quick one first
    ds = a.selectbox("Dataset", datasets, key="kgs-start-dataset",
                     index=datasets.index(running[0].split("-")[0]) if running and running[0].split("-")[0]
                     in datasets else 0)
    algorithm = b.selectbox("Algorithm", ["progressive", "evolutionary"], key="kgs-start-algorithm",
                            help="progressive: AutoSF's greedy growth from 4 to 16 blocks; evolutionary: "
                                 "AutoBLM+'s crossover and mutation")
    budget = c.number_input("Candidates (budget)", min_value=5, max_value=200, value=12, step=1,
                            key="kgs-start-budget", help="Candidates trained in all, counting a resumed search's")
    path = run_path(ds, algorithm)
    existing = len(Trajectory(path).records()) if path.exists() else 0
    resume = st.checkbox(f"Continue my earlier {ds} {algorithm} search ({existing} candidates)", value=existing > 0,
                         key=f"kgs-start-resume-{ds}-{algorithm}", disabled=existing == 0,
                         help="Unticked, a new search starts and the old trajectory is kept aside.")
    argv = ["search", METHOD.name, "--dataset", ds, "--algorithm", algorithm, "--budget", str(int(budget))]
    for flag, value in BROWSER_SEARCH.items():
        argv += [f"--{flag}", str(value)]
    if resume and existing:
        argv += ["--resume", "true"]
    label = f"{JOB_PREFIX}{ds}-{algorithm}"
    job_panel(label, argv, key=f"kgs-job-{ds}-{algorithm}", start_label="Start search",
              metric_names=["score", "best"])
    live = label[len(JOB_PREFIX):] in [lab[len(JOB_PREFIX):] for lab in running_job_labels(JOB_PREFIX)]

    @st.fragment(run_every=3.0 if live else None)
    def growing() -> None:
        """The run's trajectory as it grows (re-read every 3 s while its search runs)."""
        records = Trajectory(path).records() if path.exists() else []
        if not records:
            if live:
                st.caption("The first candidate is training…")
            return
        frame = records_frame(records)
        best = frame["score"].max()
        st.markdown(f"**Your {ds} {algorithm} search: {len(frame)} candidates so far, best valid MRR "
                    f"{best:.4f}**" + (" (running)" if live else ""))
        st.plotly_chart(trajectory_figure(frame, "max", "blocks" if "attributes.blocks" in frame else None,
                                          score_label="valid MRR"), key=f"kgs-growing-{ds}-{algorithm}")

    growing()


def main() -> None:
    st.title("Scoring-function search")
    st.markdown(
        "**AutoBLM** (Zhang, Yao & Kwok, TPAMI 2022; AutoSF, ICDE 2020) searches the *scoring function* of a "
        "knowledge-graph embedding: which products of head, relation and tail chunks enter the score. Classic "
        "models (DistMult, ComplEx, Analogy, SimplE) are four particular choices; the search trains candidates, "
        "ranks new ones with a predictor on their symmetry properties, and keeps the structure with the best "
        "validation MRR.")
    searches = find_searches()
    if searches:
        labels = {s.label: s for s in searches}
        pick = st.selectbox("Search", list(labels), key=SEARCH_KEY,
                            help="Shipped searches (models/autoblm/) and your own runs (runs/autoblm/).")
        search = labels[pick]

        @st.fragment(run_every=3.0 if running_job_labels(JOB_PREFIX) and not search.shipped else None)
        def live() -> None:
            index = trajectory_section(search)
            selected_section(search, index)

        live()
        st.divider()
        best_section(search)
        compare_section(search)
        st.divider()
        st.subheader(f"Trained models on {search.dataset}")
        cards_section(search.dataset)
        link_prediction_section(search.dataset)
    else:
        st.info("No search yet: start one below, or from a terminal: "
                "`python -m backend search autoblm --dataset umls --budget 12`.")
    st.divider()
    start_section()


main()
