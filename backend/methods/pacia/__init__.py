"""PACIA: parameter-efficient adapter for few-shot molecular property prediction (Wu, Wang & Yao, IJCAI 2024).

A hypernetwork turns the labelled support set into 3,000 FiLM values (scale and shift of every channel of the five
encoder layers: task-level adaptation) and, per query, a classifier and a choice of propagation depth in the
relation graph (query-level adaptation). Nothing is fine-tuned at test time.
"""
from __future__ import annotations

from backend.core.method import Capabilities, Method, QueryField

from .config import DATASETS, PaciaConfig, config_for

INPUT_HELP = ("A CSV/TSV with columns smiles,label: rows labelled 0 or 1 are the support set (1-10 molecules per "
              "class; more are allowed), rows with an empty label are the queries to predict. At most 5,000 rows.")


def train(config: PaciaConfig, progress=None, device=None, data_dir=None):
    from .train import train as _train

    return _train(config, progress, device=device, data_dir=data_dir)


def load(model_dir, device=None, data_dir=None):
    """A checkpoint ready to predict: see explain.PaciaModel."""
    from .explain import load_model

    return load_model(model_dir, device, data_dir)


CAPABILITIES = Capabilities(
    query=(QueryField("table", "Support and query molecules", "text", required=False,
                      help="CSV with smiles,label; label 0/1 = support, empty = query"),
           QueryField("queries", "More query SMILES", "text", required=False, help="one SMILES per line"),
           QueryField("task", "Demo: held-out task", "text", required=False,
                      help="a test task of the checkpoint's dataset (e.g. SR-HSE): support and queries drawn from it"),
           QueryField("seed", "Demo seed", "int", required=False, default=0),
           QueryField("n_queries", "Demo queries", "int", required=False, default=24)),
    input_columns=("smiles", "label"),
    input_help=INPUT_HELP,
    headline="roc_auc",
    higher_is_better=True,
    breakdown_by="test task",
    evidence=("the adaptive parameters generated for this task (FiLM scale and shift per encoder layer) and the "
              "propagation depth chosen for each query, with the query molecules"),
)

METHOD = Method(
    name="pacia",
    title="PACIA",
    task="Few-shot molecular property prediction with parameter-efficient adaptation",
    explains="How few parameters adapt to each task: the FiLM values generated per task and the depth per query",
    paper="wu2024pacia",
    area="molecules",
    datasets=DATASETS,
    capabilities=CAPABILITIES,
    config_for=config_for,
    train=train,
    load=load,
    page="molecules",
)
