"""Knowledge-graph reasoning with RED-GNN: ranked answers to (head, relation, ?) and their r-digraph evidence.

A composition of sections: the shared ones (ui.components: checkpoint picker and card, batch input, breakdown,
train panel) and the page's own (ui.views.kg: graphs, answers, quality). RED-GNN is reached only through
backend.registry. Checkpoints trained from this page go to ``$PARSIMONY_RUNS/redgnn/<dataset>-<time>/`` (default
``<project>/runs``, git-ignored) and are listed in the checkpoint picker as "(your run)".
"""
from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

PROJECT_ROOT = Path(__file__).resolve().parents[2]
if str(PROJECT_ROOT) not in sys.path:  # the page also runs on its own (AppTest, `streamlit run` of this file)
    sys.path.insert(0, str(PROJECT_ROOT))

from backend.core import store  # noqa: E402
from backend.core.data import CATALOG, DataMissingError, resolve_data_root  # noqa: E402
from backend.core.references import reference_rows  # noqa: E402
from backend.kg.graph import distinct_queries  # noqa: E402
from backend.registry import get_method  # noqa: E402
from ui.components.batch_input import batch_input_section  # noqa: E402
from ui.components.data_missing import missing_data_section  # noqa: E402
from ui.components.job_panel import has_running_job, running_job_labels  # noqa: E402
from ui.components.checkpoints import OWN_RUN, card_brief, checkpoint_picker, find_checkpoints, loaded_model  # noqa: E402
from ui.components.glossary import glossary_expander  # noqa: E402
from ui.components.model_card import format_seconds, trained_on  # noqa: E402
from ui.components.train_panel import TrainField, train_panel  # noqa: E402
from ui.views.kg import graphs  # noqa: E402
from ui.views.kg.answers import ANSWER_COLUMNS, Source, query_section, triple_section  # noqa: E402
from ui.views.kg.graphs import EXPECTED_ERRORS, slug  # noqa: E402
from ui.views.kg.quality import relation_quality_section  # noqa: E402

METHOD = get_method("redgnn")
#: rows the page scores from an uploaded table (`python -m backend predict redgnn --input FILE` reads them all)
PAGE_MAX_ROWS = 5000
#: inductive training-query sources offered by the train panel (RedGNNConfig.inductive_queries)
INDUCTIVE_QUERY_CHOICES = {"valid": "RED-GNN's: the training graph's valid triples",
                           "resplit": "re-split: all training-graph triples, a new quarter each epoch"}
TRAIN_FIELDS = (
    TrainField("epochs", "Epochs", "At most this many passes over the training queries", 1, 500, default=50),
    TrainField("max_seconds", "Time limit (min)", "Stop after this many minutes and keep the best epoch so far "
               "(0 = no limit); an epoch the time left cannot half cover is not started.", 0, 24 * 60, 1,
               scale=60.0, default=5),
    TrainField("patience", "Patience (epochs)", "Stop when the validation MRR has not improved for this many "
               "epochs (0 = never)", 0, 100, default=3),
)
TRIPLE_COLUMNS = {
    "row": st.column_config.NumberColumn("row", help="Line of your file (the header is line 1)"),
    "score": st.column_config.NumberColumn("score", format="%.4f"),
    "rank": st.column_config.NumberColumn(
        "rank", format="%.1f", help="Filtered rank of the tail among all entities (average ties), as in the test"),
    "reached": ANSWER_COLUMNS["reached"],
    "known_fact": ANSWER_COLUMNS["known_fact"],
    "best_answer": st.column_config.TextColumn("model's best answer"),
    "best_score": st.column_config.NumberColumn("best score", format="%.4f"),
    "answer_rank": st.column_config.NumberColumn("answer rank"),
}


@st.cache_data(max_entries=16, show_spinner=False)
def baseline_valid_mrr(model_dir: str, data_root: str) -> float | None:
    """Valid MRR of ranking tails by their frequency under the query relation, on the checkpoint's own graph."""
    from backend.kg.baselines import frequency_baseline

    model = loaded_model(METHOD.name, model_dir, data_root)
    if model.card.setting == "inductive" or not len(model.kg.valid):
        return None
    return frequency_baseline(model.kg, "valid")["mrr"]


def weak_model_warning(card: store.Card, model_dir: str, data_root: str) -> None:
    """Say so when a run's valid MRR does not beat the frequency baseline, and what to do."""
    valid = (card.metrics or {}).get("valid", {}).get("mrr")
    baseline = baseline_valid_mrr(model_dir, data_root)
    if valid is None or baseline is None or valid > baseline:
        return
    st.warning(f"**This run has not learned more than a frequency count.** Its valid MRR, {valid:.3f}, is not above "
               f"{baseline:.3f}, the MRR of ranking every tail by how often it is a tail of the query's relation. "
               "Its answers below are no better than that. Train longer (continue it, or raise the time limit and "
               "the patience in *Train a RED-GNN model*), or check that the graph has enough triples per relation.")


def card_notes(card: store.Card) -> list[str]:
    notes = ["MRR 1.0 would put every true answer first. Filtered ranking over all entities, tail and inverse "
             "(head) queries. Entities the propagation never "
             "reaches all score 0: the RED-GNN protocol ranks such ties at their average position, NBFNet's at the "
             "worst."]
    rows = [r for r in reference_rows(METHOD.name) if r["dataset"] == card.dataset and r["metric"] == "mrr"
            and r.get("model") == METHOD.title]  # RED-GNN's own figures, not the baselines beside it
    if rows:
        notes.append(f"Published test MRR on {card.dataset}: " + ", ".join(
            f"{r['value']:.3f} ({'RED-GNN paper' if r['citation'] == METHOD.paper else r['citation']})" for r in rows)
            + ".")
    if (card.train or {}).get("config", {}).get("inductive_queries") == "resplit":
        notes.append("Trained on re-split queries: all of the training graph's triples, a new quarter each epoch, "
                     "where the paper asks only its valid triples.")
    return notes


def example_rows(model, n: int = 3) -> str:
    """Tab-separated head, relation, tail of the first test triples: the format the upload reads."""
    split = model.kg.test if len(model.kg.test) else model.kg.facts
    return "\n".join(f"{model.kg.entity_text(h)}\t{model.kg.relation_label(r)}\t{model.kg.entity_text(t)}"
                     for h, r, t in split[:n].tolist())


def batch_section(model, src: Source, tag: str) -> None:
    st.subheader("Rank your own triples")
    batch_input_section(
        model, src, tag,
        explanation=(f"Upload a CSV or TSV with the columns head, relation and tail — a header is optional; names, "
                     f"labels or 'label · name' as the pickers show them, and 'inverse of RELATION' for head queries — "
                     f"or paste the rows. Each triple gets the tail's score and its filtered rank among all "
                     f"{model.kg.n_ent:,} entities (the test protocol), whether it is reached within "
                     f"{model.model.n_layer} hops and whether it is a known fact. Without a tail column each "
                     f"(head, relation) gets its 5 best answers. `python -m backend predict {METHOD.name} --input "
                     f"FILE` reads a file of any length."),
        example=example_rows(model), file_stem=f"{METHOD.name}-{slug(model.kg.name)}-ranked", max_rows=PAGE_MAX_ROWS,
        column_config=TRIPLE_COLUMNS, file_label="Triples file")


def epoch_time_text(card: store.Card) -> str:
    """How long the shipped run's epochs took, to size a run: 'The shipped checkpoint trained 20 epochs ...'."""
    train = card.train or {}
    epochs, seconds = int(train.get("epochs") or 0), train.get("seconds")
    if not epochs or not seconds:
        return "The shipped checkpoint's card does not record its training time."
    return (f"The shipped checkpoint trained {epochs} epoch{'s' if epochs != 1 else ''} in "
            f"{format_seconds(seconds)} on {trained_on(train)}: about {format_seconds(seconds / epochs)} per epoch, "
            "plus a validation pass after each.")


def shipped_checkpoint(dataset: str) -> tuple[Path, store.Card] | None:
    """The shipped checkpoint folder of ``dataset`` and its card, if there is one."""
    inductive = dataset in METHOD.datasets and METHOD.config_for(dataset).inductive
    folder = store.default_model_dir(METHOD.name, dataset, "inductive" if inductive else "default")
    try:
        return folder, store.load_card(folder)
    except (FileNotFoundError, ValueError, KeyError):
        return None


def train_section(expanded: bool) -> None:
    graphs.import_section(METHOD, expanded=False)
    with st.expander(f"Train a {METHOD.title} model", expanded=expanded):
        st.markdown(
            f"Starts `python -m backend train {METHOD.name}` in the background with the paper's hyper-parameters for "
            "the chosen dataset (for your own graphs: family's) and follows it here. By default it trains until the "
            "validation MRR has not improved for 3 epochs, within 5 minutes; change both below. The run writes "
            f"`model.pt` and `card.json` to a new folder under `{store.runs_root() / METHOD.name}` — never over the "
            "shipped checkpoints — and appears in the checkpoint picker above as “(your run)”. On a laptop CPU "
            "family trains in a few minutes, umls and the small inductive splits in under an hour; WN18RR needs "
            "hours and FB15k-237 a GPU.")
        options = METHOD.all_datasets()
        running = [label.split("/", 1)[1] for label in running_job_labels(f"{METHOD.name}/")]
        if running and graphs.TRAIN_DATASET_KEY not in st.session_state:  # a reloaded page shows the running job
            st.session_state[graphs.TRAIN_DATASET_KEY] = running[0]
        if st.session_state.get(graphs.TRAIN_DATASET_KEY) not in options:
            st.session_state[graphs.TRAIN_DATASET_KEY] = "family"
        inductive = {d for d in METHOD.datasets if METHOD.config_for(d).inductive}
        ds = st.selectbox("Dataset", options=options, key=graphs.TRAIN_DATASET_KEY,
                          format_func=lambda d: d + (" (inductive)" if d in inductive else
                                                     graphs.GRAPH_SUFFIX if d not in METHOD.datasets else ""))
        shipped = shipped_checkpoint(ds)
        if ds not in METHOD.datasets:
            st.caption(graphs.graph_text(METHOD, ds))
        missing = ds in CATALOG and not missing_data_section(ds, resolve_data_root(None), key=f"kg-train-data-{ds}")
        init_from, done = None, 0
        if shipped is not None:
            folder, card = shipped
            st.caption(epoch_time_text(card))
            done = int((card.train or {}).get("epochs", 0))
            if st.checkbox(f"Continue the shipped checkpoint ({done} epochs, test MRR "
                           f"{card.metrics['test']['mrr']:.3f})", key=f"kg-train-continue-{ds}",
                           help="Starts from its selected weights, its learning-rate schedule and its record (the "
                                "epochs above count on from its own); the new folder keeps whichever of the old "
                                "and the new weights is better on valid."):
                init_from = str(folder)

        def method_choices(config) -> dict:
            """A continued checkpoint trains the epochs chosen on top of its own; an inductive split asks where
            its training queries come from."""
            more = {"epochs": done + config.epochs} if init_from else {}
            if ds not in inductive:
                return more
            current = (shipped[1].train or {}).get("config", {}).get("inductive_queries", "valid") if shipped \
                else "valid"
            choice = st.radio("Training queries", options=list(INDUCTIVE_QUERY_CHOICES), horizontal=True,
                              index=list(INDUCTIVE_QUERY_CHOICES).index(current),
                              format_func=INDUCTIVE_QUERY_CHOICES.get, key=f"kg-train-queries-{ds}",
                              help="RED-GNN's recipe asks the training graph's valid triples only. The re-split "
                                   "pools the training graph's triples with them and draws a new quarter as queries "
                                   "each epoch (the rest is the graph), as transductive training does: several "
                                   "times more queries, so each epoch takes longer, and every relation of the graph "
                                   "is asked (models/redgnn/README.md has the measured effect per split).")
            return {**more, "inductive_queries": choice}

        train_panel(METHOD, ds, "kg-train", TRAIN_FIELDS, extra=method_choices, init_from=init_from,
                    disabled=missing)


def main() -> None:
    st.title("Knowledge-graph reasoning")
    st.markdown(
        "**RED-GNN** (Zhang & Yao, WWW 2022) answers queries *(head, relation, ?)* on a knowledge graph by "
        "message passing over the **relational digraph** that grows from the head entity, one hop per layer. "
        "Pick a checkpoint, ask a query, and inspect the paths the model weighed to reach each answer.")
    checkpoints = find_checkpoints(METHOD)
    if not checkpoints:
        st.info(f"No RED-GNN checkpoint yet: none under `{store.MODELS_DIR / METHOD.name}` and none of your runs "
                f"under `{store.runs_root() / METHOD.name}`. Train one below (family takes a few minutes on a CPU), "
                f"or from a terminal: `python -m backend train {METHOD.name} --dataset family`.")
        train_section(expanded=True)
        return

    # WN18RR first: readable word senses, where family's people are bare numbers
    model_dir = checkpoint_picker(METHOD, checkpoints, key="kg-checkpoint", preferred="WN18RR")
    label, card = checkpoints[model_dir]
    own = label.endswith(OWN_RUN)
    card_brief(METHOD, card, own, names=("mrr", "hits@1", "hits@10"), notes=card_notes(card))
    glossary_expander(["mrr", "hits@1", "hits@10", "filtered rank", "ties", "transductive", "inductive", "facts",
                       "r-digraph", "score", "parameters"])
    replaced = graphs.replaced_graph_files(METHOD, card.dataset, (card.data or {}).get("files") or {}) if own else []
    if replaced:
        st.warning(f"The graph **{card.dataset}** has changed since this run trained on it "
                   f"({', '.join(replaced)} differ from the card's checksums; an import with *replace* does this). "
                   "The card's metrics describe the old split; answers below use the graph as it is now.")

    src = Source(model_dir, str(resolve_data_root(None)))
    try:
        model = loaded_model(METHOD.name, src.model_dir, src.data_root)
    except DataMissingError as exc:
        st.warning(f"The {card.dataset} knowledge graph is not under the data root, so this checkpoint cannot "
                   "answer queries; its card is above.")
        if getattr(exc, "dataset", None) in CATALOG:
            missing_data_section(exc.dataset, src.data_root, key=f"kg-checkpoint-data-{exc.dataset}")
        else:
            st.warning(str(exc))
        train_section(expanded=has_running_job(f"{METHOD.name}/"))
        return
    except EXPECTED_ERRORS as exc:
        st.error(f"Could not load the checkpoint in {model_dir}: {exc}")
        train_section(expanded=has_running_job(f"{METHOD.name}/"))
        return

    graph_slot = st.container()  # always there, so the picker appearing after an import shifts no later element
    with graph_slot:  # (a shift would re-create the expanders below, collapsed)
        graph = graphs.graph_picker(model, card)
    if graph:
        src = src._replace(graph=graph, stamp=graphs.map_stamp(graph))
        try:
            model = loaded_model(METHOD.name, src.model_dir, src.data_root, src.options, src.stamp)
        except EXPECTED_ERRORS as exc:
            with graph_slot:  # what helps: saying what its relations mean, or a checkpoint that knows them
                st.error(f"This checkpoint cannot reason over {graph}: {exc}")
                if str(exc).startswith("none of"):
                    from backend.kg.user_graphs import relation_triples

                    st.caption(f"Say below what its relations mean in {model.training.name}'s terms, or run every "
                               "checkpoint on its valid triples to find one that knows them.")
                    graphs.relation_map_section(model.training, graph, relation_triples(graph))
                    graphs.comparison_section(METHOD, graph, src.data_root, list(checkpoints))
            train_section(expanded=has_running_job(f"{METHOD.name}/"))
            return
    if own and not graph:
        weak_model_warning(card, src.model_dir, src.data_root)
    kg = model.kg
    if model.applied is not None:
        with graph_slot:
            st.caption(f"Queries run on your graph **{kg.name}**, which this checkpoint was not trained on: "
                       f"{kg.n_ent:,} entities, {(model.graph.n_edges - kg.n_ent) // 2:,} triples in the graph (its "
                       f"test and valid triples held out), {model.model.n_layer} propagation steps, device "
                       f"{model.device}. {model.applied.summary()}")
            graphs.relation_map_section(model.training, graph, model.applied.left_out)
            graphs.comparison_section(METHOD, graph, src.data_root, list(checkpoints))
    else:
        setting = (f"inductive test graph **{kg.name}** (entities unseen in training)" if card.setting == "inductive"
                   else f"graph **{kg.name}**")
        st.caption(f"Queries run on the {setting}: {kg.n_ent:,} entities, {kg.n_rel} relations (+ inverses), "
                   f"{(model.graph.n_edges - kg.n_ent) // 2:,} triples in the graph, "
                   f"{model.model.n_layer} propagation steps, device {model.device}. {kg.naming_note}")
    tag = slug(Path(model_dir).parent.name + "-" + Path(model_dir).name + (f"-on-{graph}" if graph else ""))
    query_section(METHOD, model, src, tag)
    st.divider()
    triple_section(model, src, tag)
    st.divider()
    batch_section(model, src, tag)
    st.divider()
    relation_quality_section(METHOD, model, src, len(distinct_queries(kg.test, kg.n_rel)), tag)
    st.divider()
    train_section(expanded=has_running_job(f"{METHOD.name}/"))


main()
