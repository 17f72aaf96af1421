"""AutoBLM: knowledge-graph embedding with searched bilinear scoring functions (Zhang, Yao & Kwok, TPAMI 2022;
AutoSF, ICDE 2020)."""
from __future__ import annotations

from backend.core.method import Capabilities, Method, QueryField

from . import structure
from .config import DATASETS, AutoBLMConfig, config_for


def train(config: AutoBLMConfig, progress=None, device=None, data_dir=None):
    from .train import train as _train

    return _train(config, progress, device=device, data_dir=data_dir)


def search(config: AutoBLMConfig, progress=None, device=None, data_dir=None, executor=None):
    from .search import search as _search

    return _search(config, progress, device=device, data_dir=data_dir, executor=executor)


def load(model_dir, device=None, data_dir=None):
    from .explain import load_model

    return load_model(model_dir, device, data_dir)


CAPABILITIES = Capabilities(
    query=(QueryField("head", "Query entity (head)", "entity", help="the entity the question is about"),
           QueryField("relation", "Relation", "relation", help="what is asked of it; 'inverse of r' asks for heads"),
           QueryField("answer", "Answer to explain", "entity", required=False,
                      help="explain: the answer whose score is split into block terms (default: the top answer)"),
           QueryField("top", "Answers", "int", required=False, default=20, help="how many ranked answers to list")),
    headline="mrr",
    higher_is_better=True,
    breakdown_by="relation",
    evidence="the searched block structure, its scoring function, and each block's share of an answer's score",
)

METHOD = Method(
    name="autoblm",
    title="AutoBLM",
    task="Knowledge-graph embedding with searched bilinear scoring functions",
    explains="The searched block structure, its formula and the search trajectory",
    paper="zhang2022autoblm",
    area="kg",
    datasets=DATASETS,
    capabilities=CAPABILITIES,
    config_for=config_for,
    train=train,
    load=load,
    search=search,
    page="kg-search",
    extras={"structure": structure},
)
