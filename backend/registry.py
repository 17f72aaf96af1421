"""name -> Method. The CLI, the model zoo and the pages iterate over :data:`METHODS`.

Methods whose implementation has not landed yet are listed with their metadata only
(``implemented`` is False) so the dashboard can say so; adding one is a folder plus a line here.
A method from outside the project (a plug-in, the tests' toy method) joins with :func:`register`, or for
every process at once by naming it in ``$PARSIMONY_METHODS`` ("package.module:OBJECT", comma-separated).
"""
from __future__ import annotations

import importlib
import os

from backend.core.method import Capabilities, Method, MethodNotImplemented


#: the headline metric (and whether higher is better) each planned method's issue names
_PLANNED_HEADLINES = {"autoblm": ("mrr", True), "emergnn": ("f1", True), "par": ("roc_auc", True),
                      "pacia": ("roc_auc", True), "coldnas": ("mse", False), "gsr": ("mse", False)}


def _planned(name, title, task, explains, paper, area, datasets) -> Method:
    headline, higher = _PLANNED_HEADLINES[name]
    return Method(name=name, title=title, task=task, explains=explains, paper=paper, area=area, datasets=datasets,
                  capabilities=Capabilities(headline=headline, higher_is_better=higher))


def _load() -> dict[str, Method]:
    from backend.methods.coldnas import METHOD as coldnas
    from backend.methods.autoblm import METHOD as autoblm
    from backend.methods.emergnn import METHOD as emergnn
    from backend.methods.gsr import METHOD as gsr
    from backend.methods.redgnn import METHOD as redgnn
    from backend.methods.pacia import METHOD as pacia
    from backend.methods.par import METHOD as par

    methods = [
        redgnn,
        autoblm,
        emergnn,
        par,
        pacia,
        coldnas,
        gsr,
    ]
    return {m.name: m for m in methods}


def _plugins() -> list[Method]:
    """The methods named in $PARSIMONY_METHODS ("module:OBJECT", comma-separated)."""
    found = []
    for spec in filter(None, (part.strip() for part in os.environ.get("PARSIMONY_METHODS", "").split(","))):
        module, _, name = spec.partition(":")
        found.append(getattr(importlib.import_module(module), name or "METHOD"))
    return found


METHODS: dict[str, Method] = _load()
for _method in _plugins():
    METHODS[_method.name] = _method


def register(method: Method) -> Method:
    """Add (or replace) a method in :data:`METHODS`; returns it."""
    METHODS[method.name] = method
    return method


def get_method(name: str) -> Method:
    """The method called ``name``; a KeyError lists the known names."""
    try:
        return METHODS[name]
    except KeyError:
        raise KeyError(f"unknown method {name!r}; known: {', '.join(METHODS)}") from None


def require_verb(method: Method, verb: str):
    fn = getattr(method, verb)
    if fn is None:
        raise MethodNotImplemented(f"{method.title}: '{verb}' is not implemented in this version yet")
    return fn
