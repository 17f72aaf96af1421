"""Jülich corridor trajectories (PedPy's demo data, data/physics/pedestrian) as graph samples for GSR, and the
social-force reference (Helbing & Molnar 1995, as written in GSR's appendix A.4) fitted to the training frames.

Processing (choices the paper leaves open, documented in models/gsr/README.md):

- positions in metres (cm files x 0.01); each person's track smoothed with a Savitzky–Golay filter (order 2,
  window 1 s), velocities and accelerations its first and second derivatives;
- one sample every 10 frames (0.4 s at 25 fps); nodes = the people tracked in that frame; an edge joins two people
  closer than ``RADIUS`` = 3 m (the paper's social-force neighbourhood is 5 m; 3 m keeps graphs small);
- destination: the corridor exit in each person's walking direction at the corridor's centre line; node inputs
  x, y, vx, vy and ex, ey (unit vector toward the destination); targets ax, ay;
- split by time: samples are grouped into 5-s blocks and whole blocks are held out.
"""
from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from backend.physics.graphs import GraphSet, batch_graphs

RADIUS = 3.0
STRIDE = 10


@dataclass(frozen=True)
class Run:
    file: str
    fps: float
    unit: float              # metres per file unit
    axis: int                # 0: walking along x, 1: along y
    exits: tuple[float, float]   # exit coordinate on that axis for walking toward - / +
    centre: float            # corridor centre on the other axis


RUNS = {
    "pedestrian-unidirectional": Run("traj_UNI_CORR_500_01.txt.gz", 25.0, 1.0, 0, (-6.0, 5.0), 2.5),
    "pedestrian-bidirectional": Run("bi_corr_400_b_03.txt.gz", 25.0, 0.01, 0, (-5.0, 5.0), 2.05),
}


def pedestrian_file(name: str, data_dir=None) -> Path:
    from backend.core.data import resolve_data_root

    return Path(resolve_data_root(data_dir)) / "physics" / "pedestrian" / RUNS[name].file


def read_tracks(path, unit: float = 1.0) -> pd.DataFrame:
    """id, frame, x, y (metres) of a trajectory file (plain or gzip)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as fh:
        frame = pd.read_csv(fh, sep=r"\s+", comment="#", header=None, names=["id", "frame", "x", "y", "z"])
    frame[["x", "y"]] *= unit
    return frame[["id", "frame", "x", "y"]].sort_values(["id", "frame"]).reset_index(drop=True)


def kinematics(tracks: pd.DataFrame, fps: float, window_s: float = 1.0) -> pd.DataFrame:
    """Adds vx, vy, ax, ay (Savitzky–Golay derivatives per person); people tracked for less than a window dropped."""
    from scipy.signal import savgol_filter

    window = int(round(window_s * fps)) | 1
    parts = []
    for _, p in tracks.groupby("id", sort=False):  # one filter call per person (vectorised over the track)
        if len(p) < window + 2:
            continue
        p = p.copy()
        dt = 1.0 / fps
        for c in ("x", "y"):
            v = savgol_filter(p[c].to_numpy(), window, 2, deriv=1, delta=dt)
            a = savgol_filter(p[c].to_numpy(), window, 2, deriv=2, delta=dt)
            p[f"v{c}"], p[f"a{c}"] = v, a
        parts.append(p.iloc[window // 2: len(p) - window // 2])
    return pd.concat(parts, ignore_index=True)


def pedestrian_graphs(name: str, data_dir=None, stride: int = STRIDE, radius: float = RADIUS) -> GraphSet:
    run = RUNS[name]
    k = kinematics(read_tracks(pedestrian_file(name, data_dir), run.unit), run.fps)
    walk = "x" if run.axis == 0 else "y"
    first = k.groupby("id")[walk].transform("first")
    last = k.groupby("id")[walk].transform("last")
    exit_ = np.where(last < first, run.exits[0], run.exits[1])
    dest = np.stack([exit_, np.full(len(k), run.centre)], 1) if run.axis == 0 else \
        np.stack([np.full(len(k), run.centre), exit_], 1)
    to = dest - k[["x", "y"]].to_numpy()
    e = to / np.linalg.norm(to, axis=1, keepdims=True).clip(min=1e-6)
    k["ex"], k["ey"] = e[:, 0], e[:, 1]
    frames = np.sort(k["frame"].unique())[::stride]
    v_list, ed_list, e_list, y_list, groups, times = [], [], [], [], [], []
    for f in frames:
        p = k[k["frame"] == f]
        if len(p) < 2:
            continue
        pos = p[["x", "y"]].to_numpy()
        d = np.linalg.norm(pos[:, None] - pos[None], axis=-1)
        i, j = np.nonzero((d < radius) & (d > 0))
        if len(i) == 0:
            continue
        v_list.append(p[["x", "y", "vx", "vy", "ex", "ey"]].to_numpy())
        ed_list.append(np.stack([j, i]))
        e_list.append(np.zeros((len(i), 0)))
        y_list.append(p[["ax", "ay"]].to_numpy())
        groups.append(int(f / run.fps // 5))
        times.append(f / run.fps)
    data = batch_graphs(v_list, ed_list, e_list, [[]] * len(v_list), y_list, "node", groups,
                        (["x", "y", "vx", "vy", "ex", "ey"], [], [], ["ax", "ay"]), [("x", "y"), ("vx", "vy")],
                        time=np.array(times), units={"x": "m", "y": "m", "vx": "m/s", "vy": "m/s", "ax": "m/s²",
                                                     "ay": "m/s²"}, name=name)
    return data


# ------------------------------------------------------------------ the social-force reference
def social_force(params: np.ndarray, data: GraphSet) -> np.ndarray:
    """a_i = (v0 e_i - v_i) / tau + sum_j A exp(-r_ij / B) (x_i - x_j) / r_ij  -> [N, 2]."""
    v0, tau, A, B = params
    x, v, e = data.v[:, 0:2], data.v[:, 2:4], data.v[:, 4:6]
    src, dst = data.edge_index
    d = x[dst] - x[src]
    r = np.linalg.norm(d, axis=1, keepdims=True).clip(min=1e-3)
    rep = np.zeros_like(x)
    np.add.at(rep, dst, A * np.exp(-r / abs(B)) * d / r)
    return (v0 * e - v) / tau + rep


def fit_social_force(train: GraphSet) -> np.ndarray:
    """Least squares of (v0, tau, A, B) on the training accelerations (so the baseline is fair)."""
    from scipy.optimize import least_squares

    res = least_squares(lambda p: (social_force(p, train) - train.y).ravel(), x0=[1.3, 0.5, 2.0, 0.3],
                        bounds=([0.0, 0.05, 0.0, 0.01], [5.0, 10.0, 50.0, 5.0]))
    return res.x
