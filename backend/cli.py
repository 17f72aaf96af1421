"""One argparse tree for the whole backend: ``python -m backend <command> ...``.

Data commands (list, fetch-data, verify-data) are shared; the method verbs (train, evaluate,
predict, explain) take the method as a sub-command whose flags come from its config dataclass.
Expected problems (missing data, bad input) print one clear line and exit 2, never a traceback.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from pathlib import Path
from typing import Any

from backend.core.method import MethodNotImplemented

log = logging.getLogger("backend")


class UserError(Exception):
    """A problem the user can fix (bad flag, missing data); printed without a traceback."""


def _parse_query(pairs: list[str]) -> dict[str, str]:
    query = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise UserError(f"--query expects key=value, got {pair!r}")
        key, value = pair.split("=", 1)
        query[key.strip()] = value.strip()
    return query


def _bool(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true/false, got {text!r}")


def _add_config_flags(parser: argparse.ArgumentParser, config_cls: type) -> None:
    """One --flag per dataclass field; default None means 'the dataset's paper default'."""
    for f in dataclasses.fields(config_cls):
        if f.name == "dataset":
            continue
        ftype = f.type if isinstance(f.type, type) else {"int": int, "float": float, "bool": bool, "str": str}.get(
            str(f.type).split("|")[0].strip(), str)
        parser.add_argument(f"--{f.name.replace('_', '-')}", dest=f"cfg_{f.name}", default=None, metavar=f.name.upper(),
                            type=_bool if ftype is bool else ftype, help="(default: the dataset's setting)")


def _build_config(method, args) -> Any:
    if method.config_for is None:
        raise MethodNotImplemented(f"{method.title} has no training configuration yet")
    config = method.config_for(args.dataset)
    overrides = {k[4:]: v for k, v in vars(args).items() if k.startswith("cfg_") and v is not None}
    if overrides.get("init_from"):
        from backend.core.store import settings_kept_when_continued

        overrides = {**settings_kept_when_continued(config, overrides["init_from"]), **overrides}
    return dataclasses.replace(config, **overrides)


def _model_dir(method, args) -> Path:
    from backend.core.store import default_model_dir

    if getattr(args, "model", None):
        return Path(args.model)
    if not getattr(args, "dataset", None):
        raise UserError("give --model PATH or --dataset NAME")
    setting = getattr(args, "setting", None)
    folder = default_model_dir(method.name, args.dataset, setting or "default")
    if setting is None and not (folder / "card.json").exists():
        # no --setting given: the one shipped checkpoint of this dataset, whatever its setting
        from backend.core.store import list_cards

        found = [c for c in list_cards(method=method.name) if c.dataset == args.dataset]
        if len(found) == 1:
            return Path(found[0].path)
        from backend.core.store import runs_root

        own = runs_root() / method.name / args.dataset  # where `train` writes a run on an imported graph
        if (own / "card.json").exists():
            return own
    return folder


def _graph_kwargs(args) -> dict:
    """{"graph": NAME} when --graph was given (only methods that apply checkpoints to graphs have the flag)."""
    return {"graph": args.graph} if getattr(args, "graph", None) else {}


def cmd_list(args) -> int:
    from backend.core import data
    from backend.core.store import list_cards
    from backend.registry import METHODS

    print("methods:")
    for m in METHODS.values():
        state = "implemented" if m.implemented else "planned"
        print(f"  {m.name:<9} {m.title:<9} {state:<12} {m.task}")
    print("\ndatasets (data root: %s):" % data.resolve_data_root(args.data_dir))
    for ds in data.CATALOG.values():
        present = data.dataset_status(ds, data.resolve_data_root(args.data_dir))
        print(f"  {ds.name:<22} {ds.area:<10} {present:<10} {ds.description}")
    from backend.kg.user_graphs import graphs_dir, list_user_graphs

    print(f"\nimported graphs ({graphs_dir()}): " + (", ".join(list_user_graphs()) or "none"))
    print("\ncheckpoints:")
    cards = list_cards()
    if not cards:
        print("  (none under models/)")
    for c in cards:
        test = c.metrics.get("test", {})
        main = ", ".join(f"{k}={v:.3f}" for k, v in list(test.items())[:3])
        print(f"  {c.method:<9} {c.folder_name:<22} {main}  [{c.path}]")
    return 0


def cmd_fetch(args) -> int:
    from backend.core import data

    root = data.resolve_data_root(args.data_dir)
    for name in args.names:
        data.fetch_dataset(name, root, force=args.force)
    return 0


def cmd_import_graph(args) -> int:
    from backend.kg.loader import load_redgnn_layout
    from backend.kg.user_graphs import import_graph

    extend = load_redgnn_layout(args.extend, args.data_dir) if args.extend else None
    report = import_graph(Path(args.file), args.name, valid_fraction=args.valid_fraction,
                          test_fraction=args.test_fraction, seed=args.seed, replace=args.replace,
                          labels=Path(args.labels) if args.labels else None, extend=extend)
    for line in report.problems:
        print(f"skipped {line}", file=sys.stderr)
    for line in (report.labels or {}).get("problems", []):
        print(f"skipped label {line}", file=sys.stderr)
    print("\n".join(report.lines()))
    from backend.registry import METHODS

    print(f"wrote {report.folder}")
    for m in METHODS.values():
        if m.imports_graphs:
            print(f"train on it: python -m backend train {m.name} --dataset {report.name}")
    return 0


def cmd_map_relations(args) -> int:
    from backend.kg.user_graphs import relation_map, save_relation_map

    mapping = {}
    for pair in args.pairs:
        graph_relation, sep, meant = pair.rpartition("=")
        if not sep or not graph_relation.strip():
            raise UserError(f"map-relations expects 'GRAPH RELATION=CHECKPOINT RELATION', got {pair!r}")
        mapping[graph_relation.strip()] = meant
    mapping.update({name: "" for name in args.forget})
    saved = save_relation_map(args.name, mapping) if mapping else relation_map(args.name)
    print(json.dumps(saved, indent=1) if saved else f"{args.name}: no relation mapped")
    return 0


def cmd_verify(args) -> int:
    from backend.core import data

    root = data.resolve_data_root(args.data_dir)
    report = data.verify_data(args.names or None, root)
    bad = [r for r in report if r.status != "ok"]
    for r in report:
        if r.status != "ok" or args.verbose:
            print(f"{r.status:<9} {r.dataset:<22} {r.path}  {r.detail}")
    print(f"{len(report) - len(bad)} of {len(report)} files verified under {root}")
    return 1 if any(r.status == "corrupt" for r in report) else 0


def cmd_train(args) -> int:
    from backend.core.progress import FileProgress, TeeProgress, TqdmProgress
    from backend.registry import get_method, require_verb

    method = get_method(args.method)
    train = require_verb(method, "train")
    config = _build_config(method, args)
    progress = TqdmProgress()
    if args.progress_file:
        progress = TeeProgress(progress, FileProgress(args.progress_file))
    card = train(config, progress, device=args.device, data_dir=args.data_dir)
    print(json.dumps({"model_dir": card.path, "metrics": card.metrics}, indent=1))
    return 0


def cmd_evaluate(args) -> int:
    from backend.registry import get_method, require_verb

    method = get_method(args.method)
    if getattr(args, "graph", None) and not args.dataset and not args.model:
        return _compare_on_graph(method, args)
    args.split = args.split or "test"
    if getattr(args, "breakdown", False):
        frame = require_verb(method, "breakdown")(_model_dir(method, args), split=args.split, device=args.device,
                                                  data_dir=args.data_dir, **_graph_kwargs(args))
        if args.output:
            frame.to_csv(args.output, index=False)
            print(f"wrote {len(frame)} rows (one per {method.breakdown_by}) to {args.output}")
        else:
            print(frame.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
        return 0
    metrics = require_verb(method, "evaluate")(_model_dir(method, args), split=args.split, device=args.device,
                                               data_dir=args.data_dir, **_graph_kwargs(args))
    if args.output:
        Path(args.output).write_text(json.dumps(metrics, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {len(metrics)} metrics to {args.output}")
    else:
        print(json.dumps(metrics, indent=1))
    return 0


def _compare_on_graph(method, args) -> int:
    """`evaluate METHOD --graph NAME` without a checkpoint: every checkpoint that applies, ranked on valid."""
    from backend.registry import require_verb

    frame, skipped = require_verb(method, "compare_on_graph")(args.graph, split=args.split or "valid",
                                                              device=args.device, data_dir=args.data_dir)
    for line in skipped:
        print(f"left out {line}", file=sys.stderr)
    if args.output:
        frame.to_csv(args.output, index=False)
        print(f"wrote {len(frame)} rows (one per checkpoint) to {args.output}")
    elif frame.empty:
        print(f"no checkpoint knows a relation of {args.graph}")
    else:
        print(frame.drop(columns=["path"]).to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    return 0


def cmd_predict(args) -> int:
    from backend.registry import get_method, require_verb

    method = get_method(args.method)
    query = _parse_query(args.query)
    if args.input:
        query["input"] = args.input
    frame = require_verb(method, "predict")(_model_dir(method, args), query, data_dir=args.data_dir,
                                            **_graph_kwargs(args))
    for line in frame.attrs.get("problems", []):  # rows of the input that could not be used
        print(f"skipped {line}", file=sys.stderr)
    if args.output:
        frame.to_csv(args.output, index=False)
        print(f"wrote {len(frame)} rows to {args.output}")
    else:
        print(frame.head(args.top).to_string(index=False))
    return 0


def cmd_explain(args) -> int:
    from backend.registry import get_method, require_verb

    method = get_method(args.method)
    evidence = require_verb(method, "explain")(_model_dir(method, args), _parse_query(args.query),
                                               data_dir=args.data_dir, **_graph_kwargs(args))
    if args.output:
        Path(args.output).write_text(evidence.to_json(), encoding="utf-8")
        print(f"wrote evidence ({len(evidence.edges)} edges, {len(evidence.paths)} paths) to {args.output}")
    else:
        print(evidence.title)
        print(evidence.paths_frame().head(args.top).to_string(index=False))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from backend.registry import METHODS

    parser = argparse.ArgumentParser(prog="python -m backend", description="Parsimony explorer backend")
    parser.add_argument("--data-dir", default=None, help="data root (default: $PARSIMONY_DATA, else a per-user cache)")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="methods, datasets (present or not) and shipped checkpoints")
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("fetch-data", help="download datasets from their public URLs, verify sha256 (resumable)")
    p.add_argument("names", nargs="+", help="dataset names (see `list`), or 'all'")
    p.add_argument("--force", action="store_true", help="download again even when a verified copy exists")
    p.set_defaults(func=cmd_fetch)
    p = sub.add_parser("import-graph", help="make a CSV/TSV of (head, relation, tail) triples a knowledge graph "
                                            "to train and query (split at random into training, valid and test)")
    p.add_argument("file", help="CSV or TSV with columns head, relation, tail (a header is optional)")
    p.add_argument("--name", required=True, help="the graph's name, used as --dataset NAME afterwards")
    p.add_argument("--valid-fraction", type=float, default=0.1, help="share of triples held out for validation")
    p.add_argument("--test-fraction", type=float, default=0.1, help="share of triples held out for test")
    p.add_argument("--seed", type=int, default=0, help="seed of the random split")
    p.add_argument("--replace", action="store_true", help="replace an imported graph of the same name")
    p.add_argument("--labels", default=None, metavar="FILE",
                   help="CSV or TSV of name, label: readable labels for entities and relations (optional)")
    p.add_argument("--extend", default=None, metavar="DATASET",
                   help="add the table to a dataset in the RED-GNN layout (family, umls, WN18RR, fb15k-237): its "
                        "triples join the graph and always train, its labels come along, and the valid and test "
                        "triples are drawn from the table's own")
    p.set_defaults(func=cmd_import_graph)
    p = sub.add_parser("map-relations", help="say which checkpoint relation a relation of an imported graph means, "
                                             "so a checkpoint can reason over the graph (--graph) untrained")
    p.add_argument("name", help="an imported graph")
    p.add_argument("pairs", nargs="*", metavar="FROM=TO",
                   help="graph relation = checkpoint relation, e.g. 'is aunt of=aunt' (none: print the map)")
    p.add_argument("--forget", nargs="+", default=[], metavar="FROM", help="graph relations to unmap")
    p.set_defaults(func=cmd_map_relations)
    p = sub.add_parser("verify-data", help="check every file present under the data root against its sha256")
    p.add_argument("names", nargs="*", help="datasets to check (default: all)")
    p.set_defaults(func=cmd_verify)

    verbs = {
        "train": ("train a model and save model.pt + card.json", cmd_train),
        "evaluate": ("evaluate a checkpoint (reproduces its card's metrics)", cmd_evaluate),
        "predict": ("ranked predictions for a query", cmd_predict),
        "explain": ("evidence for a prediction", cmd_explain),
    }
    for verb, (help_text, func) in verbs.items():
        vp = sub.add_parser(verb, help=help_text)
        msub = vp.add_subparsers(dest="method", required=True, metavar="METHOD")
        for m in METHODS.values():
            if getattr(m, verb) is None:
                continue
            mp = msub.add_parser(m.name, help=m.task)
            mp.add_argument("--dataset", required=verb == "train",
                            help="one of " + ", ".join(m.datasets) + (", or a graph made with import-graph"
                                                                     if m.imports_graphs else "")
                            if m.datasets else None)
            mp.add_argument("--device", default=None, help="cpu, cuda, cuda:1 (default: $PARSIMONY_DEVICE or auto)")
            if verb == "train":
                mp.add_argument("--progress-file", default=None, help="also append progress events (JSON lines) here")
                if m.config_for is not None:
                    import inspect

                    config_cls = inspect.signature(m.config_for).return_annotation
                    if isinstance(config_cls, str):
                        config_cls = type(m.config_for(m.datasets[0]))
                    _add_config_flags(mp, config_cls)
            else:
                mp.add_argument("--model", default=None, help="checkpoint folder (default: models/<method>/<dataset>)")
                mp.add_argument("--setting", default=None,
                                help="checkpoint variant, e.g. inductive (default: the dataset's one checkpoint)")
                if m.applies_to_graphs:
                    mp.add_argument("--graph", default=None, metavar="NAME",
                                    help="reason over this graph made with import-graph instead of the checkpoint's "
                                         "own, without training: triples whose relation the checkpoint does not "
                                         "know are left out" + ("; without --dataset or --model, every checkpoint "
                                                               "that applies, ranked on the graph's valid triples"
                                                               if verb == "evaluate" and m.compare_on_graph else ""))
            if verb == "evaluate":
                mp.add_argument("--split", default=None, choices=["valid", "test"],
                                help="default: test; valid when --graph compares every checkpoint")
                mp.add_argument("--output", default=None, help="write the metrics (JSON) or the breakdown (CSV) here")
                if m.breakdown is not None:
                    mp.add_argument("--breakdown", action="store_true",
                                    help=f"the metrics per {m.breakdown_by}, one row each")
            if verb in ("predict", "explain"):
                mp.add_argument("--query", nargs="+", default=[], metavar="KEY=VALUE",
                                help="query fields: " + ", ".join(m.query_fields))
                mp.add_argument("--output", default=None, help="write CSV (predict) or JSON (explain) here")
                if verb == "predict" and m.input_help:
                    mp.add_argument("--input", default=None, metavar="FILE", help=m.input_help)
                mp.add_argument("--top", type=int, default=20)
            mp.set_defaults(func=func)
    return parser


def main(argv: list[str] | None = None) -> int:
    from backend.core.data import DataMissingError

    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    try:
        return args.func(args)
    except BrokenPipeError:  # output piped into `head` and closed early
        sys.stderr.close()
        return 0
    except OSError as exc:  # a file the user named: its path and the system's reason
        print(f"error: {exc.filename}: {exc.strerror}" if exc.filename and exc.strerror else f"error: {exc}",
              file=sys.stderr)
        return 2
    except (UserError, DataMissingError, MethodNotImplemented, KeyError, ValueError) as exc:
        message = exc.args[0] if exc.args else str(exc)
        print(f"error: {message}", file=sys.stderr)
        return 2
