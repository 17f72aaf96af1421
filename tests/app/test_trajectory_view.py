"""The trajectory view (ui/components/trajectory.py) and its figure (backend/core/search_viz.py) on a
hand-made trajectory of six candidates: one failed, the best is #4 with 0.61."""
from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from backend.core.search import Trajectory
from backend.core.search_viz import trajectory_figure
from ui.components.trajectory import selected_record_index

pytestmark = pytest.mark.timeout(120)

SCORES = [0.20, 0.35, None, 0.61, 0.40, 0.61]  # None: failed; #6 ties #4, the earlier one is the best
BLOCKS = [2, 4, 2, 4, 6, 6]


@pytest.fixture
def trajectory(tmp_path):
    traj = Trajectory(tmp_path / "trajectory.jsonl")
    for i, (score, blocks) in enumerate(zip(SCORES, BLOCKS)):
        structure = [[j, (j + i) % blocks] for j in range(blocks)]
        record = {"candidate": {"structure": structure}, "canonical": json.dumps(structure), "score": score,
                  "metrics": {"mrr": score} if score is not None else {}, "seconds": 1.5 + i, "seed": 100 + i,
                  "time": "2026-01-01T00:00:00Z", "attributes": {"blocks": blocks, "generation": i // 3},
                  "status": "ok" if score is not None else "failed", "round": i // 3}
        if score is None:
            record["error"] = "ValueError: structure is degenerate"
        traj.append(record)
    return traj


def _page(path: str, color_by: str | None = None) -> None:
    import streamlit as st

    from backend.core.search import Trajectory
    from ui.components.trajectory import trajectory_view

    st.session_state["returned"] = trajectory_view(
        Trajectory(path).records(), direction="max", color_by=color_by, key="toy", score_label="valid MRR",
        reference_points=[{"label": "DistMult", "score": 0.5}])


def _text(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("markdown", "caption", "error", "info") for e in at.get(kind))


def test_view_shows_the_best_the_chart_the_colour_choice_and_the_best_candidate(trajectory):
    at = AppTest.from_function(_page, kwargs={"path": str(trajectory.path)}, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    text = _text(at)
    assert "Best valid MRR: 0.6100" in text and "candidate #4 of 6; 1 failed" in text
    colour = at.selectbox(key="toy-colour")
    assert colour.label == "Colour by" and colour.options == ["none", "blocks", "generation"]
    assert colour.value == "blocks"
    assert len(at.get("plotly_chart")) == 1 and len(at.get("download_button")) == 1
    # the best candidate is selected and shown below the chart
    assert at.selectbox(key="toy-candidate").value == 3 and at.session_state["returned"] == 3
    assert "Candidate #4: valid MRR **0.6100**" in text and "seed 103" in text
    assert json.loads(at.json[0].value) == {"structure": [[0, 3], [1, 0], [2, 1], [3, 2]]}

    colour.set_value("generation").run()
    assert not at.exception, [e.value for e in at.exception]
    at.selectbox(key="toy-candidate").set_value(2).run()  # the failed one
    assert not at.exception
    assert "Candidate #3 failed: ValueError: structure is degenerate" in _text(at)
    assert at.session_state["returned"] == 2


def test_a_fixed_colour_needs_no_selectbox_and_an_empty_trajectory_says_so(trajectory, tmp_path):
    at = AppTest.from_function(_page, kwargs={"path": str(trajectory.path), "color_by": "generation"},
                               default_timeout=60)
    at.run()
    assert not at.exception and not [s for s in at.selectbox if s.label == "Colour by"]
    empty = AppTest.from_function(_page, kwargs={"path": str(tmp_path / "none.jsonl")}, default_timeout=60)
    empty.run()
    assert not empty.exception and "No candidate evaluated yet." in _text(empty)


def test_figure_points_name_their_records_and_draw_best_and_references(trajectory):
    records = trajectory.records()
    fig = trajectory_figure(records, "max", color_by="blocks", reference_points=[{"label": "DistMult", "score": 0.5}])
    points = [t for t in fig.data if t.mode == "markers" and t.name != "best"]
    assert sorted(t.name for t in points) == ["blocks = 2", "blocks = 4", "blocks = 6"]
    drawn = sorted((int(i), x, y) for t in points for i, x, y in zip(t.customdata, t.x, t.y))
    assert drawn == [(0, 1, 0.20), (1, 2, 0.35), (3, 4, 0.61), (4, 5, 0.40), (5, 6, 0.61)]  # no failed point
    line = next(t for t in fig.data if t.name == "best so far")
    assert list(line.y) == [0.20, 0.35, 0.35, 0.61, 0.61, 0.61] and line.line.shape == "hv"
    assert list(line.customdata) == [0, 1, 1, 3, 3, 3]  # the record that set each step (earliest on the tie)
    best = next(t for t in fig.data if t.name == "best")
    assert list(best.customdata) == [3] and list(best.x) == [4]
    assert [a.text for a in fig.layout.annotations] == ["DistMult"] and fig.layout.shapes[0].y0 == 0.5
    assert fig.layout.xaxis.title.text == "candidates evaluated"
    lowest = trajectory_figure(records, "min")
    assert list(next(t for t in lowest.data if t.name == "best").customdata) == [0]


def test_a_clicked_point_names_its_record():
    assert selected_record_index({"points": [{"x": 4, "y": 0.61, "customdata": 3}]}) == 3
    assert selected_record_index({"points": [{"x": 4, "y": 0.61, "customdata": [5]}]}) == 5
    assert selected_record_index({"points": [{"x": 4, "y": 0.61}]}) == 3
    assert selected_record_index({"points": []}) is None and selected_record_index(None) is None
