"""Formulas (GSR): symbolic laws of graph-structured physical systems, found by searching a graph network's
message-passing flow and replacing each of its learned functions by a formula.

Sections: pick a system -> the search's Pareto front (click a point = a flow) -> the chosen flow's formulas beside
the true law, with each formula's R² against the network function it replaces -> edit a constant and simulate the
system with the formula against the truth -> downloads -> your own graph data as a background job.
GSR is reached only through backend.registry.
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import streamlit as st

PROJECT_ROOT = Path(__file__).resolve().parents[2]
if str(PROJECT_ROOT) not in sys.path:  # the page also runs on its own (AppTest, `streamlit run` of this file)
    sys.path.insert(0, str(PROJECT_ROOT))

import pandas as pd  # noqa: E402
import sympy  # noqa: E402

from backend.core import store  # noqa: E402
from backend.physics import graph_csv  # noqa: E402
from backend.physics.systems import SYSTEMS  # noqa: E402
from backend.registry import get_method  # noqa: E402
from ui.components.checkpoints import OWN_RUN, card_brief, find_checkpoints, loaded_model  # noqa: E402
from ui.components.downloads import download_buttons, frame_csv  # noqa: E402
from ui.components.evidence_view import show_evidence  # noqa: E402
from ui.components.job_panel import job_panel  # noqa: E402
from ui.views.physics.charts import outputs_figure, pareto_figure, trajectory_figure  # noqa: E402

METHOD = get_method("gsr")
KEY = "gsr"


def _r2(y, p) -> float:
    y, p = pd.Series(y, dtype=float), pd.Series(p, dtype=float)
    ss = ((y - y.mean()) ** 2).sum()
    return float(1 - ((y - p) ** 2).sum() / ss) if ss > 0 else float("nan")

st.title("Formulas")
st.caption("GSR (Shi et al., ICLR 2023) searches which functions a graph network needs and how they are wired "
           "(its message-passing flow), then replaces each learned function by a formula found by symbolic "
           "regression, and fine-tunes every constant on the data.")

checkpoints = find_checkpoints(METHOD)
if not checkpoints:
    st.info("No GSR result yet: run `python -m backend train gsr --dataset mechanics-simple` "
            "(or use the upload section below).")
else:
    def _label(path: str) -> str:
        label, card = checkpoints[path]
        config = (card.train or {}).get("config", {})
        system = SYSTEMS.get(config.get("dataset", ""))
        return (system.title if system else label) + (OWN_RUN if label.endswith(OWN_RUN) else "")

    model_dir = st.selectbox("System", list(checkpoints), key=f"{KEY}-checkpoint", format_func=_label,
                             help="Each shipped result is one simulated system searched and regressed end to end.")
    own = checkpoints[model_dir][0].endswith(OWN_RUN)
    card = checkpoints[model_dir][1]
    model = loaded_model(METHOD.name, model_dir, "", (), Path(model_dir, "card.json").stat().st_mtime)
    system = SYSTEMS.get(model.system)
    if system:
        st.markdown(f"**{system.title}.** {system.description}")
    card_brief(METHOD, card, own, names=("r2", "mse"),
               notes=[f"Formula: {card.params.get('total')} constants; graph network: "
                      f"{card.extras.get('gnn_params')} parameters (R² / MSE on held-out graphs against the true "
                      "law)."])

    # ---------------------------------------------------------------- the search
    st.subheader("Search: complexity against error")
    pareto = model.pareto()
    if pareto.empty:
        st.info("This result has no search table.")
    else:
        st.caption("Each point is a message-passing flow the pruning search trained (x: its complexity, y: its "
                   "validation error). Points on the dotted line are Pareto-optimal. Click a point to see its flow.")
        chosen = json.dumps(model.flow, sort_keys=True, separators=(",", ":"))
        flow_key = f"{KEY}-flow"
        indices = [int(i) for i in pareto["index"]]
        if st.session_state.get(flow_key) not in indices:
            match = pareto.index[pareto["canonical"] == chosen]
            st.session_state[flow_key] = int(pareto.loc[match[0], "index"]) if len(match) else indices[-1]

        def _clicked():
            sel = st.session_state.get(f"{KEY}-pareto") or {}
            points = (sel.get("selection") or {}).get("points") or []
            for p in points:
                data = p.get("customdata")
                if data is not None:
                    st.session_state[flow_key] = int(data[0] if isinstance(data, list) else data)
                    return

        fig = pareto_figure(pareto, chosen, st.session_state[flow_key])
        st.plotly_chart(fig, key=f"{KEY}-pareto", on_select=_clicked, selection_mode="points")
        rows = pareto.set_index(pareto["index"].astype(int), drop=False)
        picked = st.selectbox("Flow", indices, key=flow_key,
                              format_func=lambda i: f"#{i}: {rows.loc[i, 'flow']}",
                              help="Click a point in the chart, or pick a flow here.")
        row = rows.loc[picked]
        a, b, c = st.columns(3)
        a.metric("Complexity", int(row["complexity"]))
        b.metric("Valid RMSE", f"{row['valid_rmse']:.4f}")
        c.metric("Score", f"{row['score']:.3f}", help="valid RMSE + 0.1 × complexity")
        if row["canonical"] == chosen:
            st.success(f"Flow #{picked} is the flow the pruning chose: its formulas are below.")
        else:
            st.info(f"Flow #{picked} ({row['flow']}) was evaluated during the search but not chosen; the formulas "
                    "below belong to the chosen flow.")

    # ---------------------------------------------------------------- the formulas
    st.subheader("The formula found, beside the true law")
    st.caption("Found (assembled along the flow; Σ over neighbours j or over the whole graph)")
    for name, expr in model.assembled().items():
        st.latex(f"{sympy.latex(sympy.Symbol(name))} = {sympy.latex(expr)}")
    st.caption("True law")
    if model.true_latex():
        st.latex(model.true_latex())
    else:
        st.write("Not known (your own data).")
    st.markdown("**Each function of the flow.** Every formula below replaces one learned function of the network; "
                "the table gives its R² against that network function on held-out inputs.")
    show_evidence(model.explain({}), key=f"{KEY}-evidence")

    # ---------------------------------------------------------------- constants and simulation
    st.subheader("Edit a constant, simulate again")
    st.caption("The constants of the formula after fine-tuning. Change one and the simulation below uses it.")
    constants = model.constants()
    edited = st.data_editor(constants, key=f"{KEY}-constants", hide_index=True, disabled=["component", "column",
                                                                                          "constant"],
                            column_config={"value": st.column_config.NumberColumn("value", format="%.4g")})
    values = pd.to_numeric(edited["value"], errors="coerce").fillna(constants["value"]).tolist()
    changed = [i for i, (x, y) in enumerate(zip(values, constants["value"])) if abs(x - y) > 1e-12]
    edited_model = model.with_constants(values)
    traj = model.trajectory(edited_model)
    if traj is not None:
        st.caption("Five particles on springs released at rest, integrated for 4 s (velocity Verlet, dt = 0.01 s) "
                   "with the true accelerations (solid) and with the found formula's (dashed).")
        st.plotly_chart(trajectory_figure(traj), key=f"{KEY}-trajectory")
        last = traj[traj["step"] == traj["step"].max()].pivot(index="node", columns="source", values=["x", "y"])
        gap = float(((last["x"]["true"] - last["x"]["formula"]) ** 2 + (last["y"]["true"] - last["y"]["formula"]) ** 2)
                    .pow(0.5).max())
        st.metric("Largest distance between the two paths at t = 4 s", f"{gap:.4f} m")
    outs = model.outputs(edited_model)
    scores = {name: _r2(part["true"], part["predicted"]) for name, part in outs.groupby("output", sort=False)}
    st.caption("Held-out samples: the output computed with the (edited) formula against the true output. "
               + "; ".join(f"R² {name}: {v:.4f}" for name, v in scores.items()))
    st.plotly_chart(outputs_figure(outs), key=f"{KEY}-outputs")
    if changed:
        st.info(f"{len(changed)} constant(s) edited: the curves above use your values; the card and the formulas "
                "keep the fitted ones.")

    # ---------------------------------------------------------------- downloads
    st.subheader("Downloads")
    download_buttons([("Formulas (LaTeX)", model.latex(), f"gsr-{model.system}.tex", "application/x-tex"),
                      ("Formulas (Python, SymPy)", model.python_source(), f"gsr_{model.system.replace('-', '_')}.py",
                       "text/x-python"),
                      ("Pareto table (CSV)", frame_csv(pareto), f"gsr-{model.system}-pareto.csv", "text/csv")],
                     key=f"{KEY}-downloads")


# -------------------------------------------------------------------- your own data
st.subheader("Your own graph data")
st.markdown(
    "Two CSV files. **nodes.csv**: one row per node of each graph (or time step): `graph` (graph id or time), "
    "`node` (node id), inputs `in_<name>` (e.g. `in_x`, `in_y`, `in_m`), and the targets to explain: node targets "
    "`out_<name>` (e.g. `out_ax`) or one graph target `gout_<name>` repeated on the graph's rows (e.g. `gout_P`); "
    "optional global inputs `gin_<name>` and `group` (samples of a group stay in one split). **edges.csv**: `graph` "
    "(or `*` for every graph), `source`, `target` (node ids; undirected) and edge inputs `in_<name>` (e.g. `in_R`). "
    "Columns `in_x`, `in_y` are read as a position. Bad rows are listed by line and left out; the rest is used.")
c1, c2 = st.columns(2)
nodes_file = c1.file_uploader("nodes.csv", type=["csv", "tsv", "txt"], key=f"{KEY}-nodes")
edges_file = c2.file_uploader("edges.csv", type=["csv", "tsv", "txt"], key=f"{KEY}-edges")
use_example = st.toggle("Use the example (a three-node resistor network)", key=f"{KEY}-example")
with st.expander("Example files"):
    st.code(graph_csv.EXAMPLE_NODES, language="text")
    st.code(graph_csv.EXAMPLE_EDGES, language="text")
nodes_bytes = nodes_file.getvalue() if nodes_file else (graph_csv.EXAMPLE_NODES.encode() if use_example else None)
edges_bytes = edges_file.getvalue() if edges_file else (graph_csv.EXAMPLE_EDGES.encode() if use_example else None)
if nodes_bytes is not None and edges_bytes is not None:
    try:
        parsed = graph_csv.read_graph_csv(nodes_bytes, edges_bytes)
    except ValueError as exc:
        st.error(f"These files cannot be used: {exc}")
        parsed = None
    if parsed is not None:
        if parsed.problems:
            st.warning(f"{len(parsed.problems)} problem(s); those rows are left out:\n\n"
                       + "\n".join(f"- {m}" for m in parsed.messages(30)))
        if parsed.graphs_dropped:
            st.warning("Graphs without a usable edge, left out: " + ", ".join(parsed.graphs_dropped[:20]))
        if parsed.data is None:
            st.error("No graph is left to learn from.")
        else:
            d = parsed.data
            st.success(f"{d.n_samples} graphs read: node inputs {', '.join(d.v_names)}; edge inputs "
                       f"{', '.join(d.e_names) or 'none'}; targets {', '.join(d.y_names)} ({d.level} level).")
            digest = hashlib.sha256(nodes_bytes + b"\0" + edges_bytes).hexdigest()[:12]
            folder = store.runs_root() / "gsr" / "uploads" / digest
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "nodes.csv").write_bytes(nodes_bytes)
            (folder / "edges.csv").write_bytes(edges_bytes)
            if d.n_samples < 20:
                st.info("Fewer than 20 graphs: the search can run, but its formulas will not be trustworthy.")
            st.caption("The search, regression and fine-tuning run in the background (a few minutes); the result "
                       "then appears in the System picker above as your run.")
            job_panel(f"GSR on your data {digest}",
                      ["regress", "gsr", "--dataset", str(folder), "--output",
                       str(store.runs_root() / "gsr" / f"upload-{digest}"), "--budget", "40", "--sr-seconds", "10"],
                      key=f"{KEY}-job-{digest}", start_label="Search and regress")
