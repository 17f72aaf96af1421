"""Molecular properties (few-shot): define a property by a handful of labelled molecules, predict others.

A composition of the shared sections (ui.components: checkpoint picker and card, evidence view, downloads) and the
page's own (ui.views.molecules: inputs, results, params). Every method of the registry's "molecules" area that is
implemented (PAR, PACIA, ...) can be chosen; methods are reached only through backend.registry.
"""
from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

PROJECT_ROOT = Path(__file__).resolve().parents[2]
if str(PROJECT_ROOT) not in sys.path:  # the page also runs on its own (AppTest, `streamlit run` of this file)
    sys.path.insert(0, str(PROJECT_ROOT))

from backend.core.data import DataMissingError, resolve_data_root  # noqa: E402
from backend.registry import METHODS  # noqa: E402
from ui.components.checkpoints import (EXPECTED_ERRORS, OWN_RUN, card_brief, checkpoint_picker,  # noqa: E402
                                       find_checkpoints, loaded_model)
from ui.components.data_missing import missing_data_section  # noqa: E402
from ui.views.molecules.inputs import episode_section  # noqa: E402
from ui.views.molecules.params import parameter_chart_section  # noqa: E402
from ui.views.molecules.results import (edit_query_section, predictions_section, relation_graph_section,  # noqa: E402
                                        removal_section, toggle_section)

KEY = "mol"


def molecule_methods():
    return [m for m in METHODS.values() if m.area == "molecules"]


def card_notes(card) -> list[str]:
    test = (card.metrics or {}).get("test", {})
    extras = card.extras or {}
    shots = ((card.train or {}).get("config") or {}).get("shots", card.setting)
    n_seeds = len(((card.extras or {}).get("evaluation_seeds") or {}).get("seeds", []))
    notes = [f"ROC-AUC on {card.dataset}'s held-out test properties, each predicted from {shots} example(s) per "
             "class" + (f"; mean ± std over {n_seeds} random support sets." if n_seeds else ".")]
    if test.get("roc_auc") is not None and test.get("roc_auc_std") is not None:
        notes.append(f"This checkpoint: {test['roc_auc']:.3f} ± {test['roc_auc_std']:.3f}.")
    if extras.get("notes"):
        notes.append(str(extras["notes"]))
    return notes


def _shots(card) -> int:
    try:
        return int(((card.train or {}).get("config") or {}).get("shots") or str(card.setting).split("-")[0])
    except ValueError:
        return 0


def main() -> None:
    st.title("Molecular properties (few-shot)")
    st.markdown("Define a property with a few molecules that have it (label 1) and a few that do not (label 0); "
                "a model meta-trained on many other properties predicts it for new molecules and shows which "
                "examples its answer rests on.")
    methods = molecule_methods()
    ready = [m for m in methods if m.implemented]
    if not ready:
        st.info("No few-shot molecule method is implemented in this version yet.")
        return
    names = [m.name for m in ready]
    chosen = st.radio("Method", names, horizontal=True, key=f"{KEY}-method",
                      format_func=lambda n: f"{METHODS[n].title}: {METHODS[n].task}")
    method = METHODS[chosen]
    st.caption(f"{method.title} explains with {method.explains[0].lower() + method.explains[1:]}.")
    checkpoints = find_checkpoints(method)
    # the shipped 10-shot checkpoint of a dataset before its 1-shot one (the picker opens on the first)
    checkpoints = dict(sorted(checkpoints.items(), key=lambda kv: (kv[1][0].endswith(OWN_RUN),
                                                                  method.datasets.index(kv[1][1].dataset)
                                                                  if kv[1][1].dataset in method.datasets else 99,
                                                                  -_shots(kv[1][1]))))
    if not checkpoints:
        st.info(f"{method.title} has no trained checkpoint yet: train one with "
                f"`python -m backend train {method.name} --dataset tox21`.")
        parameter_chart_section([m.name for m in methods], KEY)
        return
    model_dir = checkpoint_picker(method, checkpoints, key=f"{KEY}-checkpoint-{method.name}", preferred="tox21")
    card = checkpoints[model_dir][1]
    card_brief(method, card, own=checkpoints[model_dir][0].endswith(OWN_RUN), notes=card_notes(card))
    data_root = str(resolve_data_root(None))
    try:
        model = loaded_model(method.name, model_dir, data_root)
    except DataMissingError as exc:
        st.warning(f"The checkpoint needs data that is not under the data root: {exc}")
        if getattr(exc, "dataset", None):
            missing_data_section(exc.dataset, data_root, key=f"{KEY}-missing-{exc.dataset}")
        parameter_chart_section([m.name for m in methods], KEY)
        return
    except EXPECTED_ERRORS as exc:
        st.error(f"Could not load the checkpoint: {exc}")
        return
    shots = int(((card.train or {}).get("config") or {}).get("shots") or 10)

    st.subheader("Molecules")
    choice = episode_section(f"{KEY}-in", data_root, shots, card.dataset)
    if choice is not None:
        frame = predictions_section(method, model_dir, data_root, choice, f"{KEY}-pred")
        if frame is not None and not frame.empty:
            relation_graph_section(method, model, choice, frame, f"{KEY}-graph")
            st.subheader("Evidence you can test")
            removal_section(model, choice, frame, f"{KEY}-remove")
            toggle_section(method, model_dir, data_root, choice, frame, f"{KEY}-toggle")
            edit_query_section(method, model_dir, data_root, choice, frame, f"{KEY}-edit")
    parameter_chart_section([m.name for m in methods], KEY)


main()
