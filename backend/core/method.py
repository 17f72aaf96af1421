"""The one pattern every method follows (DESIGN.md, "One pattern for every method").

A method folder's ``__init__.py`` exposes ``METHOD = Method(...)``: what the method is, what it can do
(:class:`Capabilities`, declared once), and four callables:

- ``config_for(dataset) -> Config``: the paper's per-dataset defaults (a dataclass; the CLI and the page's train
  panel build their fields from it);
- ``train(config, progress=None, device=None, data_dir=None) -> Card``;
- ``load(model_dir, device=None, data_dir=None, **options) -> LoadedModel`` (``options``: the names in
  ``capabilities.load_options``, e.g. RED-GNN's ``graph``);
- ``search(config, progress=None, device=None, data_dir=None) -> SearchResult`` for the methods that search
  (resumable, through backend/core/search.py).

A loaded model answers the same verbs with the same signatures for every method, as a fitted scikit-learn
estimator does::

    model = get_method("redgnn").load("models/redgnn/family", device="cpu")
    model.predict({"head": "3", "relation": "daughter"})  # one query -> a table, best first
    model.predict(table="triples.csv")                     # one output row per readable input row
    model.explain({"head": "3", "relation": "daughter"})   # -> Evidence
    model.evaluate("test")                                 # -> {"mrr": ...}, reproduces the card
    model.breakdown("test")                                # -> one row per capabilities.breakdown_by

``Method.evaluate/predict/explain/breakdown(model_dir, ...)`` load and call in one step (the CLI's path).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Protocol

if TYPE_CHECKING:
    import pandas as pd

    from backend.core.evidence import Evidence
    from backend.core.store import Card


@dataclass(frozen=True)
class QueryField:
    """One field of a query: its key in ``query``, what a person reads, what kind of value it takes."""

    name: str
    label: str
    kind: str = "text"        # "entity" | "relation" | "text" | "int" | "float" (pickers offer the dataset's names)
    required: bool = True
    default: Any = None
    help: str = ""


@dataclass(frozen=True)
class Capabilities:
    """What a method's loaded models take and report, declared once for the CLI, the pages and the zoo."""

    query: tuple[QueryField, ...] = ()          # the fields of predict/explain's query
    input_columns: tuple[str, ...] = ()         # columns predict(table=...) reads (the first ones required)
    input_help: str = ""                        # that table in a sentence
    headline: str = "mrr"                       # the card metric that ranks models of this method
    higher_is_better: bool = True
    breakdown_by: str | None = None             # what one row of breakdown() is, e.g. "query relation"
    load_options: tuple[str, ...] = ()          # extra keywords of load(), e.g. ("graph",)
    evidence: str = ""                          # what explain() shows, in a sentence for the page
    #: a card's metric variants (Card.variants, e.g. RED-GNN's "nbfnet": MRR under NBFNet's ties) and their column
    #: titles; "" titles the plain metric
    variants: Mapping[str, str] = field(default_factory=lambda: {"": "value"})


class LoadedModel(Protocol):
    """A checkpoint ready to answer: the verbs every method's loaded model has."""

    card: "Card"

    def predict(self, query: dict | None = None, table: str | Path | bytes | None = None,
                progress: Callable[[int, int], None] | None = None) -> "pd.DataFrame": ...

    def explain(self, query: dict) -> "Evidence": ...

    def evaluate(self, split: str = "test", progress: Callable[[int, int], None] | None = None) -> dict: ...

    def breakdown(self, split: str = "test", progress: Callable[[int, int], None] | None = None) -> "pd.DataFrame": ...


@dataclass(frozen=True)
class Command:
    """A method's own CLI verb (``python -m backend VERB METHOD ...``), declared in ``Method.extras["commands"]``
    as {verb: Command}: ``arguments(parser)`` adds its flags, ``run(args) -> exit code`` does the work.
    Several methods may declare the same verb (each becomes a METHOD choice under it)."""

    help: str
    arguments: Callable[[Any], None]
    run: Callable[[Any], int]


@dataclass(frozen=True)
class Method:
    name: str                       # registry key and models/<name>/ folder
    title: str                      # display name
    task: str                       # what it does, one line
    explains: str                   # what its evidence shows
    paper: str                      # citation key into backend.core.references
    area: str                       # data area under the data root
    datasets: tuple[str, ...] = ()  # datasets it trains on (catalog names)
    capabilities: Capabilities = field(default_factory=Capabilities)
    config_for: Callable[[str], Any] | None = None
    train: Callable[..., "Card"] | None = None
    load: Callable[..., LoadedModel] | None = None
    search: Callable[..., Any] | None = None
    more_datasets: Callable[[], list[str]] | None = None  # datasets beyond the catalog (e.g. imported graphs)
    extras: Mapping[str, Callable[..., Any]] = field(default_factory=dict)  # method-specific operations by name
    page: str | None = None         # dashboard page (url path) that shows it

    @property
    def implemented(self) -> bool:
        """True when the method can be trained and its checkpoints loaded from this project."""
        return self.train is not None and self.load is not None

    def all_datasets(self) -> list[str]:
        """The catalog's datasets and the others it trains on (imported graphs), in that order."""
        return list(self.datasets) + (self.more_datasets() if self.more_datasets else [])

    def open(self, model_dir: str | Path, device=None, data_dir=None, **options) -> LoadedModel:
        """``load`` with a clear error when the method has no implementation yet."""
        if self.load is None:
            raise MethodNotImplemented(f"{self.title} cannot load checkpoints in this version yet")
        unknown = set(options) - set(self.capabilities.load_options)
        if unknown:
            raise ValueError(f"{self.title} does not take {', '.join(sorted(unknown))}")
        return self.load(model_dir, device=device, data_dir=data_dir, **options)

    def evaluate(self, model_dir: str | Path, split: str = "test", *, device=None, data_dir=None, **options) -> dict:
        return self.open(model_dir, device, data_dir, **options).evaluate(split)

    def predict(self, model_dir: str | Path, query: dict | None = None, *, table=None, device=None, data_dir=None,
                **options) -> "pd.DataFrame":
        return self.open(model_dir, device, data_dir, **options).predict(query, table=table)

    def explain(self, model_dir: str | Path, query: dict, *, device=None, data_dir=None, **options) -> "Evidence":
        return self.open(model_dir, device, data_dir, **options).explain(query)

    def breakdown(self, model_dir: str | Path, split: str = "test", *, device=None, data_dir=None,
                  **options) -> "pd.DataFrame":
        return self.open(model_dir, device, data_dir, **options).breakdown(split)


class MethodNotImplemented(RuntimeError):
    """Raised when a verb is asked of a method whose implementation has not landed yet."""
