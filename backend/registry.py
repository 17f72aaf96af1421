"""name -> Method. The CLI, the model zoo and the pages iterate over :data:`METHODS`.

Methods whose implementation has not landed yet are listed with their metadata only
(``implemented`` is False) so the dashboard can say so; adding one is a folder plus a line here.
"""
from __future__ import annotations

from backend.core.method import Method, MethodNotImplemented


def _planned(name, title, task, explains, paper, area, datasets) -> Method:
    return Method(name=name, title=title, task=task, explains=explains, paper=paper, area=area, datasets=datasets)


def _load() -> dict[str, Method]:
    from backend.methods.redgnn import METHOD as redgnn

    methods = [
        redgnn,
        _planned("autoblm", "AutoBLM", "Knowledge-graph embedding with searched bilinear scoring functions",
                 "The searched block structure, its formula and the search trajectory", "zhang2022autoblm", "kg",
                 ("family", "umls", "WN18RR", "fb15k-237")),
        _planned("emergnn", "EmerGNN", "Drug-drug interaction prediction for emerging drugs",
                 "Paths through a biomedical network (genes, diseases, side effects) linking the two drugs",
                 "zhang2023emergnn", "ddi", ("drugbank", "twosides")),
        _planned("par", "PAR", "Few-shot molecular property prediction",
                 "The relation graph between molecules of an episode", "wang2021par", "molecules",
                 ("tox21", "sider", "muv", "toxcast")),
        _planned("pacia", "PACIA", "Few-shot molecular property prediction with parameter-efficient adaptation",
                 "How few parameters adapt to each task", "wu2024pacia", "molecules",
                 ("tox21", "sider", "muv", "toxcast")),
        _planned("coldnas", "ColdNAS", "Cold-start recommendation with a searched modulation structure",
                 "The searched modulation structure and how a user's ratings change the advice",
                 "wu2023coldnas", "recsys", ("lastfm", "movielens")),
        _planned("gsr", "GSR", "Symbolic regression on graph-structured physical systems",
                 "Discovered formulas (SymPy) beside the true laws", "shi2023gsr", "physics",
                 ("springs", "charged", "pedestrian")),
    ]
    return {m.name: m for m in methods}


METHODS: dict[str, Method] = _load()


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
