"""The CLI names what is wrong: an unknown dataset with close names and what exists, a dataset without a
checkpoint with the command that makes one, a folder that is no checkpoint."""
from __future__ import annotations

import pytest

from backend.cli import main


@pytest.mark.parametrize("verb", ["evaluate", "predict", "explain"])
def test_an_unknown_dataset_is_named_with_what_exists(verb, capsys):
    argv = [verb, "redgnn", "--dataset", "famly", "--device", "cpu"]
    if verb != "evaluate":
        argv += ["--query", "head=1", "relation=husband"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "unknown dataset 'famly' for RED-GNN; did you mean family?" in err
    assert "RED-GNN checkpoints: " in err and "family" in err.split("RED-GNN checkpoints: ")[1]
    assert "datasets: family, umls, WN18RR" in err
    assert "card.json" not in err


def test_a_known_dataset_without_a_checkpoint_says_how_to_train_one(capsys):
    assert main(["evaluate", "redgnn", "--dataset", "YAGO", "--device", "cpu"]) == 2
    err = capsys.readouterr().err
    assert "no RED-GNN checkpoint for dataset 'YAGO'" in err
    assert "train one: python -m backend train redgnn --dataset YAGO" in err


def test_a_folder_that_is_no_checkpoint(tmp_path, capsys):
    assert main(["evaluate", "redgnn", "--model", str(tmp_path), "--device", "cpu"]) == 2
    assert f"no checkpoint at {tmp_path} (a checkpoint folder holds card.json and model.pt)" in capsys.readouterr().err
