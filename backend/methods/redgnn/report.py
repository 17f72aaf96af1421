"""RED-GNN's sections of a take-away report (backend.core.report): the ranked answers, the r-digraph of the
answer, how faithful that evidence is (fidelity+/−, the deletion curve, the facts ranked by measured contribution)
and, when the query carries edits, the what-if before/after table."""
from __future__ import annotations

import pandas as pd

from backend.core.fidelity import DEFINITIONS, SOURCE, deletion_curve_figure
from backend.core.report import Figure, Numbers, Section, Table, Text, evidence_section

from .fidelity import DEFAULT_RANKING, RANKINGS


def fidelity_blocks(result, attribution_frame: pd.DataFrame | None, k: int = 5) -> list:
    """Numbers, the one-sentence reading, the deletion curve and the definitions, for the page's twin."""
    s = result.summary(k)
    blocks = [
        Text([result.sentence(k), f"Evidence ranked by **{result.ranking}** ({RANKINGS.get(result.ranking, '')}); "
              f"random facts drawn from the answer's r-digraph ({result.n_candidates:,} facts), {result.draws} "
              f"draws, seed {result.seed}."]),
        Numbers({f"fidelity+ (top {s['k']})": s["fidelity_plus"], f"fidelity+ ({s['k']} random)":
                 s["fidelity_plus_random"], f"fidelity− (top {s['k']})": s["fidelity_minus"],
                 f"fidelity− ({s['k']} random)": s["fidelity_minus_random"], "rank before": s["rank"],
                 "rank after removing": s["rank_after_deletion"],
                 "rank after random removal": s["rank_after_random_deletion"]},
                notes={f"fidelity+ (top {s['k']})": "score drop, evidence removed (high = needed)",
                       f"fidelity− (top {s['k']})": "score drop, only evidence kept (low = sufficient)",
                       "rank after random removal": f"median of {result.draws} draws"}),
        Figure(deletion_curve_figure(result), caption="The answer's score as its top-k evidence facts are removed "
               "(orange) or kept alone (blue), beside k random facts of the same r-digraph (grey: mean and range)."),
    ]
    if attribution_frame is not None and len(attribution_frame):
        blocks.append(Table(attribution_frame, caption=f"The r-digraph's facts, strongest first by {result.ranking}: "
                            "greedy_order = the order greedy deletion takes it in; occlusion = measured score drop "
                            "when the fact alone is removed; gradient = gradient × input; path_order = where the "
                            "strongest paths first use it; attention = the largest attention of its edges; step = "
                            "the first propagation step that uses it."))
    blocks.append(Text([f"**{name}**: {text}" for name, text in DEFINITIONS.items()] + [f"Definitions: {SOURCE}."]))
    return blocks


def report_title(lm, query: dict) -> str:
    """'RED-GNN on family: (person 3, daughter, ?) — why person 1'."""
    kg = lm.kg
    h, r = lm.entity_id(query["head"]), lm.relation_id(query["relation"])
    answer = query.get("answer") or query.get("tail")
    why = f" — why {kg.entity_label(lm.entity_id(answer))}" if answer not in (None, "") else ""
    return f"RED-GNN on {kg.name}: ({kg.entity_label(h)}, {kg.relation_label(r)}, ?){why}"


def report_sections(lm, query: dict) -> list[Section]:
    """backend.core.report's hook (METHOD.extras["report"]): the sections of one query of a loaded RED-GNN."""
    head, relation = lm.entity_id(query["head"]), lm.relation_id(query["relation"])
    top = int(query.get("top", 20))
    answers = lm.predict({"head": head, "relation": relation, "top": top})
    answer = query.get("answer") or query.get("tail") or (answers["entity"].iloc[0] if len(answers) else None)
    a = lm.entity_id(answer)
    ranking = query.get("ranking", DEFAULT_RANKING)
    kg = lm.kg
    sections = [Section("Answers", [
        Text([f"The top {len(answers)} answers to ({kg.entity_label(head)}, {kg.relation_label(relation)}, ?) out "
              f"of {kg.n_ent:,} entities; filtered rank = the place among all entities with the query's other known "
              "answers set aside."]),
        Table(answers[["label", "entity", "score", "filtered_rank", "rank_in_words", "known_fact", "known_in",
                       "reached"]])], key="answers")]
    evidence = lm.explain({"head": head, "relation": relation, "answer": a,
                           "paths": int(query.get("paths", 10)), "max_edges": int(query.get("max_edges", 60))})
    sections.append(evidence_section(evidence, title=f"Why {kg.entity_label(a)}? The r-digraph",
                                     max_edges=int(query.get("max_edges", 60))))
    if evidence.summary.get("r_digraph_edges"):
        result, frame = lm.fidelity({"head": head, "relation": relation, "answer": a, "ranking": ranking})
        frame = frame.drop(columns=["head_id", "relation_id", "tail_id"]).head(30)
        sections.append(Section("Is the evidence faithful?", fidelity_blocks(result, frame),
                                key="fidelity"))
    edits = query.get("edits") or []
    if edits:
        table = lm.what_if({"head": head, "relation": relation, "top": top}, edits)
        sections.append(Section("What if the graph were different?", [
            Text(["Edits: " + "; ".join(table.attrs["edits"]) + ". Each answer's filtered rank before and after, side "
                  "by side (rank change > 0: the answer fell)."]), Table(table)], key="what_if"))
    return sections
