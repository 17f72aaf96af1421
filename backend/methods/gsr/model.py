"""FlowGNN: a graph network whose message-passing flow (backend/methods/gsr/flows.py) is given, with learned
(MLP) or symbolic component functions.

For block b (Battaglia et al. 2018, Eq. 1; a missing layer passes its variable through)::

    e'_ji = phi_e([v_i, v_j] | e_ji | u)          for each directed edge j -> i (inputs as the flow says)
    v'_i  = phi_v(rho_e->v({e'_ji}_j) | v_i | u)
    u'    = phi_u(rho_e->u(E') | rho_v->u(V') | u)

rho is a softmax-weighted mixture of {sum, mean, max} during the search (paper Sec. 2.4, B.3) and the candidate of
largest weight afterwards (``harden``). Inputs and the output are divided by their standard deviation (paper A.8);
the component functions see raw units (the scale is folded into each ``phi``), so a symbolic fit of a phi is in
the data's units. Vectorised: one scatter per aggregation, no Python loop over edges or nodes.
"""
from __future__ import annotations

import torch
from torch import nn

from backend.methods.gsr.flows import Dims

AGGREGATORS = ("sum", "mean", "max")


def scatter(src: torch.Tensor, index: torch.Tensor, size: int, how: str) -> torch.Tensor:
    """[n, d] rows reduced into [size, d] by ``index`` (empty groups give 0)."""
    out = torch.zeros(size, src.shape[1], dtype=src.dtype, device=src.device)
    if how == "sum":
        return out.index_add(0, index, src)
    if how == "mean":
        count = torch.zeros(size, dtype=src.dtype, device=src.device).index_add(
            0, index, torch.ones_like(index, dtype=src.dtype)).clamp(min=1)
        return out.index_add(0, index, src) / count[:, None]
    return out.scatter_reduce(0, index[:, None].expand_as(src), src, "amax", include_self=False)


class Aggregator(nn.Module):
    """Softmax mixture of sum / mean / max (``choice`` None) or one of them."""

    def __init__(self):
        super().__init__()
        self.logits = nn.Parameter(torch.zeros(len(AGGREGATORS)))
        self.choice: str | None = None

    def forward(self, src, index, size):
        if self.choice is not None:
            return scatter(src, index, size, self.choice)
        w = torch.softmax(self.logits, 0)
        return sum(w[k] * scatter(src, index, size, how) for k, how in enumerate(AGGREGATORS))

    def harden(self) -> str:
        self.choice = AGGREGATORS[int(self.logits.argmax())]
        return self.choice


def mlp(n_in: int, n_out: int, hidden: int = 16, layers: int = 4) -> nn.Sequential:
    mods, width = [], n_in
    for _ in range(layers - 1):
        mods += [nn.Linear(width, hidden), nn.SiLU()]
        width = hidden
    mods.append(nn.Linear(width, n_out))
    return nn.Sequential(*mods)


class Phi(nn.Module):
    """One component function: raw inputs [n, n_in] -> [n, width], the MLP on inputs / scale, times out_scale.
    ``symbolic`` (a callable on the raw input columns) replaces the MLP once set."""

    def __init__(self, n_in: int, width: int, in_scale: torch.Tensor, out_scale: float = 1.0, hidden: int = 16):
        super().__init__()
        self.net = mlp(n_in, width, hidden)
        self.register_buffer("in_scale", in_scale.clamp(min=1e-8))
        self.register_buffer("out_scale", torch.as_tensor(out_scale, dtype=torch.float32).reshape(-1))
        self.symbolic: nn.Module | None = None

    def forward(self, x):
        if self.symbolic is not None:
            return self.symbolic(x)
        return self.net(x / self.in_scale) * self.out_scale


class FlowGNN(nn.Module):
    """The GN stack of ``flow`` for data of shape ``dims``; ``scales``: {"v", "e", "u", "y"} std tensors."""

    def __init__(self, flow: dict, dims: Dims, scales: dict[str, torch.Tensor], hidden: int = 16):
        super().__init__()
        self.flow, self.dims = flow, dims
        self.register_buffer("y_scale", scales["y"].clamp(min=1e-8))
        self.phis = nn.ModuleDict()
        self.aggs = nn.ModuleDict()
        dv, de, du = dims.n_v, dims.n_e, dims.n_u
        sv, se, su = scales["v"], scales["e"], scales["u"]
        for b, blk in enumerate(flow["blocks"]):
            last = b == len(flow["blocks"]) - 1
            if "e" in blk:
                cols, sc = [], []
                for i in blk["e"]["inputs"]:
                    d, s = {"v": (2 * dv, torch.cat([sv, sv])), "e": (de, se), "u": (du, su)}[i]
                    cols.append(d); sc.append(s)
                w = blk["e"]["width"]
                self.phis[f"{b}e"] = Phi(sum(cols), w, torch.cat(sc), hidden=hidden)
                de, se = w, torch.ones(w)
            self.aggs[f"{b}ev"] = Aggregator()
            if "v" in blk:
                cols, sc = [], []
                for i in blk["v"]["inputs"]:
                    d, s = {"e": (de, se), "v": (dv, sv), "u": (du, su)}[i]
                    cols.append(d); sc.append(s)
                w = blk["v"]["width"]
                self.phis[f"{b}v"] = Phi(sum(cols), w, torch.cat(sc), hidden=hidden)
                dv, sv = w, torch.ones(w)
            self.aggs[f"{b}eu"] = Aggregator()
            self.aggs[f"{b}vu"] = Aggregator()
            if "u" in blk:
                cols, sc = [], []
                for i in blk["u"]["inputs"]:
                    d, s = {"e": (de, se), "v": (dv, sv), "u": (du, su)}[i]
                    cols.append(d); sc.append(s)
                w = blk["u"]["width"]
                self.phis[f"{b}u"] = Phi(sum(cols), w, torch.cat(sc), hidden=hidden)
                du, su = w, torch.ones(w)
        out = self.phis[f"{len(flow['blocks']) - 1}{dims.out_layer}"]
        out.out_scale = self.y_scale.clone().float()  # the output phi gives raw units, its MLP normalised ones
        self._out_key = f"{len(flow['blocks']) - 1}{dims.out_layer}"

    def harden(self) -> dict[str, str]:
        """Every aggregator -> its largest-weight candidate; returns {name: choice}."""
        return {k: a.harden() for k, a in self.aggs.items()}

    def forward(self, batch: dict, record: dict | None = None) -> torch.Tensor:
        """batch: v [N, n_v], e [E, n_e], u [S, n_u], src/dst [E], node_sample [N], n_samples. Returns the
        output in units of y / y_scale ([N, d] or [S, d]). ``record`` (a dict) receives each phi's raw input and
        output tensors under its name ("0e", "0v", ...)."""
        v, e, u = batch["v"], batch["e"], batch["u"]
        src, dst, ns, S = batch["src"], batch["dst"], batch["node_sample"], batch["n_samples"]
        edge_sample = ns[dst]
        for b, blk in enumerate(self.flow["blocks"]):
            if "e" in blk:
                parts = {"v": lambda: torch.cat([v[dst], v[src]], 1), "e": lambda: e, "u": lambda: u[edge_sample]}
                x = torch.cat([parts[i]() for i in blk["e"]["inputs"]], 1)
                e = self._call(f"{b}e", x, record)
            if "v" in blk:
                parts = {"e": lambda: self.aggs[f"{b}ev"](e, dst, len(v)), "v": lambda: v, "u": lambda: u[ns]}
                x = torch.cat([parts[i]() for i in blk["v"]["inputs"]], 1)
                v = self._call(f"{b}v", x, record)
            if "u" in blk:
                parts = {"e": lambda: self.aggs[f"{b}eu"](e, edge_sample, S),
                         "v": lambda: self.aggs[f"{b}vu"](v, ns, S), "u": lambda: u}
                x = torch.cat([parts[i]() for i in blk["u"]["inputs"]], 1)
                u = self._call(f"{b}u", x, record)
        return (v if self.dims.level == "node" else u) / self.y_scale

    def _call(self, name, x, record):
        y = self.phis[name](x)
        if record is not None:
            record[name] = (x.detach(), y.detach())
        return y

    def network_parameters(self) -> int:
        """Parameters of the learned component functions (MLPs + aggregator weights)."""
        return sum(p.numel() for p in self.parameters())
