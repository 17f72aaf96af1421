"""The toy method's page: only shared sections (what a new method's view file costs)."""
import streamlit as st

from backend.core import store
from backend.core.search import Trajectory
from backend.registry import get_method
from ui.components.batch_input import batch_input_section
from ui.components.breakdown import breakdown_section
from ui.components.checkpoints import card_brief, checkpoint_picker, find_checkpoints, loaded_model
from ui.components.evidence_view import show_evidence
from ui.components.query_form import query_form
from ui.components.train_panel import TrainField, train_panel
from ui.components.trajectory import trajectory_view

method = get_method("toy")
st.title(method.title)
checkpoints = find_checkpoints(method)
if checkpoints:
    model_dir = checkpoint_picker(method, checkpoints, key="toy-checkpoint")
    card_brief(method, checkpoints[model_dir][1], own=True)
    model = loaded_model(method.name, model_dir, "")
    query = query_form(method, model, "toy-q", ("x",))
    st.dataframe(model.predict(query))
    show_evidence(model.explain(query), key="toy-evidence")
    batch_input_section(model, model_dir, "toy", explanation="A column x.", example="x\n1\n2", file_stem="toy",
                        max_rows=100)
    breakdown_section(method, model.breakdown("test"), "toy")
for path in sorted((store.runs_root() / method.name).glob("*/trajectory.jsonl")):
    trajectory_view(Trajectory(path).records(), direction="min", key="toy-trajectory", score_label="valid MSE")
train_panel(method, "line", "toy-train", (TrainField("degree", "Degree", low=0, high=3),))
