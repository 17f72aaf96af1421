"""PACIA (Wu, Wang & Yao, IJCAI 2024): a hypernetwork generates a few adaptive parameters per task.

Two levels of adaptation, no gradient step inside a task:

- task level, in the encoder: after GNN layer l the support molecules' mean-pooled embeddings (with their one-hot
  labels) go through a set hypernetwork that outputs a scale ``w_l`` and a shift ``b_l`` (each 300 values, L2
  normalised); every node of every molecule of the task (support and queries) becomes ``h * (1 + w_l) + b_l``.
  Five layers x 600 values = 3,000 adaptive parameters per task.
- query level, in the predictor: PAR's relation graph among [support..., query] (edge update with top-k, node
  update) runs for ``rel_layers`` rounds; after every round a controller scores that depth for this query and an
  adaptive classifier built from the round's class prototypes gives the query's logits. Training minimises the
  expected cross-entropy under softmax(depth scores); prediction uses the depth with the highest score.

Shapes: T tasks, S support molecules per task (labels explicit, any class sizes >= 1), Q queries per task,
B = T*Q query sets of n = S+1 nodes. ``hyper="per_layer"`` is the authors' code (two hypernetworks per encoder
layer, ten in all); ``hyper="shared"`` uses one hypernetwork for every layer, told the layer by a one-hot input,
that outputs [w; b] at once.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


def class_means(x: torch.Tensor, onehot: torch.Tensor) -> torch.Tensor:
    """x [T, S, d], onehot [T, S, 2] (rows negative, positive) -> [T, 2, d] class means (empty class -> 0)."""
    counts = onehot.sum(1).clamp_min(1.0)                       # [T, 2]
    return torch.einsum("tsc,tsd->tcd", onehot, x) / counts.unsqueeze(-1)


class SetHyperNet(nn.Module):
    """The authors' HyperSetEncoder2: ``n1`` per-molecule Linear layers (LeakyReLU, residual from the 2nd on),
    the class means of negatives and positives concatenated, then ``n2`` Linear layers (residual where the
    widths allow, no activation after the last). Input [T, S, inp] + onehot [T, S, 2] -> [T, out]."""

    def __init__(self, inp: int, hidden: int, out: int, n1: int = 3, n2: int = 3):
        super().__init__()
        self.n1, self.n2 = n1, n2
        dims_out = [hidden] * (n1 + n2 - 1) + [out]
        dims_in = [inp] + dims_out[:-1]
        dims_in[n1] = 2 * hidden
        self.fcs = nn.ModuleList(nn.Linear(i, o) for i, o in zip(dims_in, dims_out))

    def forward(self, x: torch.Tensor, onehot: torch.Tensor) -> torch.Tensor:
        x = torch.cat([x, onehot], -1)
        last = self.n1 + self.n2 - 1
        for i, fc in enumerate(self.fcs):
            y = fc(x)
            if i < last:
                y = F.leaky_relu(y)
            if 0 < i < last and i != self.n1 and y.shape == x.shape:
                y = y + x
            x = y
            if i == self.n1 - 1:
                m = class_means(x, onehot)                        # [T, 2, hidden]
                x = m.flatten(1)                                  # [T, 2 * hidden]
        return x


class ResMLP(nn.Module):
    """Linear layers with LeakyReLU and residual adds where the widths match (none after the last)."""

    def __init__(self, dims: list[int], residual_first: bool = True):
        super().__init__()
        self.fcs = nn.ModuleList(nn.Linear(i, o) for i, o in zip(dims[:-1], dims[1:]))
        self.residual_first = residual_first

    def forward(self, x):
        last = len(self.fcs) - 1
        for i, fc in enumerate(self.fcs):
            y = fc(x)
            if i < last:
                y = F.leaky_relu(y)
                if (i > 0 or self.residual_first) and y.shape == x.shape:
                    y = y + x
            x = y
        return x


class EncoderFiLM(nn.Module):
    """The task-level hypernetworks of the encoder. ``forward(l, g, onehot)`` -> (w [T, d], b [T, d]), each L2
    normalised, from the support's pooled layer-l embeddings g [T, S, d]."""

    def __init__(self, emb_dim: int = 300, num_layer: int = 5, hyper: str = "per_layer"):
        super().__init__()
        if hyper not in ("per_layer", "shared"):
            raise ValueError(f"hyper must be 'per_layer' or 'shared', not {hyper!r}")
        self.hyper, self.num_layer, self.emb_dim = hyper, num_layer, emb_dim
        if hyper == "per_layer":
            self.modw = nn.ModuleList(SetHyperNet(emb_dim + 2, emb_dim, emb_dim) for _ in range(num_layer))
            self.modb = nn.ModuleList(SetHyperNet(emb_dim + 2, emb_dim, emb_dim) for _ in range(num_layer))
        else:
            self.mod = SetHyperNet(emb_dim + 2 + num_layer, emb_dim, 2 * emb_dim)

    def forward(self, layer: int, g: torch.Tensor, onehot: torch.Tensor):
        if self.hyper == "per_layer":
            w, b = self.modw[layer](g, onehot), self.modb[layer](g, onehot)
        else:
            pos = torch.zeros(*g.shape[:2], self.num_layer, device=g.device, dtype=g.dtype)
            pos[..., layer] = 1.0
            w, b = self.mod(torch.cat([g, pos], -1), onehot).split(self.emb_dim, -1)
        return F.normalize(w, dim=-1), F.normalize(b, dim=-1)

    @property
    def adaptive_count(self) -> int:
        """Values generated per task: scale and shift per layer."""
        return 2 * self.emb_dim * self.num_layer


class EdgeUpdate(nn.Module):
    """PAR's edge network: x_ij = exp(-|h_i - h_j|) -> 1x1 convs (no bias, LeakyReLU) -> 1 (bias) -> sigmoid,
    diagonal zero, top-k per row. [B, n, d] -> [B, n, n].

    x_ij = x_ji, so the score is symmetric: only the n(n-1)/2 pairs i < j are computed (the diagonal is masked
    anyway). :meth:`forward_split` does the first round of a task's query sets, whose support-support block is the
    same for every query, once per task."""

    def __init__(self, dim: int = 128, hidden: int = 128, top_k: int = 10):
        super().__init__()
        self.l0 = nn.Linear(dim, 2 * hidden, bias=False)
        self.l1 = nn.Linear(2 * hidden, hidden, bias=False)
        self.out = nn.Linear(hidden, 1)
        self.top_k = top_k

    def score(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """sigmoid(net(exp(-|a - b|))) over the last dimension: [..., d] x [..., d] -> [...]."""
        return self._score_difference(a - b)

    def _score_difference(self, diff: torch.Tensor) -> torch.Tensor:
        """The score from a - b. Without autograd (prediction) the same operations run in place on ``diff``
        (which is consumed): no new [pairs, 256] tensor per step."""
        if torch.is_grad_enabled():
            x = torch.exp(-diff.abs())
            return torch.sigmoid(self.out(F.leaky_relu(self.l1(F.leaky_relu(self.l0(x))))).squeeze(-1))
        x = diff.abs_().neg_().exp_()
        y = F.leaky_relu(self.l1(F.leaky_relu(self.l0(x), inplace=True)), inplace=True)
        return self.out(y).squeeze(-1).sigmoid_()

    def pair_scores(self, h: torch.Tensor, iu: torch.Tensor) -> torch.Tensor:
        """Scores of the pairs iu = (i, j), i < j in triu order, of every set: [B, n, d] -> [B, P].

        Without autograd the differences h_j - h_i (the same |.|) are written block by block (one block per i,
        n - 1 blocks) into one buffer instead of gathering two [B, P, d] copies of h."""
        if torch.is_grad_enabled():
            return self.score(h.index_select(1, iu[0]), h.index_select(1, iu[1]))
        b, n, d = h.shape
        diff = h.new_empty(b, iu.shape[1], d)
        off = 0
        for i in range(n - 1):
            torch.sub(h[:, i + 1:], h[:, i:i + 1], out=diff[:, off:off + n - 1 - i])
            off += n - 1 - i
        return self._score_difference(diff)

    def _top_k(self, adj: torch.Tensor) -> torch.Tensor:
        n = adj.shape[-1]
        k = min(self.top_k, n)
        if k < n:
            idx = adj.topk(k, dim=-1).indices
            adj = adj * torch.zeros_like(adj).scatter_(-1, idx, 1.0)
        return adj

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        b, n, _ = h.shape
        iu = torch.triu_indices(n, n, 1, device=h.device)
        s = self.pair_scores(h, iu)                                           # [B, P]
        adj = h.new_zeros(b, n, n)
        adj[:, iu[0], iu[1]] = s
        adj[:, iu[1], iu[0]] = s
        return self._top_k(adj)

    def forward_split(self, hs: torch.Tensor, hq: torch.Tensor) -> torch.Tensor:
        """hs [T, S, d] (support, shared by the task's queries), hq [T, Q, d] -> adjacency [T*Q, S+1, S+1] of
        the sets [support..., query] (task-major), equal to forward() on the expanded sets."""
        t, s_, _ = hs.shape
        q = hq.shape[1]
        iu = torch.triu_indices(s_, s_, 1, device=hs.device)
        ss = self.pair_scores(hs, iu)                                         # [T, P]
        sq = self.score(hs.unsqueeze(1), hq.unsqueeze(2))                     # [T, Q, S]
        adj = hs.new_zeros(t, s_ + 1, s_ + 1)
        adj[:, iu[0], iu[1]] = ss
        adj[:, iu[1], iu[0]] = ss
        adj = adj.unsqueeze(1).repeat(1, q, 1, 1)                             # [T, Q, n, n]
        adj[:, :, -1, :-1] = sq
        adj[:, :, :-1, -1] = sq
        return self._top_k(adj.flatten(0, 1))


class NodeUpdate(nn.Module):
    """m_i = sum_j A_ij h_j with A row-L1 normalised; h_i <- LeakyReLU(W [h_i || m_i]) (no bias)."""

    def __init__(self, dim: int = 128, hidden: int = 128):
        super().__init__()
        self.lin = nn.Linear(2 * dim, hidden, bias=False)

    def forward(self, h, adj):
        a = F.normalize(adj, p=1, dim=-1)
        return F.leaky_relu(self.lin(torch.cat([h, a @ h], -1)))


class AdaptiveClassifier(nn.Module):
    """The authors' ADC: each class prototype p_c (mean of that class's support nodes) -> a 128-d weight vector
    (4 Linear layers, residual) and a scalar bias (4 Linear layers); logits_c = <h, w_c> + b_c.

    ``prototype_skip`` (this project's addition, no extra parameters): w_c = p_c + MLP_w(p_c) and
    b_c = -||p_c||^2 / 2 + MLP_b(p_c), the MLPs' last layers initialised to zero, so the classifier starts as a prototype classifier (logits = -||h - p_c||^2/2
    up to a shared term) instead of a random bilinear form; a CPU budget of a few hundred meta-steps (the authors
    train 40,000) then learns from the first steps. False gives the authors' form."""

    def __init__(self, dim: int = 128, n_layer: int = 4, prototype_skip: bool = True):
        super().__init__()
        self.w = ResMLP([dim] * (n_layer + 1), residual_first=False)
        self.b = ResMLP([dim] * n_layer + [1], residual_first=False)
        self.prototype_skip = prototype_skip
        if prototype_skip:          # start exactly at the prototype classifier
            for mlp in (self.w, self.b):
                nn.init.zeros_(mlp.fcs[-1].weight)
                nn.init.zeros_(mlp.fcs[-1].bias)

    def forward(self, h, onehot):
        """h [B, n, d] (query last), onehot [B, n-1, 2] -> (query logits [B, 2], w [B, 2, d], b [B, 2])."""
        protos = class_means(h[:, :-1], onehot)                  # [B, 2, d]
        w, b = self.w(protos), self.b(protos).squeeze(-1)
        if self.prototype_skip:
            w = w + protos
            b = b - 0.5 * protos.pow(2).sum(-1)
        return torch.einsum("bd,bcd->bc", h[:, -1], w) + b, w, b


class DepthController(nn.Module):
    """The authors' Ctrl: set encoding of the labelled support nodes [B, 128] || the query node [B, 128] ->
    3 Linear layers with residuals -> a depth score [B]."""

    def __init__(self, dim: int = 128):
        super().__init__()
        self.setenc = SetHyperNet(dim + 2, dim, dim, n1=3, n2=1)
        self.mlp = ResMLP([2 * dim, 2 * dim, 2 * dim, 1])

    def forward(self, h, onehot):
        return self.mlp(torch.cat([self.setenc(h[:, :-1], onehot), h[:, -1]], -1)).squeeze(-1)


@dataclass
class PredictorOutput:
    scores: torch.Tensor        # [B, L] depth scores
    logits: torch.Tensor        # [B, L, 2] query logits at each depth
    adjacency: list | None = None   # per round [B, n, n] (only when asked)


class QueryPredictor(nn.Module):
    """Projection MLP (300 -> 128 -> 128) + relation rounds with per-round depth score and adaptive classifier."""

    def __init__(self, emb_dim=300, map_dim=128, rel_layers=5, top_k=10, rel_dropout=0.2, prototype_skip=True):
        super().__init__()
        self.proj = nn.Sequential(nn.Linear(emb_dim, map_dim), nn.LeakyReLU(), nn.Linear(map_dim, map_dim))
        self.edges = nn.ModuleList(EdgeUpdate(map_dim, map_dim, top_k) for _ in range(rel_layers))
        self.nodes = nn.ModuleList(NodeUpdate(map_dim, map_dim) for _ in range(rel_layers))
        self.ctrl = DepthController(map_dim)
        self.adc = AdaptiveClassifier(map_dim, prototype_skip=prototype_skip)
        self.drop = nn.Dropout(rel_dropout)

    def forward(self, s_emb, s_onehot, q_emb, keep_adj=False) -> PredictorOutput:
        """s_emb [T, S, 300], s_onehot [T, S, 2], q_emb [T, Q, 300] -> PredictorOutput with B = T*Q."""
        t, s, _ = s_emb.shape
        q = q_emb.shape[1]
        zs, zq = self.drop(self.proj(s_emb)), self.drop(self.proj(q_emb))
        h = torch.cat([zs.unsqueeze(1).expand(t, q, s, -1), zq.unsqueeze(2)], 2).flatten(0, 1)   # [B, S+1, d]
        onehot = s_onehot.unsqueeze(1).expand(t, q, s, 2).flatten(0, 1)                        # [B, S, 2]
        scores, logits, adjs = [], [], []
        for i, (edge, node) in enumerate(zip(self.edges, self.nodes)):
            adj = edge.forward_split(zs, zq) if i == 0 else edge(h)
            h = node(h, adj)
            scores.append(self.ctrl(h, onehot))
            logits.append(self.adc(h, onehot)[0])
            if keep_adj:
                adjs.append(adj)
        return PredictorOutput(torch.stack(scores, 1), torch.stack(logits, 1), adjs if keep_adj else None)


def expected_depth_loss(out: PredictorOutput, y: torch.Tensor) -> torch.Tensor:
    """sum_d softmax(scores)_d * CE(logits_d, y), averaged over queries. y [B] in {0, 1}."""
    b, depth, _ = out.logits.shape
    ce = F.cross_entropy(out.logits.reshape(b * depth, 2), y.repeat_interleave(depth), reduction="none")
    return (out.scores.softmax(-1) * ce.view(b, depth)).sum(-1).mean()


def chosen_probability(out: PredictorOutput) -> tuple[torch.Tensor, torch.Tensor]:
    """(P(active) at the chosen depth [B], chosen depth index [B] (0-based))."""
    depth = out.scores.argmax(-1)
    p = out.logits.softmax(-1)[..., 1]
    return p.gather(1, depth.unsqueeze(1)).squeeze(1), depth


class PACIA(nn.Module):
    """Encoder (backend.mol.encoders.GraphEncoder: a pretrain-gnns GNN + mean pooling) + EncoderFiLM +
    QueryPredictor.

    Molecules come as one ``MolBatch``; ``support_index`` [T, S] and ``query_index`` [T, Q] index its graphs
    (each graph belongs to one task of the call); ``support_onehot`` [T, S, 2] are the support labels."""

    def __init__(self, encoder: nn.Module, hyper="per_layer", map_dim=128, rel_layers=5, top_k=10, rel_dropout=0.2,
                 prototype_skip=True, freeze_encoder=False):
        super().__init__()
        self.encoder = encoder
        self.freeze_encoder = freeze_encoder
        if freeze_encoder:
            for p in encoder.parameters():
                p.requires_grad_(False)
        gnn = encoder.gnn
        self.num_layer, emb_dim = gnn.num_layer, gnn.emb_dim
        self.film = EncoderFiLM(emb_dim, self.num_layer, hyper)
        self.predictor = QueryPredictor(emb_dim, map_dim, rel_layers, top_k, rel_dropout, prototype_skip)

    def train(self, mode: bool = True):
        super().train(mode)
        if self.freeze_encoder:       # a frozen encoder runs as at inference (pretrained batch-norm statistics)
            self.encoder.eval()
        return self

    def trained_state(self) -> dict:
        """The parameters training changed (everything but a frozen encoder), as float16 for the checkpoint."""
        return {k: v.detach().to(torch.float16) if v.is_floating_point() else v
                for k, v in self.state_dict().items() if not (self.freeze_encoder and k.startswith("encoder."))}

    def load_trained_state(self, state: dict):
        """Inverse of :meth:`trained_state` (the encoder comes from its pretrained file when frozen)."""
        own = self.state_dict()
        missing = [k for k in own if k not in state and not (self.freeze_encoder and k.startswith("encoder."))]
        unknown = [k for k in state if k not in own]
        if missing or unknown:
            raise ValueError(f"checkpoint does not match the model: missing {missing[:5]}, unknown {unknown[:5]}")
        self.load_state_dict({**own, **{k: v.to(own[k].dtype) for k, v in state.items()}}, strict=True)

    # ------------------------------------------------------------------ encoder with task-level FiLM
    def encode(self, mb, graph_task, support_index=None, support_onehot=None, film=None):
        """Graph embeddings [num_graphs, d], every layer's nodes modulated by their task's (w_l, b_l).

        ``film`` None: generated at each layer from the support graphs' pooled embeddings (support_index,
        support_onehot); else a list of (w [T, d], b [T, d]) per layer, reused (the queries of a task encoded
        after its support). Returns (embeddings, film used)."""
        from backend.mol.encoders import mean_pool

        node_task = graph_task[mb.batch]
        made = []

        def hook(layer, h):
            if film is None:
                pooled = mean_pool(h, mb.batch, mb.num_graphs)
                w, b = self.film(layer, pooled[support_index], support_onehot)
                made.append((w, b))
            else:
                w, b = film[layer]
            return h * (1 + w[node_task]) + b[node_task]

        h = self.encoder.node_embeddings(mb, layer_hook=hook)
        return mean_pool(h, mb.batch, mb.num_graphs), (made if film is None else film)

    def forward_episode(self, mb, support_index, support_onehot, query_index, keep_adj=False):
        """Support and queries of T tasks in one encoder pass -> (PredictorOutput over T*Q queries, task-major;
        film [(w, b)] per layer)."""
        t = support_index.shape[0]
        graph_task = torch.zeros(mb.num_graphs, dtype=torch.long, device=mb.x.device)
        tasks = torch.arange(t, device=mb.x.device)
        graph_task[support_index.flatten()] = tasks.repeat_interleave(support_index.shape[1])
        graph_task[query_index.flatten()] = tasks.repeat_interleave(query_index.shape[1])
        emb, film = self.encode(mb, graph_task, support_index, support_onehot)
        out = self.predictor(emb[support_index], support_onehot, emb[query_index], keep_adj=keep_adj)
        return out, film


def parameter_counts(model: PACIA) -> dict[str, int]:
    """Parameters per part (trained or frozen), the trainable ones, and the values generated per task (adaptive)."""
    def n(m):
        return sum(p.numel() for p in m.parameters())

    pred = model.predictor
    return {"encoder": n(model.encoder), "encoder_hypernetworks": n(model.film), "projection": n(pred.proj),
            "relation_rounds": n(pred.edges) + n(pred.nodes), "depth_controller": n(pred.ctrl),
            "adaptive_classifier": n(pred.adc), "total": n(model),
            "trainable": sum(p.numel() for p in model.parameters() if p.requires_grad),
            "adaptive": model.film.adaptive_count}
