"""Drug interactions with EmerGNN: the interaction type of a drug pair (also for emerging drugs and new ones given by
SMILES), the paths through the biomedical network behind it, and a table of pairs at once.

A composition of the shared sections (checkpoint picker and card, evidence view, batch input, train panel) and the
page's own (ui.views.ddi.sections). EmerGNN is reached only through backend.registry.
"""
from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

PROJECT_ROOT = Path(__file__).resolve().parents[2]
if str(PROJECT_ROOT) not in sys.path:  # the page also runs on its own (AppTest, `streamlit run` of this file)
    sys.path.insert(0, str(PROJECT_ROOT))

from backend.core import store  # noqa: E402
from backend.core.data import DataMissingError, resolve_data_root  # noqa: E402
from backend.registry import get_method  # noqa: E402
from ui.components.checkpoints import EXPECTED_ERRORS, card_brief, checkpoint_picker, find_checkpoints, loaded_model  # noqa: E402
from ui.components.data_missing import missing_data_section  # noqa: E402
from ui.components.job_panel import has_running_job  # noqa: E402
from ui.components.train_panel import TrainField, train_panel  # noqa: E402
from ui.views.ddi.sections import (LICENCE, batch_section, card_notes, example_evidence_section,  # noqa: E402
                                   pair_section, show_baselines)

METHOD = get_method("emergnn")
TRAIN_FIELDS = (
    TrainField("max_seconds", "Time limit (min)", "Training time; the best epoch on validation is kept", 1, 24 * 60, 1,
               scale=60.0, default=10),
    TrainField("targets_per_epoch", "Pairs per epoch", "Target pairs trained on per epoch (0 = all)", 0, 200_000, 500,
               default=2000),
)


def train_section(expanded: bool) -> None:
    with st.expander(f"Train an {METHOD.title} model (S1: emerging drugs)", expanded=expanded):
        st.markdown(
            f"Starts `python -m backend train {METHOD.name}` in the background with the paper's S1 settings on the "
            "DDI-Bench random re-split, and follows it here. The run writes `model.pt` and `card.json` to a new "
            f"folder under `{store.runs_root() / METHOD.name}` and appears in the checkpoint picker as “(your run)”. "
            "An epoch over every training pair takes hours on a laptop CPU; a time limit and fewer pairs per epoch "
            "give a usable model in minutes.")
        data_ok = missing_data_section("drugbank", resolve_data_root(None), key="ddi-train-data")
        train_panel(METHOD, "drugbank", "ddi-train", TRAIN_FIELDS, disabled=not data_ok)


def main() -> None:
    st.title("Drug interactions")
    st.markdown(
        "**EmerGNN** (Zhang et al., *Nature Computational Science* 2023) predicts how two drugs interact — one of "
        "DrugBank's 86 interaction types — even for an **emerging** drug with no known interactions, by passing "
        "messages along the paths that link the two drugs through a biomedical network (Hetionet: genes, diseases, "
        "side effects, pharmacologic classes).")
    st.caption(LICENCE)
    checkpoints = find_checkpoints(METHOD)
    if not checkpoints:
        st.info(f"No EmerGNN checkpoint yet under `{store.MODELS_DIR / METHOD.name}`. Train one below, or from a "
                f"terminal: `python -m backend train {METHOD.name} --dataset drugbank`.")
        train_section(expanded=True)
        return
    preferred = next((p for p, (_, c) in checkpoints.items() if c.setting == "S1"), None)
    paths = list(checkpoints)
    if preferred:
        paths.remove(preferred)
        paths.insert(0, preferred)
    model_dir = checkpoint_picker(METHOD, {p: checkpoints[p] for p in paths}, key="ddi-checkpoint")
    label, card = checkpoints[model_dir]
    own = "(your run)" in label
    card_brief(METHOD, card, own, names=("f1", "accuracy", "kappa"), notes=card_notes(card))
    show_baselines(card)
    data_root = str(resolve_data_root(None))
    try:
        model = loaded_model(METHOD.name, model_dir, data_root)
    except DataMissingError as exc:
        st.warning("The DrugBank data are not under the data root, so this checkpoint cannot predict; its card is "
                   "above and its example evidence below.")
        missing_data_section(getattr(exc, "dataset", None) or "drugbank", data_root, key="ddi-data")
        example_evidence_section(model_dir)
        return
    except EXPECTED_ERRORS as exc:
        st.error(f"Could not load the checkpoint in {model_dir}: {exc}")
        return
    net = model.task.net
    st.caption(f"Network: {net.n_edges:,} biomedical facts ({'complete Hetionet' if net.source == 'complete' else 'the mirror: 80.4% of Hetionet without GpBP'}) "
               f"+ DrugBank interactions, {model.task.n_nodes:,} entities, {model.model.n_layer} hops. Setting "
               f"{card.setting}: " + ("every drug is existing (S0: learned per-drug embeddings; a new drug by SMILES "
                                      "needs an S1 checkpoint)." if not model.takes_smiles else
                                      "drugs of the split's valid and test sets are emerging (unseen in training)."))
    pair_section(model, model_dir)
    st.divider()
    batch_section(model, model_dir)
    st.divider()
    train_section(expanded=has_running_job(f"{METHOD.name}/"))


main()
