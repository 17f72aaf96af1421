"""The KG page's flow on a shipped checkpoint: ranking a query and explaining its answers share one forward
pass, and give exactly what separate passes give."""
from __future__ import annotations

import importlib
import os

import pytest

from backend.methods.redgnn.explain import explain_query, rank_answers

explain_module = importlib.import_module("backend.methods.redgnn.explain")  # the package's `explain` is a function

pytestmark = pytest.mark.skipif(not os.environ.get("PARSIMONY_DATA"), reason="PARSIMONY_DATA not set")


def _count_forward_passes(lm, monkeypatch) -> list[int]:
    calls: list[int] = []
    forward = lm.model.forward
    monkeypatch.setattr(lm.model, "forward", lambda *a, **k: calls.append(1) or forward(*a, **k))
    return calls


def test_ranking_then_explaining_answers_runs_one_forward_pass_with_the_same_results(umls, monkeypatch):
    h, r, _ = (int(x) for x in umls.kg.test[7].tolist())
    umls._recent.clear()
    calls = _count_forward_passes(umls, monkeypatch)
    frame = rank_answers(umls, h, r, top=5)
    shared = [explain_query(umls, h, r, answer).to_json() for answer in frame["entity"][:3]]
    assert len(calls) == 1

    monkeypatch.setattr(explain_module, "RECENT_QUERIES", 0)  # nothing kept: every call runs its own pass
    umls._recent.clear()
    alone = [explain_query(umls, h, r, answer).to_json() for answer in frame["entity"][:3]]
    assert len(calls) == 4
    assert alone == shared
    assert rank_answers(umls, h, r, top=5).equals(frame)
    assert len(umls._recent) == 0


def test_the_memo_keeps_the_last_queries_only(umls, monkeypatch):
    umls._recent.clear()
    calls = _count_forward_passes(umls, monkeypatch)
    queries = [tuple(int(x) for x in umls.kg.test[i, :2].tolist()) for i in (0, 1, 2)]
    assert len(set(queries)) == 3
    for h, r in queries + queries[-2:]:  # the last two are still kept
        rank_answers(umls, h, r, top=3)
    assert len(calls) == 3 and list(umls._recent) == queries[1:]
    rank_answers(umls, *queries[0], top=3)  # dropped: runs again
    assert len(calls) == 4 and len(umls._recent) == explain_module.RECENT_QUERIES
