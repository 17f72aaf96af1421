"""A whole training step (forward, backward, optimiser) captured once as a CUDA graph and replayed.

Small models on a GPU are bound by the host: hundreds of kernel launches per step cost more than the
arithmetic. Replaying the captured step launches one graph instead. Shapes must stay fixed, so the step
is captured per context (e.g. the epoch's graph) for the usual batch size; a batch of another size (an
epoch's last) runs eagerly. Needs an optimiser built with ``capturable=True`` (and a tensor learning
rate, so that schedulers still reach the replayed step).
"""
from __future__ import annotations

import contextlib
import logging
from typing import Any, Callable

import torch

log = logging.getLogger(__name__)

Step = Callable[[torch.Tensor, Any], torch.Tensor]


class CapturedStep:
    """``step(batch, context) -> device tensor`` replayed as a CUDA graph.

    The first ``warmup`` batches of a new context run eagerly on a side stream (lazy initialisation,
    compilation, optimiser state); the next is captured and replayed, and later batches of the same size
    and context only copy their data in and replay. The returned tensor is the graph's output buffer: read
    it before the next call. Should capture fail, a warning is logged and every later step runs eagerly.
    """

    # the CUDA pieces, replaceable by fakes in tests that run without a GPU
    graph_type = staticmethod(lambda: torch.cuda.CUDAGraph())

    @staticmethod
    def record(graph, fn: Callable[[], torch.Tensor]) -> torch.Tensor:
        """Capture fn's kernels into graph (without running them); returns its output buffer."""
        with torch.cuda.graph(graph):
            return fn()

    def __init__(self, step: Step, batch_size: int, warmup: int = 2) -> None:
        self.step, self.batch_size, self.warmup = step, batch_size, warmup
        self.failed = False
        self.captures = 0
        self._reset(None)

    def _reset(self, context: Any) -> None:
        self.context = context  # held, so a new context can never reuse its id or memory
        self.graph = self.static_batch = self.static_out = None
        self.seen = 0

    def __call__(self, batch: torch.Tensor, context: Any) -> torch.Tensor:
        if self.failed or len(batch) != self.batch_size:
            return self.step(batch, context)
        if context is not self.context:
            self._reset(context)
        if self.graph is not None:
            self.static_batch.copy_(batch)
            self.graph.replay()
            return self.static_out
        self.seen += 1
        if self.seen <= self.warmup:  # on a copy laid out as the captured batch will be (no recompilation then)
            with self._side_stream():
                return self.step(batch.clone(), context)
        return self._capture_and_replay(batch, context)

    def _capture_and_replay(self, batch: torch.Tensor, context: Any) -> torch.Tensor:
        graph, static_batch = self.graph_type(), batch.clone()
        try:
            static_out = self.record(graph, lambda: self.step(static_batch, context))
        except Exception as err:  # capture errors share no base class
            log.warning("CUDA graph capture failed (%s: %s); the step runs without it",
                        type(err).__name__, (str(err).splitlines() or [""])[0])
            self.failed = True
            self._reset(None)
            return self.step(batch, context)
        self.graph, self.static_batch, self.static_out = graph, static_batch, static_out
        self.captures += 1
        graph.replay()  # capturing records the step without running it
        return static_out

    @staticmethod
    @contextlib.contextmanager
    def _side_stream():
        """Warm-up off the default stream, as CUDA-graph capture wants (a no-op without a GPU)."""
        if not torch.cuda.is_available() or not torch.cuda.is_initialized():
            yield
            return
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            yield
        torch.cuda.current_stream().wait_stream(stream)
