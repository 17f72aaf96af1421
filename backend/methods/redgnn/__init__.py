"""RED-GNN: knowledge-graph reasoning over relational digraphs (Zhang & Yao, WWW 2022)."""
from __future__ import annotations

from backend.core.method import Capabilities, Method, QueryField

from .config import DATASETS, config_for


def train(config, progress=None, device=None, data_dir=None):
    from .train import train as _train

    return _train(config, progress, device=device, data_dir=data_dir)


def load(model_dir, device=None, data_dir=None, graph: str | None = None):
    """A checkpoint with its graph and filters (``graph``: an imported graph to reason over, untrained, in the
    checkpoint's relations); see explain.LoadedModel for its verbs."""
    from .explain import load_model

    return load_model(model_dir, device, data_dir, graph=graph)


def compare_on_graph(graph: str, split: str = "valid", device=None, data_dir=None, progress=None):
    """(every checkpoint that knows a relation of imported graph ``graph``, ranked on its ``split`` triples,
    best first; the checkpoints left out and why)."""
    from .choose import compare_checkpoints

    return compare_checkpoints(graph, split=split, device=device, data_dir=data_dir, progress=progress)


def report_title(lm, query: dict) -> str:
    from .report import report_title as _title

    return _title(lm, query)


def report_sections(lm, query: dict):
    """backend.core.report's hook: RED-GNN's sections of a take-away report (report.py)."""
    from .report import report_sections as _sections

    return _sections(lm, query)


#: evidence rankings the faithfulness check offers (fidelity.RANKINGS; kept here so a page needs no torch import)
RANKINGS = {
    "greedy": "measured contribution, greedy: each next fact the one whose removal drops the score most, given "
              "the facts before it",
    "occlusion": "measured contribution: the score drop when the fact alone is removed",
    "gradient": "gradient × input: the first-order score change if the fact were removed",
    "path": "the facts of the strongest paths (product of attention), path by path",
    "attention": "RED-GNN's attention: the largest attention of the fact's edges",
}
DEFAULT_RANKING = "greedy"


def imported_graphs() -> list[str]:
    from backend.kg.user_graphs import list_user_graphs

    return list_user_graphs()


CAPABILITIES = Capabilities(
    query=(QueryField("head", "Query entity (head)", "entity", help="the entity the question is about"),
           QueryField("relation", "Relation", "relation", help="what is asked of it; 'inverse of r' asks for heads"),
           QueryField("answer", "Answer to explain", "entity", required=False,
                      help="explain: the answer whose evidence is traced (default: the top answer)"),
           QueryField("top", "Answers", "int", required=False, default=20, help="how many ranked answers to list"),
           QueryField("paths", "Paths", "int", required=False, default=10, help="explain: strongest paths listed"),
           QueryField("max_edges", "Edges drawn", "int", required=False, default=60,
                      help="explain: the r-digraph pruned to the strongest paths' edges")),
    input_columns=("head", "relation", "tail"),
    input_help=("CSV/TSV of triples to rank: columns head, relation, tail (header optional; names, labels or "
                "'inverse of <relation>'); without a tail column, the top answers of each (head, relation)"),
    headline="mrr",
    higher_is_better=True,
    breakdown_by="query relation",
    load_options=("graph",),
    variants={"": "average ties (RED-GNN)", "nbfnet": "pessimistic ties (NBFNet)"},
    evidence="the r-digraph: every path of facts from the query entity to the answer that the model propagated "
             "along, each edge weighted by the model's attention",
)

METHOD = Method(
    name="redgnn",
    title="RED-GNN",
    task="Knowledge-graph reasoning: answer (head, relation, ?) queries",
    explains="r-digraph evidence paths from the query entity to the answer, weighted by attention",
    paper="zhang2022redgnn",
    area="kg",
    datasets=DATASETS,
    capabilities=CAPABILITIES,
    config_for=config_for,
    train=train,
    load=load,
    more_datasets=imported_graphs,
    extras={"compare_on_graph": compare_on_graph, "report": report_sections, "report_title": report_title,
            "fidelity_rankings": RANKINGS,
            "default_ranking": DEFAULT_RANKING},
    page="kg-reasoning",
)
