"""The one pattern every method follows (DESIGN.md, "One pattern for every method").

A method folder's ``__init__.py`` exposes ``METHOD = Method(...)``. Verbs:

- ``train(config, progress, device=None, data_dir=None) -> Card``   config: the method's config dataclass
- ``evaluate(model_dir, split="test", device=None, data_dir=None) -> dict[str, float]``
- ``predict(model_dir, query: dict, data_dir=None) -> pandas.DataFrame``
- ``explain(model_dir, query: dict, data_dir=None) -> Evidence``
- ``breakdown(model_dir, split="test", device=None, data_dir=None) -> pandas.DataFrame`` (optional): the
  split's metrics per group (``breakdown_by``: a relation, a task, ...), one row per group

A method with ``applies_to_graphs`` also takes ``graph=NAME`` in evaluate, predict, explain and breakdown: the
checkpoint reasons, untrained, over that imported graph (``backend.kg.user_graphs``) in its own relations, and
``compare_on_graph(graph, split="valid", device=None, data_dir=None)`` ranks every checkpoint that can.

``config_for(dataset)`` returns the paper's per-dataset defaults; the CLI builds its flags from the
dataclass fields, so a new hyper-parameter appears on the command line by itself.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class Method:
    name: str                       # registry key and models/<name>/ folder
    title: str                      # display name
    task: str                       # what it does, one line
    explains: str                   # what its evidence shows
    paper: str                      # citation key into backend.core.references
    area: str                       # data area under the data root
    datasets: tuple[str, ...] = ()  # datasets it trains on (catalog names)
    imports_graphs: bool = False    # also trains on knowledge graphs made with `import-graph` (backend.kg.user_graphs)
    applies_to_graphs: bool = False  # a checkpoint reasons over an imported graph it was not trained on
                                    # (evaluate/predict/explain/breakdown take graph=NAME)
    compare_on_graph: Callable[..., Any] | None = None  # (graph, split="valid") -> (table, skipped): every
                                    # checkpoint that applies to the imported graph, ranked on its valid triples
    config_for: Callable[[str], Any] | None = None
    train: Callable[..., Any] | None = None
    evaluate: Callable[..., dict] | None = None
    predict: Callable[..., Any] | None = None
    explain: Callable[..., Any] | None = None
    breakdown: Callable[..., Any] | None = None
    breakdown_by: str | None = None  # what one row of the breakdown is, e.g. "query relation"
    query_fields: tuple[str, ...] = field(default=())  # keys predict/explain expect in `query`
    input_help: str | None = None   # what `predict --input FILE` reads (a table, one prediction per row), if any
    page: str | None = None         # dashboard page (url path) that shows it

    @property
    def implemented(self) -> bool:
        """True when the method can be trained and evaluated from this project."""
        return self.train is not None and self.evaluate is not None


class MethodNotImplemented(RuntimeError):
    """Raised when a verb is asked of a method whose implementation has not landed yet."""
