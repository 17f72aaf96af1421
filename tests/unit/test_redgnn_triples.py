"""Scoring a user's table of triples with a shipped RED-GNN checkpoint: uploading a test split reproduces
the card's MRR, every rank agrees with a brute-force count, bad rows are named and the rest scored."""
from __future__ import annotations

import os

import pytest
import torch

from backend.cli import main
from backend.methods.redgnn.explain import rank_answers
from backend.methods.redgnn.triples import mean_reciprocal_rank, read_triples, score_triples

pytestmark = pytest.mark.skipif(not os.environ.get("PARSIMONY_DATA"), reason="PARSIMONY_DATA not set")


def _rows(lm, triples, inverse: bool = False) -> str:
    kg = lm.kg
    return "\n".join(f"{kg.entity_text(t)}\tinverse of {kg.relations[r]}\t{kg.entity_text(h)}" if inverse else
                     f"{kg.entity_text(h)}\t{kg.relation_label(r)}\t{kg.entity_text(t)}" for h, r, t in triples.tolist())


def test_the_test_split_as_an_upload_reproduces_the_cards_mrr(umls):
    """Tail rows plus 'inverse of' rows for the heads: exactly the evaluation's queries and filter."""
    text = _rows(umls, umls.kg.test) + "\n" + _rows(umls, umls.kg.test, inverse=True)
    table = read_triples(umls, text)
    assert table.problems == [] and len(table.rows) == 2 * len(umls.kg.test)
    frame = score_triples(umls, table)
    assert mean_reciprocal_rank(frame) == pytest.approx(umls.card.metrics["test"]["mrr"], abs=1e-9)
    assert frame["known_fact"].all()
    assert frame["row"].tolist() == list(range(1, len(frame) + 1))  # the input's order


def test_each_rank_is_the_brute_force_filtered_rank(umls):
    """rank = 1 + #(competitors scoring above) + half #(tied), competitors = entities that are not known
    answers of (head, relation); an unknown triple's tail competes with every non-answer."""
    kg = umls.kg
    triples = torch.tensor([[h, r, t] for h in (0, 5, 17) for r in (0, 3, 50) for t in (1, 8, 99)])
    frame = score_triples(umls, read_triples(umls, _rows(umls, triples)))
    assert len(frame) == len(triples)
    queries = torch.unique(triples[:, 0] * 2 * kg.n_rel + triples[:, 1])  # one batch (score_triples: any size)
    with torch.no_grad():
        scores = umls.model(queries // (2 * kg.n_rel), queries % (2 * kg.n_rel), umls.graph)
    for (h, r, t), got in zip(triples.tolist(), frame.itertuples()):
        s = scores[int(torch.nonzero(queries == h * 2 * kg.n_rel + r))]
        competes = ~umls.known.mask(torch.tensor([h]), torch.tensor([r]))[0]
        competes[t] = False
        expected = 1 + (s[competes] > s[t]).sum().item() + 0.5 * (s[competes] == s[t]).sum().item()
        # scores agree up to float rounding across batch sizes (matrix kernels differ), ranks exactly
        assert got.rank == expected and got.score == pytest.approx(s[t].item(), rel=1e-5, abs=1e-6)
        assert got.best_answer == kg.entity_text(int(s.argmax()))


def test_progress_counts_distinct_queries_batch_by_batch(umls):
    triples = torch.tensor([[h, r, t] for h in (0, 5, 17) for r in (0, 3, 50) for t in (1, 8, 99)])
    calls = []
    frame = score_triples(umls, read_triples(umls, _rows(umls, triples)), batch_size=4,
                          progress=lambda done, total: calls.append((done, total)))
    assert calls == [(4, 9), (8, 9), (9, 9)]  # 9 distinct (head, relation) queries, 4 at a time
    assert frame.equals(score_triples(umls, read_triples(umls, _rows(umls, triples)), batch_size=4))


def test_queries_without_a_tail_get_the_best_answers(umls):
    h, r = (int(x) for x in umls.kg.test[0, :2])
    text = f"head,relation\n{umls.kg.entity_text(h)},{umls.kg.relations[r]}\n"
    frame = score_triples(umls, read_triples(umls, text), top=4)
    expected = rank_answers(umls, h, r, top=4)
    assert frame["answer_rank"].tolist() == [1, 2, 3, 4]
    assert frame["answer"].tolist() == [umls.kg.entity_text(umls.entity_id(e)) for e in expected["entity"]]
    assert frame["score"].tolist() == pytest.approx(expected["score"].tolist())


def test_bad_rows_are_named_and_the_others_scored(umls):
    good = _rows(umls, umls.kg.test[:2])
    text = f"head\trelation\ttail\n{good}\nno_such_thing\tisa\tcell\ncell\tisaa\tcell\n"
    table = read_triples(umls, text)
    assert len(table.rows) == 2
    lines = [str(p) for p in table.problems]
    assert lines[0].startswith("row 4, column head: unknown entity 'no_such_thing' in umls")
    assert lines[1].startswith("row 5, column relation: unknown relation 'isaa' in umls; did you mean: isa")
    assert len(score_triples(umls, table)) == 2


def test_cli_predict_reads_a_table_and_reports_skipped_rows(umls, tmp_path, capsys):
    source = tmp_path / "triples.tsv"
    source.write_text(_rows(umls, umls.kg.test[:3]) + "\nnobody\tisa\tcell\n", encoding="utf-8")
    out = tmp_path / "ranked.csv"
    assert main(["predict", "redgnn", "--dataset", "umls", "--device", "cpu", "--input", str(source),
                 "--output", str(out)]) == 0
    captured = capsys.readouterr()
    assert "wrote 3 rows" in captured.out
    assert "skipped row 4, column head: unknown entity 'nobody' in umls" in captured.err
    header = out.read_text(encoding="utf-8").splitlines()[0]
    assert header == "row,head,relation,tail,score,rank,reached,known_fact,best_answer,best_score"
    assert main(["predict", "redgnn", "--dataset", "umls", "--input", str(tmp_path / "missing.csv")]) == 2
    assert "missing.csv: No such file or directory" in capsys.readouterr().err
