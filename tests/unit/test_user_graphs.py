"""A user's own knowledge graph: import (bad rows named, repeats dropped), the covered random split, the
files read back, and RED-GNN trained on it from the command line (a graph whose rule it must learn)."""
from __future__ import annotations

import json

import pytest
import torch

from backend.kg.user_graphs import (
    MIN_TRIPLES, check_name, graph_report, import_graph, is_user_graph, list_user_graphs, load_user_graph,
    split_triples)
from tests.support import tree_graph
from tests.support import triples_tsv as tsv


@pytest.fixture(autouse=True)
def own_runs(tmp_path, monkeypatch):
    """Imported graphs and runs go to a temporary folder, never the project's runs/."""
    monkeypatch.setenv("PARSIMONY_RUNS", str(tmp_path / "runs"))
    monkeypatch.delenv("PARSIMONY_GRAPHS", raising=False)
    return tmp_path / "runs"


def test_split_is_a_partition_with_every_held_out_triple_covered():
    g = torch.Generator().manual_seed(1)
    triples = torch.unique(torch.stack([torch.randint(0, 80, (900,), generator=g),
                                        torch.randint(0, 6, (900,), generator=g),
                                        torch.randint(0, 80, (900,), generator=g)], 1), dim=0)
    splits, moved = split_triples(triples, 80, 6, 0.1, 0.15, seed=3)
    together = torch.cat(list(splits.values()))
    assert len(together) == len(triples) and len(torch.unique(together, dim=0)) == len(triples)
    training = torch.cat([splits["facts"], splits["train"]])
    seen_ent = set(training[:, [0, 2]].flatten().tolist())
    seen_rel = set(training[:, 1].tolist())
    for split in ("valid", "test"):
        for h, r, t in splits[split].tolist():
            assert h in seen_ent and t in seen_ent and r in seen_rel
    n = len(triples)
    assert len(splits["test"]) + moved >= round(0.15 * n) - moved and len(splits["test"]) <= round(0.15 * n)
    assert abs(len(splits["valid"]) - 0.1 * n) <= moved + 1
    assert len(splits["facts"]) == round(0.75 * len(training))
    again, _ = split_triples(triples, 80, 6, 0.1, 0.15, seed=3)
    other, _ = split_triples(triples, 80, 6, 0.1, 0.15, seed=4)
    assert torch.equal(again["test"], splits["test"]) and not torch.equal(other["test"], splits["test"])


def test_a_held_out_triple_naming_an_unseen_entity_is_trained_on():
    # entity 9 occurs in one triple only: wherever the draw puts it, it must end in training
    triples = torch.tensor([[0, 0, i] for i in range(1, 9)] + [[i, 0, 0] for i in range(1, 9)] + [[9, 1, 0]])
    for seed in range(20):
        splits, _ = split_triples(triples, 10, 2, 0.2, 0.2, seed)
        training = torch.cat([splits["facts"], splits["train"]])
        assert [9, 1, 0] in training.tolist()


def test_import_names_bad_rows_drops_repeats_and_reads_back_names_with_spaces(own_runs):
    rows = tree_graph(60)
    text = tsv(rows[:5]) + "person 1\t\tperson 2\nperson 3\tparent of\n" + "".join(
        f"{h}\t{r}\t{t}\n" for h, r, t in rows[5:] + rows[:4])
    report = import_graph(text.encode(), "tree-60", valid_fraction=0.1, test_fraction=0.1, seed=0,
                          source_name="tree.tsv")
    assert report.rows_read == len(rows) + 4 and report.rows_in_file == len(rows) + 2 + 4
    assert report.problems == [f"{len(rows) + 6} rows in the file: {len(rows) + 4} read, 2 not read — see the "
                               "problems below", "row 7, column relation: empty",
                               "row 8, column tail: missing (the row has 2 of 3 columns)"]
    assert report.lines()[0].startswith(f"{len(rows) + 4} of {len(rows) + 6} rows read, 2 not read, 4 repeated")
    assert [p["row"] for p in report.problem_rows] == [7, 8]
    assert report.duplicates == 4
    assert sum(report.splits.values()) == len(set(rows))
    assert (own_runs / "graphs" / "tree-60").is_dir() and is_user_graph("tree-60")
    assert list_user_graphs() == ["tree-60"] and graph_report("tree-60")["source"] == "tree.tsv"

    kg = load_user_graph("tree-60")
    assert "person 1" in kg.entities and kg.relations == ["parent of", "grandparent of"]
    back = {(kg.entities[h], kg.relations[r], kg.entities[t])
            for split in ("facts", "train", "valid", "test") for h, r, t in getattr(kg, split).tolist()}
    assert back == set(rows)
    assert len(kg.test) == report.splits["test"] and len(kg.valid) == report.splits["valid"]


def test_names_and_sizes_that_cannot_be_imported_say_why(own_runs):
    rows = tsv(tree_graph(60))
    with pytest.raises(ValueError, match="name of the dataset 'family'"):
        import_graph(rows, "FAMILY")
    with pytest.raises(ValueError, match="letters, digits"):
        check_name("my graph")
    import_graph(rows, "tree")
    with pytest.raises(ValueError, match="exists already"):
        import_graph(rows, "tree")
    from backend.core.files import sha256_file
    from backend.kg.user_graphs import REDGNN_FILES, changed_files, graph_folder

    recorded = {f: sha256_file(graph_folder("tree") / f) for f in REDGNN_FILES}  # what a card records
    assert changed_files("tree", recorded) == []
    assert import_graph(rows, "tree", seed=5, replace=True).seed == 5
    assert changed_files("tree", recorded) == ["facts.txt", "train.txt", "valid.txt", "test.txt"]
    with pytest.raises(ValueError, match=f"at least {MIN_TRIPLES}"):
        import_graph(tsv(tree_graph(8)), "small")
    quoted = rows.replace("person 3\t", '"person\t3"\t', 1).replace("\t", ",").replace('"person,3"', '"person\t3"')
    tabbed = import_graph(quoted, "csv-with-a-tab")
    assert len(tabbed.problem_rows) == 1 and tabbed.problems[1].endswith("holds a tab, which a name may not "
                                                                         "(value 'person\\t3')")
    with pytest.raises(ValueError, match="no column 'tail'"):
        import_graph("head,relation\na,b\n", "no-tail")
    assert not (own_runs / "graphs" / "small").exists() and list_user_graphs() == ["csv-with-a-tab", "tree"]


def test_redgnn_learns_an_imported_graph_from_the_command_line(own_runs, tmp_path, capsys):
    """import-graph, then train with family's settings (20 epochs, seconds): the grandparent rule is learnt
    (a random ranking of 240 entities scores MRR about 0.03), and evaluate reproduces the card."""
    from backend.cli import main
    from backend.methods.redgnn.config import config_for

    source = tmp_path / "tree.tsv"
    source.write_text(tsv(tree_graph(240)), encoding="utf-8")
    assert main(["import-graph", str(source), "--name", "tree", "--test-fraction", "0.15"]) == 0
    assert "train on it: python -m backend train redgnn --dataset tree" in capsys.readouterr().out
    assert (config_for("tree").lr, config_for("tree").n_layer) == (config_for("family").lr, 3)

    assert main(["train", "redgnn", "--dataset", "tree", "--epochs", "20", "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    out = json.loads(printed[printed.index("{"):])
    folder = own_runs / "redgnn" / "tree"
    assert out["model_dir"] == str(folder) and (folder / "model.pt").is_file()
    test = out["metrics"]["test"]
    assert test["mrr"] >= 0.6, test
    from backend.methods.redgnn import METHOD

    by_relation = METHOD.breakdown(folder, device="cpu").set_index("relation")
    # reached (no held-out parent edge on the way), a grandchild is found through its parent: first
    assert by_relation.loc["grandparent of", "reached_mrr"] >= 0.9, by_relation
    assert main(["evaluate", "redgnn", "--dataset", "tree", "--device", "cpu"]) == 0  # finds the run
    again = json.loads(capsys.readouterr().out)
    assert again["mrr"] == pytest.approx(test["mrr"], abs=1e-12)  # same ranks (float64 scores, tie rule): equal up to a mean's last bit
    card = json.loads((folder / "card.json").read_text(encoding="utf-8"))
    assert card["dataset"] == "tree" and set(card["data"]["files"]) >= {"facts.txt", "test.txt"}


def test_labels_name_entities_and_relations_in_what_the_model_shows(own_runs):
    """A labels table (ids -> readable text) labels the graph: pickers, answers and lookups use the labels;
    labels of names outside the graph are counted, bad label rows named."""
    rows = [(h.replace("person ", "Q"), "P40" if r == "parent of" else "P1038", t.replace("person ", "Q"))
            for h, r, t in tree_graph(60)]
    labels = "id,label\nQ1,Ada Lovelace\nP40,child\nQ9999,Nobody\nQ2\n"
    report = import_graph(tsv(rows), "wikitree", labels=labels, labels_name="labels.csv")
    assert report.labels == {"entities": 1, "relations": 1, "unused": 1, "source": "labels.csv",
                             "problems": ["4 rows in the file: 3 read, 1 not read — see the problems below",
                                          "row 5, column label: missing (the row has 1 of 2 columns)"],
                             "rows_not_read": 1}
    assert "Labels from labels.csv: 1 of 60 entities and 1 of 2 relations labelled; 1 labels name nothing in " \
           "the graph; 1 label rows not read." in report.lines()
    kg = load_user_graph("wikitree")
    q1, p40 = kg.entities.index("Q1"), kg.relations.index("P40")
    assert kg.entity_label(q1) == "Ada Lovelace" and kg.entity_text(q1) == "Ada Lovelace · Q1"
    assert kg.relation_label(p40) == "child" and kg.relation_label(p40 + kg.n_rel) == "inverse of child"
    assert kg.entity_label(kg.entities.index("Q2")) == "Q2"  # unlabelled: its name


def test_a_table_extends_a_dataset_whose_triples_always_train(tmp_path):
    """The dataset's triples join the graph and never go to valid or test; its labels come along; a cell may
    name a dataset entity or relation by a label only it has; the held-out triples are the table's own."""
    from backend.kg.loader import KGData

    base = torch.tensor([[i, i % 2, i + 1] for i in range(40)])
    dataset = KGData(name="toy", entities=[f"Q{i}" for i in range(41)], relations=["P1", "P2"],
                     facts=base[:30], train=base[30:35], valid=base[35:38], test=base[38:],
                     entity_labels=[f"item {i}" for i in range(41)], relation_labels=["likes", "knows"])
    rows = [(f"new {i}", rel, f"item {(i + k) % 41}") for i in range(30) for k, rel in enumerate(("likes", "knows"))]
    rows += [("Q1", "P2", "Q3"), ("Q0", "P1", "Q1")]
    report = import_graph(tsv(rows).encode(), "toy-plus", valid_fraction=0.2, test_fraction=0.2, extend=dataset)
    assert report.extends == "toy" and report.extended_triples == 40 and report.duplicates == 1  # (Q0, P1, Q1)
    assert any("40 triples come from toy and always train" in line for line in report.lines())
    kg = load_user_graph("toy-plus")
    assert kg.entities[:41] == dataset.entities and kg.relations == ["P1", "P2"]  # labels resolved to names
    held = {(kg.entities[h], kg.relations[r], kg.entities[t]) for h, r, t in torch.cat([kg.valid, kg.test]).tolist()}
    ours = {(f"new {i}", rel, f"Q{(i + k) % 41}") for i in range(30) for k, rel in enumerate(("P1", "P2"))}
    assert held and held <= ours | {("Q1", "P2", "Q3")}  # every held-out triple is the table's own
    assert len(kg.valid) + len(kg.test) <= round(0.4 * 61)
    assert kg.entity_label(0) == "item 0" and kg.relation_label(1) == "knows" and kg.entity_label(41) == "new 0"


def test_import_graph_command_writes_nothing_when_a_row_cannot_be_read_unless_told_to_keep_going(own_runs, tmp_path,
                                                                                                capsys):
    """Without --keep-going one unreadable row (graph or labels) stops the import: nothing written, exit 2, the
    first problem rows named by line; with it the readable rows are imported, every other one listed, and the
    report counts the rows read of the rows in the file."""
    from backend.cli import main

    rows = tree_graph(60)
    lines = [f"{h},{r},{t}" for h, r, t in rows]
    lines[9] = f'"{lines[9]}'  # line 11 (the header is line 1): a quote never closed
    lines[30] += ",extra"       # line 32: a fourth cell
    source = tmp_path / "tree.csv"
    source.write_text("head,relation,tail\r\n" + "\r\n".join(lines) + "\r\n", encoding="utf-8")
    n = len(rows)
    assert main(["import-graph", str(source), "--name", "tree"]) == 2
    err = capsys.readouterr().err
    assert f"error: tree.csv: {n} rows in the file: {n - 2} read, 2 not read; nothing was written" in err
    assert "\n  row 11: unterminated quote" in err and "\n  row 32: row has 4 cells, expected 3" in err
    assert f"pass --keep-going to import the {n - 2} rows that can be read" in err
    assert list_user_graphs() == [] and not (own_runs / "graphs" / "tree").exists()

    labels = tmp_path / "labels.csv"
    labels.write_text("id,label\nperson 1,Ada\nperson 2\n", encoding="utf-8")
    good = tmp_path / "good.tsv"
    good.write_text(tsv(rows), encoding="utf-8")
    assert main(["import-graph", str(good), "--name", "tree", "--labels", str(labels)]) == 2
    assert "error: labels.csv: 2 rows in the file: 1 read, 1 not read; nothing was written" in capsys.readouterr().err
    assert list_user_graphs() == []

    assert main(["import-graph", str(source), "--name", "tree", "--keep-going"]) == 0
    captured = capsys.readouterr()
    assert "not read: row 11: unterminated quote" in captured.err and "not read: row 32: row has 4" in captured.err
    assert f"{n - 2} of {n} rows read, 2 not read" in captured.out
    assert is_user_graph("tree") and [p["row"] for p in graph_report("tree")["problem_rows"]] == [11, 32]

    many = tmp_path / "many.csv"  # 25 rows with an empty head: 20 named, then a count; all with --keep-going
    many.write_text("head,relation,tail\n" + "".join(f"{h},{r},{t}\n" for h, r, t in rows) + ",parent of,x\n" * 25,
                    encoding="utf-8")
    assert main(["import-graph", str(many), "--name", "many"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n  row ") == 20 and "\n  … and 5 more problems\n" in err
    assert main(["import-graph", str(many), "--name", "many", "--keep-going"]) == 0
    assert capsys.readouterr().err.count("not read: row ") == 25
