"""Methods' own CLI verbs (Method.extras["commands"]) join the one argparse tree."""
from __future__ import annotations

import pytest

from backend import registry
from backend.cli import main
from backend.core.method import Command, Method


def _method(name: str, commands: dict) -> Method:
    return Method(name=name, title=name.title(), task="a test method", explains="nothing", paper="", area="kg",
                  extras={"commands": commands})


@pytest.fixture
def two_methods(monkeypatch):
    calls = []

    def arguments(parser):
        parser.add_argument("--steps", type=int, default=3)

    def runner(name):
        def run(args):
            calls.append((name, args.method, args.steps))
            return 7
        return run

    for name, about in (("alpha", "simulate a system"), ("beta", "simulate users")):
        monkeypatch.setitem(registry.METHODS, name, _method(name, {"simulate": Command(about, arguments, runner(name))}))
    return calls


def test_a_declared_verb_runs_with_its_flags_and_exit_code(two_methods):
    assert main(["simulate", "alpha", "--steps", "5"]) == 7
    assert main(["simulate", "beta"]) == 7
    assert two_methods == [("alpha", "alpha", 5), ("beta", "beta", 3)]


def test_a_verb_the_cli_already_has_is_refused(monkeypatch):
    clash = _method("gamma", {"train": Command("train twice", lambda p: None, lambda a: 0)})
    monkeypatch.setitem(registry.METHODS, "gamma", clash)
    with pytest.raises(ValueError, match="gamma declares the command 'train'"):
        main(["list"])


def test_a_bool_config_flag_works_bare_and_with_a_value(monkeypatch):
    import dataclasses
    from types import SimpleNamespace

    @dataclasses.dataclass
    class Config:
        dataset: str = "d"
        resume: bool = False
        budget: int = 4

    seen = []

    def train(config, progress=None, device=None, data_dir=None):
        seen.append((config.resume, config.budget))
        return SimpleNamespace(path="nowhere", metrics={})  # what the train verb prints of a card

    def config_for(dataset: str) -> Config:
        return Config(dataset=dataset)

    method = Method(name="delta", title="Delta", task="t", explains="e", paper="", area="kg", datasets=("d",),
                    config_for=config_for, train=train, load=lambda *a, **k: None)
    monkeypatch.setitem(registry.METHODS, "delta", method)
    for argv in (["--resume"], ["--resume", "false"], ["--budget", "7"]):
        main(["train", "delta", "--dataset", "d", *argv])
    assert seen == [(True, 4), (False, 4), (False, 7)]
