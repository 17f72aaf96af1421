"""Message-passing flows (GSR's formula skeletons), their complexity and the hierarchical pruning schedule.

A flow is a JSON dict ``{"blocks": [block, ...]}``; a block maps a layer name to its spec or omits it::

    {"e": {"inputs": ["v", "e"], "width": 2},      # phi_e(e_ij, v_i, v_j, u)   inputs from {"v", "e", "u"}
     "v": {"inputs": ["e", "v"], "width": 2},      # phi_v(rho_e->v(E'_i), v_i, u)   from {"e", "v", "u"}
     "u": {"inputs": ["e", "v"], "width": 1}}      # phi_u(rho_e->u(E'), rho_v->u(V'), u)   from {"e", "v", "u"}

Blocks run e -> v -> u; a missing layer passes its variable through (e' = e, v' = v, u' = u), so stacked blocks
express the paper's extra paths (e.g. V -> rho_v->u -> phi_u -> phi_v is a block with phi_u only, then a block
with phi_e and phi_v). The output is the last block's phi_v (node targets) or phi_u (graph targets); its width is
the target's dimension and is not searched.

Complexity (paper Sec. 2.3, B.5): sum over layers of width x number of input connections; score = RMSE (outputs
divided by their std) + lambda x complexity, lambda = 0.1.
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Callable, Iterator

LAYERS = ("e", "v", "u")
INPUTS = {"e": ("v", "e", "u"), "v": ("e", "v", "u"), "u": ("e", "v", "u")}
LAMBDA = 0.1


@dataclass(frozen=True)
class Dims:
    """What the data has: node / edge / global input widths, target width and level ("node" | "graph")."""

    n_v: int
    n_e: int
    n_u: int
    out: int
    level: str

    @property
    def out_layer(self) -> str:
        return "v" if self.level == "node" else "u"


def canonical(flow: dict) -> str:
    return json.dumps(flow, sort_keys=True, separators=(",", ":"))


def complexity(flow: dict) -> int:
    return sum(spec["width"] * len(spec["inputs"]) for block in flow["blocks"] for spec in block.values())


def score(rmse: float, flow: dict, lam: float = LAMBDA) -> float:
    return float(rmse) + lam * complexity(flow)


def available(flow: dict, dims: Dims, b: int, layer: str) -> set[str]:
    """The inputs layer ``layer`` of block ``b`` can take, given the layers before it."""
    blocks = flow["blocks"]
    has_e = dims.n_e > 0 or any("e" in blk for blk in blocks[:b])
    has_u = dims.n_u > 0 or any("u" in blk for blk in blocks[:b])
    here = blocks[b]
    out = {"v"}
    if layer == "e":
        out |= ({"e"} if has_e else set()) | ({"u"} if has_u else set())
    else:
        if has_e or "e" in here:
            out.add("e")
        if has_u:
            out.add("u")
    return out


def normalise(flow: dict, dims: Dims) -> dict | None:
    """The flow with unavailable inputs dropped, in canonical order; None if it is not a valid flow (a layer
    without inputs, no output layer, an empty block)."""
    flow = copy.deepcopy(flow)
    blocks = flow["blocks"]
    if not blocks or any(not blk for blk in blocks):
        return None
    if dims.out_layer not in blocks[-1]:
        return None
    for b, blk in enumerate(blocks):
        for layer in list(blk):
            ok = available(flow, dims, b, layer)
            spec = blk[layer]
            spec["inputs"] = [i for i in INPUTS[layer] if i in spec["inputs"] and i in ok]
            if not spec["inputs"]:
                return None
        blocks[b] = {k: blk[k] for k in LAYERS if k in blk}
    blocks[-1][dims.out_layer]["width"] = dims.out
    return flow


def full_flow(n_blocks: int, dims: Dims, width: int = 4) -> dict:
    """``n_blocks`` full GN blocks, every input connected, hidden widths ``width``."""
    blocks = [{layer: {"inputs": list(INPUTS[layer]), "width": width} for layer in LAYERS} for _ in range(n_blocks)]
    return normalise({"blocks": blocks}, dims)


def delete_layer(flow: dict, b: int, layer: str, dims: Dims) -> dict | None:
    new = copy.deepcopy(flow)
    new["blocks"][b].pop(layer, None)
    return normalise(new, dims)


def delete_input(flow: dict, b: int, layer: str, inp: str, dims: Dims) -> dict | None:
    new = copy.deepcopy(flow)
    new["blocks"][b][layer]["inputs"] = [i for i in new["blocks"][b][layer]["inputs"] if i != inp]
    return normalise(new, dims)


def set_width(flow: dict, b: int, layer: str, width: int, dims: Dims) -> dict | None:
    new = copy.deepcopy(flow)
    new["blocks"][b][layer]["width"] = width
    return normalise(new, dims)


def describe(flow: dict, dims: Dims, names: dict[str, str] | None = None) -> str:
    """'block 1: phi_e(V,E)[2] -> phi_v(E,V)[2]' (input connections, width in brackets)."""
    word = {"e": "E", "v": "V", "u": "u"}
    parts = []
    for b, blk in enumerate(flow["blocks"]):
        layers = [f"φ_{k}({','.join(word[i] for i in spec['inputs'])})[{spec['width']}]" for k, spec in blk.items()]
        parts.append(f"block {b + 1}: " + " → ".join(layers))
    return "; ".join(parts)


class NeedScores(Exception):
    """Raised inside the schedule when flows have not been evaluated yet."""

    def __init__(self, flows: list[dict]):
        self.flows = flows


def n_layers(flow: dict) -> int:
    return sum(len(block) for block in flow["blocks"])


def n_connections(flow: dict) -> int:
    return sum(len(spec["inputs"]) for block in flow["blocks"] for spec in block.values())


def prune_schedule(errors: Callable[[list[dict]], list[float]], dims: Dims, max_blocks: int = 2,
                   width: int = 4, lam: float = LAMBDA, log: list | None = None) -> dict:
    """GSR's four-step hierarchical pruning (Algorithm 1) as a pure function of the errors seen so far.

    ``errors(flows)`` returns their valid RMSE or raises :class:`NeedScores` for those not evaluated yet. Each
    step scores with its own complexity, as the paper does (Sec. 2.3): step 1 RMSE + lam x blocks, step 2
    + lam x layers, step 3 + lam x input connections, step 4 + lam x the searched layer's width. A candidate is
    accepted only when its step score is strictly lower than the current flow's, so within a step accepted
    scores never rise. ``log`` (optional) receives dicts (step, flow, score, current_score, accepted).
    Returns the final flow."""
    def note(step, flow, s, cur, accepted):
        if log is not None:
            log.append({"step": step, "flow": flow, "score": s, "current_score": cur, "accepted": accepted})

    # step 1: number of blocks
    starts = [full_flow(n, dims, width) for n in range(1, max_blocks + 1)]
    got = [e + lam * len(f["blocks"]) for e, f in zip(errors(starts), starts)]
    best = min(range(len(starts)), key=lambda i: got[i])
    current = starts[best]
    for i, (f, s) in enumerate(zip(starts, got)):
        note("blocks", f, s, got[best], i == best)

    def greedy(step: str, measure, moves):
        nonlocal current
        for make in moves:
            cand = make(current)
            if cand is None or canonical(cand) == canonical(current):
                continue
            cur_err, cand_err = errors([current, cand])
            cur, s = cur_err + lam * measure(current), cand_err + lam * measure(cand)
            accepted = s < cur
            note(step, cand, s, cur, accepted)
            if accepted:
                current = cand

    # step 2: layers; step 3: input connections
    n_blocks = len(current["blocks"])
    greedy("layers", n_layers,
           [(lambda f, b=b, k=k: delete_layer(f, b, k, dims) if k in f["blocks"][b] else None)
            for b in range(n_blocks) for k in LAYERS if not (b == n_blocks - 1 and k == dims.out_layer)])
    greedy("inputs", n_connections,
           [(lambda f, b=b, k=k, i=i: delete_input(f, b, k, i, dims)
             if k in f["blocks"][b] and i in f["blocks"][b][k]["inputs"] else None)
            for b in range(n_blocks) for k in LAYERS for i in INPUTS[k]])
    # step 4: embedding sizes, one layer at a time, every smaller width at once
    for b in range(len(current["blocks"])):
        for k in LAYERS:
            if k not in current["blocks"][b] or (b == len(current["blocks"]) - 1 and k == dims.out_layer):
                continue
            w0 = current["blocks"][b][k]["width"]
            cands = [c for c in (set_width(current, b, k, w, dims) for w in range(1, w0)) if c is not None]
            if not cands:
                continue
            errs = errors([current] + cands)
            scored = [e + lam * f["blocks"][b][k]["width"] for e, f in zip(errs, [current] + cands)]
            j = min(range(len(scored)), key=lambda i: scored[i])
            for i, f in enumerate(cands):
                note("widths", f, scored[i + 1], scored[0], i + 1 == j)
            current = ([current] + cands)[j]
    return current


def propose_from(history_errors: dict[str, float], dims: Dims, max_blocks: int = 2, width: int = 4,
                 lam: float = LAMBDA) -> list[dict]:
    """The next flows the schedule needs, given {canonical: valid RMSE} of those evaluated (failed ones: inf);
    [] when the schedule is complete."""
    def errors(flows):
        missing = [f for f in flows if canonical(f) not in history_errors]
        if missing:
            raise NeedScores(missing)
        return [history_errors[canonical(f)] for f in flows]

    try:
        prune_schedule(errors, dims, max_blocks, width, lam)
    except NeedScores as need:
        return need.flows
    return []
