"""EmerGNN: drug-drug interaction prediction for emerging drugs with a flow-based GNN over a biomedical network
(Zhang et al., Nature Computational Science 2023)."""
from __future__ import annotations

from backend.core.method import Capabilities, Method, QueryField

from .config import DATASETS, config_for


def train(config, progress=None, device=None, data_dir=None):
    from .train import train as _train

    return _train(config, progress, device=device, data_dir=data_dir)


def load(model_dir, device=None, data_dir=None):
    """A checkpoint with its network; see loaded.EmerGNNModel for its verbs."""
    from .loaded import load_model

    return load_model(model_dir, device, data_dir)


CAPABILITIES = Capabilities(
    query=(QueryField("drug1", "Drug 1", "entity", required=False,
                      help="name or DrugBank id (case and typos forgiven); leave empty to give a SMILES"),
           QueryField("drug2", "Drug 2", "entity", required=False, help="name or DrugBank id"),
           QueryField("smiles1", "SMILES of drug 1", "text", required=False,
                      help="a drug outside DrugBank's 1,710, treated as emerging (S1 checkpoints)"),
           QueryField("smiles2", "SMILES of drug 2", "text", required=False),
           QueryField("type", "Interaction type to explain", "int", required=False,
                      help="explain: 0..85 (default: the predicted type)"),
           QueryField("top", "Types listed", "int", required=False, default=5),
           QueryField("paths", "Paths", "int", required=False, default=10, help="explain: top paths listed")),
    input_columns=("drug1", "drug2"),
    input_help="CSV/TSV of drug pairs: columns drug1, drug2 (names or DrugBank ids; a header is optional)",
    headline="f1",
    higher_is_better=True,
    breakdown_by="interaction type",
    evidence="the paths of at most 3 hops between the two drugs through the DDI + Hetionet network that contributed "
             "most to the predicted interaction type, with the subgraph they form",
)

METHOD = Method(
    name="emergnn",
    title="EmerGNN",
    task="Drug-drug interaction prediction for emerging drugs",
    explains="Paths through a biomedical network (genes, diseases, side effects) linking the two drugs",
    paper="zhang2023emergnn",
    area="ddi",
    datasets=DATASETS,
    capabilities=CAPABILITIES,
    config_for=config_for,
    train=train,
    load=load,
    page="ddi",
)
