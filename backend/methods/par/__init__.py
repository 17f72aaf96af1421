"""PAR: property-aware relation networks for few-shot molecular property prediction (Wang et al., NeurIPS 2021)."""
from __future__ import annotations

from backend.core.method import Capabilities, Method, QueryField

from .config import PARConfig, config_for

DATASETS = ("tox21", "sider", "muv", "toxcast")


def train(config: PARConfig, progress=None, device=None, data_dir=None):
    from .train import train as _train

    return _train(config, progress, device=device, data_dir=data_dir)


def load(model_dir, device=None, data_dir=None):
    """A checkpoint ready to predict a user's support/query molecules; see loaded.LoadedPAR for its verbs."""
    from .loaded import load_model

    return load_model(model_dir, device, data_dir)


def read_episode(source, queries=None):
    """A user's support/query table -> backend.mol.userdata.UserEpisode (validated, every row accounted for)."""
    from backend.mol.userdata import read_user_episode

    return read_user_episode(source, queries)


INPUT_HELP = ("CSV/TSV with columns smiles,label: rows labelled 0 or 1 are the support set (1-10 molecules per "
              "class; more are allowed), rows with an empty label are the queries; the output has one row per "
              "query: row, smiles, probability (of label 1), rank")

CAPABILITIES = Capabilities(
    query=(QueryField("table", "Support and query molecules", "text", required=False,
                      help="CSV text: smiles,label; label 0/1 = support, empty = query"),
           QueryField("task", "Demo task", "text", required=False,
                      help="a held-out test task of the checkpoint's dataset (name or id) instead of a table"),
           QueryField("seed", "Support seed", "int", required=False, default=0,
                      help="demo task: which support set is drawn"),
           QueryField("query", "Query to explain", "text", required=False,
                      help="explain: a query SMILES or its position (default: the first query)")),
    input_columns=("smiles", "label"),
    input_help=INPUT_HELP,
    headline="roc_auc",
    higher_is_better=True,
    breakdown_by="test task",
    evidence="the relation graph PAR builds for a query among the support molecules: molecules as nodes, the "
             "learned similarity as edge weight, labels and the query's probability",
    variants={"": "ROC-AUC (mean over evaluation seeds)"},
)

METHOD = Method(
    name="par",
    title="PAR",
    task="Few-shot molecular property prediction",
    explains="The relation graph between molecules of an episode",
    paper="wang2021par",
    area="molecules",
    datasets=DATASETS,
    capabilities=CAPABILITIES,
    config_for=config_for,
    train=train,
    load=load,
    extras={"read_episode": read_episode},
    page="molecules",
)
