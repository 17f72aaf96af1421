"""Cold-start recommendation with ColdNAS: a new user rates a few artists or movies and gets recommendations, with
the influence of each rating (leave it out, re-predict), the search that chose the modulation structure, and the
baselines beside it. ColdNAS is reached only through backend.registry."""
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
from backend.core.data import CATALOG, DataMissingError, resolve_data_root  # noqa: E402
from backend.core.evidence import Evidence  # noqa: E402
from backend.core.references import reference_rows  # noqa: E402
from backend.core.search import Trajectory  # noqa: E402
from backend.registry import get_method  # noqa: E402
from ui.components.checkpoints import EXPECTED_ERRORS, OWN_RUN, card_brief, checkpoint_picker, find_checkpoints, \
    loaded_model  # noqa: E402
from ui.components.data_missing import missing_data_section  # noqa: E402
from ui.components.downloads import download_buttons, frame_csv  # noqa: E402
from ui.components.evidence_view import show_evidence  # noqa: E402
from ui.components.job_panel import job_panel  # noqa: E402
from ui.components.trajectory import trajectory_view  # noqa: E402
from ui.views.recsys.figures import gate_heatmap, influence_figure, movement, structure_figure  # noqa: E402

METHOD = get_method("coldnas")
ITEM_WORD = {"lastfm": "artist", "movielens": "movie"}
METRICS = ("mse", "mae", "ndcg@3")
BASELINE_ORDER = ("popularity", "no_modulation", "film", "maml")


def ratings_key(ds: str) -> str:
    return f"recsys-ratings-{ds}"


def ratings_text(ratings: dict[str, float]) -> str:
    return "; ".join(f"{name}={value:g}" for name, value in ratings.items())


def card_notes(card: store.Card) -> list[str]:
    notes = ["MSE and MAE: the mean (squared) difference between predicted and true ratings of each test user's "
             "query items, averaged over users (lower is better); nDCG@3: how well the top 3 predicted items match "
             "the user's best-rated ones (1 is perfect)."]
    rows = [r for r in reference_rows(METHOD.name) if r["dataset"] == card.dataset]
    if rows:
        notes.append("Published figures: " + ", ".join(f"{r['metric'].upper()} {r['value']:.4f} ({r['model']}, "
                                                        f"{r['citation']})" for r in rows) + ".")
    if card.dataset == "movielens":
        notes.append("Caveat: the mirror holds only MovieLens-1M's 1,208 new users, so these numbers come from a "
                     "smaller setting than the paper's and are not directly comparable.")
    return notes


# ------------------------------------------------------------------------------------------ ratings
def rating_widget(model, ds: str, key: str):
    """Binary datasets (Last.fm): listen / not; rated ones: a slider over the dataset's rating range."""
    lo, hi = float(model.rating_min), float(model.rating_max)
    if hi - lo <= 1:
        yes, no = ("I listen to them", "Not for me") if ds == "lastfm" else ("I like it", "Not for me")
        return st.radio("Your rating", options=[hi, lo], horizontal=True, key=key,
                        format_func=lambda v: f"{yes} ({v:g})" if v == hi else f"{no} ({v:g})")
    steps = [float(v) for v in range(int(lo), int(hi) + 1)]
    return st.select_slider("Your rating (stars)" if hi == 5 else "Your rating", options=steps,
                            value=steps[-2] if len(steps) > 1 else steps[0], key=key)


def ratings_section(model, ds: str) -> dict[str, float]:
    """The picker, the current ratings (change or remove), the CSV upload. Returns {item name: rating}."""
    ratings: dict[str, float] = st.session_state.setdefault(ratings_key(ds), {})
    word = ITEM_WORD.get(ds, "item")
    st.subheader(f"1 · Rate a few {word}s")
    st.caption(f"{model.data.user_feature_note} Search by name: type in the box. Ratings: {model.rating_help()}.")
    left, mid, right = st.columns([3, 2, 1], vertical_alignment="bottom")
    with left:
        item = st.selectbox(f"Find a{'n' if word[0] in 'aeiou' else ''} {word}", options=model.item_names, index=None,
                            placeholder=f"Type a{'n' if word[0] in 'aeiou' else ''} {word}'s name…",
                            key=f"recsys-item-{ds}")
    with mid:
        value = rating_widget(model, ds, f"recsys-value-{ds}")
    with right:
        if st.button("Add / change", key=f"recsys-add-{ds}", type="primary", disabled=item is None):
            ratings[item] = float(value)
    if ratings:
        frame = pd.DataFrame({word: list(ratings), "your rating": list(ratings.values())})
        st.dataframe(frame, hide_index=True, width="stretch")
        a, b = st.columns([3, 1], vertical_alignment="bottom")
        with a:
            gone = st.selectbox("Remove a rating", options=list(ratings), index=None, key=f"recsys-remove-{ds}",
                                placeholder="Pick a rating to remove")
        with b:
            if st.button("Remove", key=f"recsys-remove-btn-{ds}", disabled=gone is None):
                ratings.pop(gone, None)
                st.rerun()
        st.caption(f"As a query (`python -m backend recommend coldnas --dataset {ds} --ratings \"…\"`): "
                   f"`{ratings_text(ratings)}`")
    upload_section(model, ds, ratings)
    return ratings


def upload_section(model, ds: str, ratings: dict[str, float]) -> None:
    word = ITEM_WORD.get(ds, "item")
    with st.expander(f"Upload your ratings (CSV: {word} name or id, rating)"):
        st.caption(f"Columns `item` and `rating` (a header is optional; `{word}` and `score` also work). Unknown "
                   f"{word}s and bad ratings are listed with their line numbers; the valid rows are used.")
        up = st.file_uploader("Ratings file", type=["csv", "tsv", "txt"], key=f"recsys-upload-{ds}")
        if up is None:
            return
        try:
            read, problems, headline = model.read_ratings(table=up.getvalue())
        except ValueError as exc:
            st.error(f"Could not read {up.name}: {exc}")
            return
        if problems:
            st.warning(f"{headline}: {len(read)} rating(s) usable, {len(problems)} problem(s):\n\n"
                       + "\n".join(f"- {p}" for p in problems))
        else:
            st.success(f"{headline}: {len(read)} rating(s) usable.")
        if read and st.button(f"Use these {len(read)} ratings", key=f"recsys-upload-use-{ds}"):
            ratings.update({model.item_names[i]: v for i, v in read.items()})
            st.rerun()


# ------------------------------------------------------------------------------------------ recommendations
def recommendations_section(model, ds: str, ratings: dict[str, float]) -> pd.DataFrame:
    st.subheader("2 · Your recommendations")
    top = st.slider("How many", 5, 30, 10, key=f"recsys-top-{ds}")
    query = {"ratings": ratings_text(ratings), "top": top}
    recs = model.predict(query).drop(columns=["index"])
    state = st.session_state.setdefault(f"recsys-history-{ds}", {"key": None, "current": None, "previous": None})
    key = (tuple(sorted(ratings.items())), top)
    if state["key"] != key:
        state["previous"] = state["current"] if state["key"] is not None and state["key"][1] == top else None
        state["key"], state["current"] = key, recs
    previous = state["previous"]
    recs = recs.assign(change=movement(recs, previous))
    word = ITEM_WORD.get(ds, "item")
    cols = {"predicted_rating": st.column_config.NumberColumn("predicted rating", format="%.3f",
                                                              help=f"{model.rating_help()}"),
            "item": st.column_config.TextColumn(word), "item_id": st.column_config.TextColumn("dataset id"),
            "change": st.column_config.TextColumn("change", help="▲ rose / ▼ fell this many places since your last "
                                                               "change of ratings; new = not in the previous list")}
    left, right = st.columns(2)
    with left:
        st.markdown(f"**Now** ({len(ratings)} rating{'s' if len(ratings) != 1 else ''})")
        st.dataframe(recs, hide_index=True, width="stretch", column_config=cols, key=f"recsys-recs-{ds}")
    with right:
        st.markdown("**Before your last change**")
        if previous is None:
            st.caption("Add or change a rating: the list before it will stay here, so you can see which "
                       f"{word}s rose or fell.")
        else:
            st.dataframe(previous.drop(columns=["index"], errors="ignore"), hide_index=True, width="stretch",
                         column_config=cols, key=f"recsys-prev-{ds}")
    st.caption(f"Predicted for a new user from the ratings above; {word}s you rated are left out. "
               f"{model.data.user_feature_note}")
    download_buttons([("Download recommendations (CSV)", frame_csv(recs), f"coldnas-{ds}-recommendations.csv",
                       "text/csv")], key=f"recsys-recs-dl-{ds}")
    return recs


def influence_section(model, ds: str, ratings: dict[str, float], recs: pd.DataFrame) -> None:
    st.subheader("3 · Why: what each of your ratings did")
    if not ratings:
        st.info("Rate at least one item: each recommendation then shows how much each rating moved it.")
        return
    evidence = model.explain({"ratings": ratings_text(ratings), "top": len(recs)})
    table = next(p for p in evidence.parts if p.kind == "table").to_frame()
    choice = st.selectbox("Recommendation", options=list(recs["item"]), key=f"recsys-why-{ds}")
    st.caption("Each bar: the predicted rating with all your ratings minus the prediction with that one rating left "
               "out (the model re-predicts without it). Green pushed the recommendation up, red pulled it down.")
    st.plotly_chart(influence_figure(table, choice), key=f"recsys-influence-{ds}")
    with st.expander("All influences and the structure (evidence)"):
        show_evidence(evidence, key=f"recsys-evidence-{ds}", file_stem=f"coldnas-{ds}-evidence")


# ------------------------------------------------------------------------------------------ search and baselines
def search_section(card: store.Card, model_dir: str, ds: str) -> None:
    st.subheader("4 · The search that chose the structure")
    search = (card.extras or {}).get("search")
    structure = (card.artefacts or {}).get("structure", {})
    supernet_file = Path(model_dir) / "supernet.json"
    if search is None or not supernet_file.exists():
        st.info("This checkpoint was trained with a fixed structure, not searched: run the search below.")
    else:
        supernet = json.loads(supernet_file.read_text(encoding="utf-8"))
        history = supernet["history"]
        epoch = st.slider("Supernet epoch", 1, len(history), supernet.get("best_epoch") or len(history),
                          key=f"recsys-epoch-{ds}",
                          help="The gates were trained jointly with the weights; the epoch with the lowest "
                               "validation MSE ranks the structures.")
        row = history[epoch - 1]
        a, b = st.columns([3, 2])
        with a:
            st.plotly_chart(gate_heatmap(row["gates"], epoch), key=f"recsys-gates-{ds}")
        with b:
            st.metric("validation MSE (supernet)", f"{row['valid_mse']:.4f}")
            st.caption(f"Gate = sigmoid(α): how much of each operation the supernet mixed in at each position. The "
                       f"{len(search['top_k'])} structures most likely under the gates of epoch "
                       f"{search['supernet_best_epoch']} were retrained briefly and compared on validation users "
                       "(never test users); the best was retrained from scratch.")
        traj = Path(model_dir) / "trajectory.jsonl"
        if traj.exists():
            trajectory_view(Trajectory(traj).records(), direction="min", key=f"recsys-traj-{ds}",
                            score_label="validation MSE", file_name=f"coldnas-{ds}-trajectory.csv",
                            color_by="structure_text")
            st.download_button("Download trajectory (JSON lines)", traj.read_bytes(),  # as wide as the CSV's above
                               file_name=f"coldnas-{ds}-trajectory.jsonl", mime="application/json",
                               key=f"recsys-traj-dl-{ds}-download-0", on_click="ignore")
    if structure:
        cfg = (card.train or {}).get("config", {})
        hidden = [int(x) for x in str(cfg.get("hidden", "128,64,32")).split(",")]
        d = int(cfg.get("embedding_dim", 32))
        params = card.params or {}
        width0 = int((card.extras or {}).get("input_width") or 2 * d)
        st.plotly_chart(structure_figure(structure["value"], [width0, *hidden],
                                         float((card.extras or {}).get("rating_range", [0, 1])[1])),
                        key=f"recsys-structure-{ds}")
        st.caption(f"Chosen structure (code {structure['code']} of 65,536): {structure['text']}. "
                   f"{params.get('total', 0):,} parameters, of which the hypernetwork {params.get('adaptive') or 0:,}.")


def baselines_section(card: store.Card) -> None:
    st.subheader("5 · ColdNAS beside the baselines (test users)")
    base = (card.extras or {}).get("baselines") or {}
    seeds = card.seeds or {}
    rows = []

    def fmt(summary, plain, metric):
        s = ((summary or {}).get("metrics", {}).get("test", {}) or {}).get(metric)
        if s and s.get("std") is not None:
            return f"{s['mean']:.4f} ± {s['std']:.4f}"
        value = (plain or {}).get(metric)
        return f"{value:.4f}" if value is not None else "—"

    n = seeds.get("n", 1)
    rows.append({"model": f"ColdNAS ({(card.artefacts.get('structure') or {}).get('text', '')})",
                 **{m.upper(): fmt(seeds, card.metrics.get("test"), m) for m in METRICS}, "paired test p (MSE)": ""})
    for name in BASELINE_ORDER:
        if name not in base:
            continue
        b = base[name]
        p = b.get("paired_test_mse") or {}
        rows.append({"model": b["title"], **{m.upper(): fmt(b.get("seeds"), b["metrics"].get("test"), m)
                                            for m in METRICS},
                     "paired test p (MSE)": (f"{p['wilcoxon_p']:.2g} (Δ {p['mean_difference']:+.4f})" if p else "")})
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    pop = base.get("popularity", {}).get("definition", "")
    st.caption(f"Mean ± standard deviation over {n} training seed(s). Paired test: Wilcoxon signed-rank test over "
               "the test users' query items of ColdNAS's squared errors against the baseline's (Δ = ColdNAS minus "
               f"baseline; negative favours ColdNAS). Item popularity: {pop}.")


def run_section(ds: str) -> None:
    with st.expander("Run the search yourself"):
        output = store.runs_root() / METHOD.name / f"{ds}-search"
        argv = ["search", METHOD.name, "--dataset", ds, "--output", str(output), "--seeds", "1"]
        st.caption(f"Runs `python -m backend {' '.join(argv)}` in the background: supernet, the top structures "
                   "retrained and compared on validation users, the best retrained with the baselines (a few "
                   "minutes on a CPU). Run again to resume an interrupted search.")
        job_panel(f"{METHOD.name}/{ds}-search", argv, key=f"recsys-search-{ds}", start_label="Start the search")


def offline_evidence(model_dir: str) -> None:
    example = Path(model_dir) / "example_evidence.json"
    if example.exists():
        st.markdown("**Example evidence shipped with this checkpoint**")
        show_evidence(Evidence.from_json(example.read_text(encoding="utf-8")), key="recsys-example-evidence")


def main() -> None:
    st.title("Cold-start recommendation")
    st.markdown(
        "**ColdNAS** (Wu et al., WWW 2023) recommends to a **new user** from a handful of ratings, with no gradient "
        "step: a hypernetwork reads your (item, rating) pairs and produces vectors that *modulate* a rating "
        "predictor at four positions. Which modulations (max, min, multiply, add) run where was **searched** among "
        "65,536 structures. Pick a dataset, rate a few items, and see what each rating changes.")
    checkpoints = {p: v for p, v in find_checkpoints(METHOD).items()}
    if not checkpoints:
        st.info(f"No ColdNAS checkpoint yet under `{store.MODELS_DIR / METHOD.name}`. Run: "
                f"`python -m backend search {METHOD.name} --dataset lastfm`.")
        return
    model_dir = checkpoint_picker(METHOD, checkpoints, key="recsys-checkpoint", preferred="lastfm")
    label, card = checkpoints[model_dir]
    ds = card.dataset
    card_brief(METHOD, card, label.endswith(OWN_RUN), names=METRICS, notes=card_notes(card))
    data_root = str(resolve_data_root(None))
    try:
        model = loaded_model(METHOD.name, model_dir, data_root)
    except DataMissingError as exc:
        st.warning(f"The {ds} data is not under the data root, so this checkpoint cannot recommend; its card is "
                   "above and its search and baselines below.")
        if getattr(exc, "dataset", None) in CATALOG:
            missing_data_section(exc.dataset, data_root, key=f"recsys-data-{exc.dataset}")
        offline_evidence(model_dir)
        search_section(card, model_dir, ds)
        baselines_section(card)
        return
    except EXPECTED_ERRORS as exc:
        st.error(f"Could not load the checkpoint in {model_dir}: {exc}")
        return
    ratings = ratings_section(model, ds)
    st.divider()
    recs = recommendations_section(model, ds, ratings)
    st.divider()
    influence_section(model, ds, ratings, recs)
    st.divider()
    search_section(card, model_dir, ds)
    st.divider()
    baselines_section(card)
    run_section(ds)


main()
