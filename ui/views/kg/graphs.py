"""The KG page's own sections about graphs: import a graph of your own, reason over it with a checkpoint
(the graph picker, saying what its relations mean), and compare every checkpoint on it. RED-GNN reaches them
through the registry (its ``graph`` load option and its ``compare_on_graph`` extra); the graph files through
backend.kg."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import streamlit as st

from backend.core import store
from backend.core.data import CATALOG, dataset_status, resolve_data_root
from backend.core.method import Method
from backend.core.tables import QUOTING_RULES
from ui.components.downloads import download_buttons, frame_csv
from ui.components.progress import kept_with_progress

GRAPH_SUFFIX = " (your graph)"
TRAIN_DATASET_KEY = "kg-train-dataset"
#: most relations the mapping form lists (by triples left out); the rest: `python -m backend map-relations`
MAP_FORM_ROWS = 20
EXPECTED_ERRORS = (OSError, ValueError, KeyError, RuntimeError, TypeError)


def count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", str(text)).strip("-")[:40] or "x"


def replaced_graph_files(method: Method, dataset: str, recorded: dict[str, str]) -> list[str]:
    """For a run on an imported graph: the graph's files that no longer match its card (else [])."""
    from backend.kg.user_graphs import graph_folder

    if dataset in method.datasets or not recorded:
        return []
    stamp = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in graph_folder(dataset).glob("*.txt")))
    return _changed_files(dataset, tuple(sorted(recorded.items())), stamp)


@st.cache_data(max_entries=32, show_spinner=False)
def _changed_files(dataset: str, recorded: tuple, stamp: tuple) -> list[str]:
    from backend.kg.user_graphs import changed_files

    return changed_files(dataset, dict(recorded))


def map_stamp(graph: str) -> float:
    """When the graph's relation map was last saved (a new map is a new model to load)."""
    from backend.kg.user_graphs import RELATION_MAP_FILE, graph_folder

    path = graph_folder(graph) / RELATION_MAP_FILE
    return path.stat().st_mtime if path.exists() else 0.0


def _graph_name_from_file(file_name: str) -> str:
    """A free graph name from an upload's file name: 'My KG (v2).tsv' -> 'My-KG-v2'; 'family.csv' -> 'family-own'
    (a catalog dataset's name is taken); a second 'x.csv' -> 'x-2'."""
    from backend.kg.user_graphs import graph_folder

    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(file_name).stem).strip("-._")[:56] or "my-graph"
    if stem.lower() in {name.lower() for name in CATALOG}:
        stem += "-own"
    name, n = stem, 2
    while graph_folder(name).exists():
        name, n = f"{stem}-{n}", n + 1
    return name


def _report_lines(report: dict) -> list[str]:
    from backend.kg.user_graphs import GraphReport

    return GraphReport(**report).lines()


def transductive_datasets(method: Method) -> list[str]:
    return [d for d in method.datasets if not method.config_for(d).inductive]


def import_section(method: Method, expanded: bool) -> None:
    """Upload a table of triples and make it a knowledge graph the train panel offers."""
    from backend.kg.user_graphs import MIN_TRIPLES, graph_report, graphs_dir, graphs_frame, import_graph

    with st.expander("Add your own knowledge graph", expanded=expanded):
        st.markdown(
            f"Upload a CSV or TSV of triples with the columns **head, relation, tail** (a header is optional; names "
            f"may hold spaces). Repeated triples are dropped and rows that cannot be read are listed, the others "
            f"kept. The triples are split at random into training, valid and test triples; a held-out triple whose "
            f"entity or relation occurs in no training triple is trained on instead, since a transductive model "
            f"can only rank entities it has seen. The graph needs at least {MIN_TRIPLES} distinct triples. It is "
            f"written to `{graphs_dir()}` and appears in **Train a {method.title} model** below; the trained run then "
            f"appears in the checkpoint picker, to query and explain like the shipped ones. A graph that names its "
            f"relations as a checkpoint's dataset does (or labels them so in the labels table) needs no training: "
            f"pick it under **Reason over** at the top, and the checkpoint answers on it at once. From a terminal: "
            f"`python -m backend import-graph FILE --name NAME`.")
        c0, c5 = st.columns([3, 2])
        upload = c0.file_uploader("Graph file (triples)", type=["csv", "tsv", "txt"], key="kg-import-file",
                                  help=QUOTING_RULES)
        labels = c5.file_uploader("Labels (optional)", type=["csv", "tsv", "txt"], key="kg-import-labels",
                                  help="A CSV or TSV of name, label: readable labels for entities and relations "
                                       "(for ids such as Q42 or /m/02mjmr); the pickers, answers and evidence "
                                       "show them, and a query may name an entity by either. A relation labelled "
                                       "with a checkpoint's relation name is matched to it under Reason over.")
        c1, c2, c3, c4 = st.columns([3, 1, 1, 1])
        name = c1.text_input("Graph name", value=_graph_name_from_file(upload.name) if upload else "",
                             key=f"kg-import-name-{upload.name if upload else ''}",
                             help="Letters, digits, '_', '-' and '.'; not the name of a catalog dataset")
        valid = c2.number_input("Valid share", min_value=0.01, max_value=0.4, value=0.1, step=0.05,
                                key="kg-import-valid", help="Share of the triples held out to select the epoch")
        test = c3.number_input("Test share", min_value=0.01, max_value=0.4, value=0.1, step=0.05,
                               key="kg-import-test", help="Share of the triples held out for the test metrics")
        seed = c4.number_input("Split seed", min_value=0, max_value=2**31 - 1, value=0, step=1, key="kg-import-seed")
        d1, d2 = st.columns([2, 3])
        present = [d for d in transductive_datasets(method)
                   if d in CATALOG and dataset_status(CATALOG[d], resolve_data_root(None)) == "present"]
        extend = d1.selectbox("Add to a dataset (optional)", options=["", *present], key="kg-import-extend",
                              format_func=lambda d: d or "no: the table is the whole graph",
                              help="Your triples join the dataset's graph, whose triples always train; its labels "
                                   "come along, and your cells may name its entities by their labels. The valid "
                                   "and test triples are drawn from your own triples: reason over the graph with "
                                   "that dataset's checkpoint to see how well it predicts them.")
        replace = d2.checkbox("Replace a graph of the same name", key="kg-import-replace")
        if st.button("Add graph", type="primary", disabled=upload is None, key="kg-import-add"):
            try:
                from backend.kg.loader import load_redgnn_layout

                report = import_graph(upload.getvalue(), name, valid_fraction=float(valid),
                                      test_fraction=float(test), seed=int(seed), replace=replace,
                                      source_name=upload.name, labels=labels.getvalue() if labels else None,
                                      labels_name=labels.name if labels else "",
                                      extend=load_redgnn_layout(extend, resolve_data_root(None)) if extend else None,
                                      keep_going=True)
            except (ValueError, OSError) as exc:
                st.error(f"Could not add the graph: {exc}")
            else:
                st.session_state[TRAIN_DATASET_KEY] = report.name
                st.session_state["kg-import-last"] = report.name
        last = st.session_state.get("kg-import-last")
        saved = graph_report(last) if last else None
        if saved:
            _show_import_report(method, last, saved)
        graphs = graphs_frame()
        if len(graphs):
            st.dataframe(graphs, hide_index=True, width="stretch", key="kg-import-graphs")


def _show_import_report(method: Method, name: str, saved: dict) -> None:
    """What an import read, and prominently what it could not."""
    problem_rows = saved.get("problem_rows") or []
    rows_in_file = saved.get("rows_in_file")
    not_read = len({p["row"] for p in problem_rows})  # rows, not problems: a row may have two bad cells
    if problem_rows and rows_in_file:
        st.warning(f"**Not every row of {saved['source']} was read: {saved['rows_read']:,} of "
                   f"{rows_in_file:,} rows imported, {count(not_read, 'row')} not.** Each is listed "
                   "below with its line and reason; fix them and import again with *replace* to keep them.")
    st.success(f"Added **{name}** from {saved['source']}. " + " ".join(_report_lines(saved)) +
               f" Pick it in **Train a {method.title} model** below, or under **Reason over** at the top to query "
               "it with the checkpoint there, untrained.")
    label_problems = (saved.get("labels") or {}).get("problems") or []
    if label_problems:
        st.warning("Label rows skipped:\n\n" + "\n".join(f"- {line}" for line in label_problems))
    if problem_rows:
        st.warning(f"{count(not_read, 'row')} not read:\n\n" +
                   "\n".join(f"- {line}" for line in saved["problems"][:30])
                   + (f"\n- … {len(saved['problems']) - 30:,} more in the download" if len(saved["problems"]) > 30
                      else ""))
        skipped = pd.DataFrame(problem_rows, columns=["row", "column", "value", "reason"])
        download_buttons([("Download skipped rows (CSV)", frame_csv(skipped), f"{name}-skipped.csv",
                           "text/csv")], key="kg-import-skipped")


def graph_text(method: Method, name: str) -> str:
    """What an imported graph holds and the settings it trains with."""
    from backend.kg.user_graphs import graph_report

    report = graph_report(name) or {}
    splits = report.get("splits") or {}
    c = method.config_for(name)
    held = (f"{report.get('entities', 0):,} entities, {report.get('relations', 0)} relations, "
            f"{splits.get('facts', 0) + splits.get('train', 0):,} training, {splits.get('valid', 0):,} valid and "
            f"{splits.get('test', 0):,} test triples" if report else "no import report")
    return (f"Your graph {name}: {held}. It trains with {c.n_layer} layers, hidden size {c.hidden_dim}, learning "
            f"rate {c.lr:g}, batches of {c.n_batch} queries. The model has no entity embeddings, so its size does "
            "not grow with the graph; an epoch's time grows with the triples.")


@st.cache_data(max_entries=64, show_spinner=False)
def _graph_relations(name: str, stamp: tuple) -> tuple[list[str], dict[str, str], dict[str, str]]:
    """(relation names, their labels, what the user said they mean) of an imported graph."""
    from backend.kg.user_graphs import graph_relations, relation_map

    return (*graph_relations(name), relation_map(name))


def graph_picker(model, card: store.Card) -> str:
    """The graph the checkpoint reasons over: "" for its own, or an imported graph (shown with how many of its
    relations the checkpoint knows). Nothing is shown while no graph is imported."""
    from backend.kg.align import shared_relations
    from backend.kg.user_graphs import graph_folder, list_user_graphs

    graphs = list_user_graphs()
    if not graphs:
        return ""
    known = {}
    for name in graphs:
        relations, labels, meaning = _graph_relations(
            name, ((graph_folder(name) / "relations.txt").stat().st_mtime, map_stamp(name)))
        known[name] = f"{shared_relations(relations, model.training, labels, meaning)} of {len(relations)}"
    own = "its inductive test graph" if card.setting == "inductive" else "the graph it was trained on"
    # the counts stay out of the option labels: a selected option's label is not redrawn when it changes
    return st.selectbox(
        "Reason over", options=["", *graphs], key=f"kg-graph-{slug(Path(str(card.path)).name)}",
        format_func=lambda g: f"{card.dataset}: {own}" if not g else f"{g}{GRAPH_SUFFIX}",
        help="RED-GNN learns relations, not entities, so a checkpoint can answer queries on a graph of yours "
             "without training, when the graph names its relations as the checkpoint's dataset does (or by their "
             "labels; case is ignored), or once you say what its relations mean. Triples of other relations "
             "are left out. Import graphs below. Relations of each graph this checkpoint knows: "
             + "; ".join(f"{g} {n}" for g, n in known.items()) + ".")


def relation_map_section(training, graph: str, left_out: dict[str, int]) -> None:
    """Say what the graph's unmatched relations (``left_out``: name -> its triples) mean in the terms of the
    checkpoint's ``training`` graph (saved with the graph)."""
    from backend.kg.user_graphs import relation_map, save_relation_map

    said = relation_map(graph)
    rows = sorted(left_out.items(), key=lambda kv: (-kv[1], kv[0]))[:MAP_FORM_ROWS]
    rows += [(name, None) for name in sorted(said) if name not in dict(rows)]
    if not rows:
        return
    options = ["", *training.relations, *(f"inverse of {r}" for r in training.relations)]
    with st.expander(f"Map your relations to {training.name}'s ({count(len(left_out), 'relation')} left out)"):
        st.caption(f"Say which relation of {training.name} a relation of your graph means ('inverse of r' when "
                   f"your triples run the other way: yours (a, has son, b) is its (b, son, a)), and its triples join "
                   f"the graph this checkpoint reasons over. Saved with the graph, for every checkpoint; "
                   f"`python -m backend map-relations {graph} 'FROM=TO'` does the same"
                   + (f" (the form lists the {MAP_FORM_ROWS} with the most triples)."
                      if len(left_out) > MAP_FORM_ROWS else "."))
        with st.form(f"kg-map-{graph}"):
            chosen = {}
            for name, n in rows:
                current = said.get(name, "")
                chosen[name] = st.selectbox(
                    f"{name}" + (f" ({n:,} triples left out)" if n else ""), options=options,
                    index=options.index(current) if current in options else 0, key=f"kg-map-{graph}-{name}",
                    format_func=lambda r: r or "(leave out)")
            submitted = st.form_submit_button("Save the mapping", type="primary")
        if submitted:
            try:
                save_relation_map(graph, {name: value for name, value in chosen.items()
                                          if value != said.get(name, "")})
            except (ValueError, OSError) as exc:
                st.error(f"Could not save the mapping: {exc}")
            else:
                st.rerun()


COMPARE_COLUMNS = {
    "checkpoint": st.column_config.TextColumn("checkpoint"),
    "relations_known": st.column_config.TextColumn("relations known", help="of the graph's relations"),
    "coverage": st.column_config.NumberColumn("valid triples answered", format="percent",
                                              help="Share of the graph's valid triples whose relation it knows"),
    "mrr_all": st.column_config.NumberColumn("MRR, all valid", format="%.3f",
                                             help="Over all valid triples; those it cannot answer count 0"),
    "mrr": st.column_config.NumberColumn("MRR, answered", format="%.3f"),
    "hits@10": st.column_config.NumberColumn("Hits@10, answered", format="%.3f"),
    "seen_in_training": st.column_config.NumberColumn(
        "seen in training", format="percent",
        help="Share of the valid triples this checkpoint was trained on (its dataset holds them; entities found "
             "by name, label or their place in the graph, so at least this share): its figure is optimistic"),
    "seconds": st.column_config.NumberColumn("seconds", format="%.1f"),
}


def comparison_section(method: Method, graph: str, data_root: str, folders: list[str]) -> None:
    """On request, every checkpoint (of ``folders``) that knows a relation of ``graph`` ranked on its valid
    triples (the method's ``compare_on_graph``)."""
    from backend.kg.user_graphs import graph_folder

    if not st.toggle("Which checkpoint suits this graph? Compare every checkpoint on its valid triples",
                     key=f"kg-compare-{graph}"):
        return
    stamp = tuple((f, (Path(f) / "model.pt").stat().st_mtime if (Path(f) / "model.pt").exists() else 0)
                  for f in folders)
    stamp += ((graph_folder(graph) / "valid.txt").stat().st_mtime, map_stamp(graph))
    compare = method.extras["compare_on_graph"]
    try:
        frame, skipped = kept_with_progress(
            "kg-compared", (graph, data_root, stamp), "Running each checkpoint on the graph's valid triples",
            "checkpoints", lambda progress: compare(graph, data_dir=data_root, progress=progress))
    except EXPECTED_ERRORS as exc:
        st.error(f"Could not compare the checkpoints: {exc}")
        return
    if frame.empty:
        st.info(f"No checkpoint knows a relation of {graph}.")
    else:
        best = frame.iloc[0]
        st.markdown(f"Best on the valid triples: **{best['checkpoint']}** (MRR {best['mrr_all']:.3f} over all of "
                    f"them). Pick it under **Checkpoint** above; the test triples stay untouched for its final "
                    f"figure, which the quality section below computes.")
        st.dataframe(frame, hide_index=True, width="stretch", column_config=COMPARE_COLUMNS,
                     column_order=list(COMPARE_COLUMNS), key=f"kg-compare-table-{graph}")
        download_buttons([("Download the comparison (CSV)", frame_csv(frame),
                           f"{method.name}-checkpoints-on-{graph}.csv", "text/csv")], key=f"kg-compare-dl-{graph}")
    if skipped:
        by_reason: dict[str, list[str]] = {}
        for line in skipped:  # "name: reason"
            name, _, reason = line.partition(": ")
            by_reason.setdefault(reason, []).append(name)
        st.caption("Left out: " + "; ".join(f"{', '.join(names)} ({reason})" for reason, names in by_reason.items())
                   + ".")
