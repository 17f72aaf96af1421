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


def config_flag(name: str) -> str:
    """A config field's command-line flag: 'n_tbatch' -> '--n-tbatch' (the one field-to-flag mapping)."""
    return "--" + name.replace("_", "-")


def config_argv(config: Any, defaults: Any | None = None) -> list[str]:
    """The flags that set ``config``'s fields on the command line, for those that differ from ``defaults`` (all
    fields when None; never the dataset, which --dataset names): what a page's train panel passes to `train`."""
    argv = []
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if f.name == "dataset" or value is None or (defaults is not None and value == getattr(defaults, f.name)):
            continue
        argv += [config_flag(f.name), str(value).lower() if isinstance(value, bool) else str(value)]
    return argv


def _add_config_flags(parser: argparse.ArgumentParser, config_cls: type) -> None:
    """One --flag per dataclass field; default None means 'the dataset's paper default'."""
    for f in dataclasses.fields(config_cls):
        if f.name == "dataset":
            continue
        ftype = f.type if isinstance(f.type, type) else {"int": int, "float": float, "bool": bool, "str": str}.get(
            str(f.type).split("|")[0].strip(), str)
        if ftype is bool:  # --resume alone means true; --resume false also works
            parser.add_argument(config_flag(f.name), dest=f"cfg_{f.name}", default=None, nargs="?", const=True,
                                metavar="BOOL", type=_bool, help="(default: the dataset's setting)")
            continue
        parser.add_argument(config_flag(f.name), dest=f"cfg_{f.name}", default=None, metavar=f.name.upper(),
                            type=ftype, help="(default: the dataset's setting)")


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
        if not (Path(args.model) / "card.json").exists():
            raise UserError(f"no checkpoint at {args.model} (a checkpoint folder holds card.json and model.pt)")
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
    if not (folder / "card.json").exists():
        raise UserError(_no_checkpoint_message(method, args.dataset, setting))
    return folder


def _no_checkpoint_message(method, dataset: str, setting: str | None) -> str:
    """Why there is no checkpoint for ``dataset``: an unknown dataset (with close names) or one not trained yet;
    the checkpoints and datasets that exist, and the command that would make one."""
    import difflib

    from backend.core.store import list_cards

    cards = sorted({c.dataset + (f" ({c.setting})" if c.setting not in ("", "default", "transductive") else "")
                    for c in list_cards(method=method.name)})
    known = method.all_datasets()
    shipped = f"{method.title} checkpoints: {', '.join(cards) if cards else 'none yet'}"
    if dataset not in known:
        close = difflib.get_close_matches(dataset, list(dict.fromkeys(known)), n=3, cutoff=0.5)
        return (f"unknown dataset {dataset!r} for {method.title}" + (f"; did you mean {', '.join(close)}?" if close else "")
                + f"\n  {shipped}\n  datasets: {', '.join(known)}")
    wanted = f"dataset {dataset!r}" + (f", setting {setting!r}" if setting else "")
    return (f"no {method.title} checkpoint for {wanted}\n  {shipped}\n"
            f"  train one: python -m backend train {method.name} --dataset {dataset}")


def _load_options(method, args) -> dict:
    """The method's load options given on the command line (e.g. RED-GNN's --graph NAME)."""
    return {name: getattr(args, name) for name in method.capabilities.load_options if getattr(args, name, None)}


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


#: problem rows an import-graph that stops prints (--keep-going lists them all)
PROBLEMS_SHOWN = 20


def cmd_import_graph(args) -> int:
    from backend.core.tables import IncompleteTable, Problem
    from backend.kg.loader import load_redgnn_layout
    from backend.kg.user_graphs import import_graph

    extend = load_redgnn_layout(args.extend, args.data_dir) if args.extend else None
    try:
        report = import_graph(Path(args.file), args.name, valid_fraction=args.valid_fraction,
                              test_fraction=args.test_fraction, seed=args.seed, replace=args.replace,
                              labels=Path(args.labels) if args.labels else None, extend=extend,
                              keep_going=args.keep_going)
    except IncompleteTable as exc:
        table = exc.table
        print(f"error: {exc.what}: {table.headline()}; nothing was written", file=sys.stderr)
        for line in table.problem_lines(PROBLEMS_SHOWN):
            print(f"  {line}", file=sys.stderr)
        print(f"fix these rows, or pass --keep-going to import the {table.rows_read:,} rows that can be read and list "
              "the others", file=sys.stderr)
        return 2
    for problem in report.problem_rows:
        print(f"not read: {Problem(**problem)}", file=sys.stderr)
    for line in (report.labels or {}).get("problems", []):
        print(f"labels: {line}", file=sys.stderr)
    print("\n".join(report.lines()))
    from backend.registry import METHODS

    print(f"wrote {report.folder}")
    for m in METHODS.values():
        if m.more_datasets and report.name in m.more_datasets():
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


def _progress(args):
    """A terminal progress bar, also appended to --progress-file when given."""
    from backend.core.progress import FileProgress, TeeProgress, TqdmProgress

    progress = TqdmProgress()
    return TeeProgress(progress, FileProgress(args.progress_file)) if args.progress_file else progress


def cmd_train(args) -> int:
    from backend.registry import get_method, require_verb

    method = get_method(args.method)
    train = require_verb(method, "train")
    config = _build_config(method, args)
    card = train(config, _progress(args), device=args.device, data_dir=args.data_dir)
    print(json.dumps({"model_dir": card.path, "metrics": {split: card.flat_metrics(split) for split in card.metrics}},
                     indent=1))
    return 0


def cmd_search(args) -> int:
    """`search METHOD --dataset D [config flags] [--workers N]`: the method's resumable search (a killed one resumes
    from its trajectory.jsonl when run again)."""
    from backend.core.search import make_executor
    from backend.registry import get_method, require_verb

    method = get_method(args.method)
    search = require_verb(method, "search")
    config = _build_config(method, args)
    progress = _progress(args)
    if args.executor == "local" and args.ray_address:
        raise UserError("--ray-address needs --executor ray")
    executor = make_executor(args.executor, args.workers, args.ray_address, args.gpus_per_candidate)
    try:
        result = search(config, progress, device=args.device, data_dir=args.data_dir, executor=executor)
    finally:
        executor.close()
    best = result.best or {}
    print(json.dumps({"trajectory": str(result.trajectory), "evaluated": result.evaluated, "resumed": result.resumed,
                      "best": {"candidate": best.get("candidate"), "score": best.get("score")},
                      "seconds": round(result.seconds, 1)}, indent=1))
    return 0


def cmd_evaluate(args) -> int:
    from backend.registry import get_method

    method = get_method(args.method)
    if getattr(args, "graph", None) and not args.dataset and not args.model:
        return _compare_on_graph(method, args)
    args.split = args.split or "test"
    if getattr(args, "breakdown", False):
        frame = method.breakdown(_model_dir(method, args), args.split, device=args.device, data_dir=args.data_dir,
                                 **_load_options(method, args))
        if args.output:
            frame.to_csv(args.output, index=False)
            print(f"wrote {len(frame)} rows (one per {method.capabilities.breakdown_by}) to {args.output}")
        else:
            print(frame.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
        return 0
    metrics = method.evaluate(_model_dir(method, args), args.split, device=args.device, data_dir=args.data_dir,
                              **_load_options(method, args))
    if args.output:
        Path(args.output).write_text(json.dumps(metrics, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {len(metrics)} metrics to {args.output}")
    else:
        print(json.dumps(metrics, indent=1))
    return 0


def _compare_on_graph(method, args) -> int:
    """`evaluate METHOD --graph NAME` without a checkpoint: every checkpoint that applies, ranked on valid."""
    frame, skipped = method.extras["compare_on_graph"](args.graph, split=args.split or "valid", device=args.device,
                                                       data_dir=args.data_dir)
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
    from backend.registry import get_method

    method = get_method(args.method)
    frame = method.predict(_model_dir(method, args), _parse_query(args.query), table=getattr(args, "input", None),
                           device=args.device, data_dir=args.data_dir, **_load_options(method, args))
    for line in frame.attrs.get("problems", []):  # rows of the input that could not be used
        print(f"skipped {line}", file=sys.stderr)
    if args.output:
        frame.to_csv(args.output, index=False)
        print(f"wrote {len(frame)} rows to {args.output}")
    else:
        print(frame.head(args.top).to_string(index=False))
    return 0


def cmd_explain(args) -> int:
    from backend.registry import get_method

    method = get_method(args.method)
    evidence = method.explain(_model_dir(method, args), _query_with_edits(args), device=args.device,
                              data_dir=args.data_dir, **_load_options(method, args))
    if args.output:
        Path(args.output).write_text(evidence.to_json(), encoding="utf-8")
        print(f"wrote evidence ({len(evidence.edges)} edges, {len(evidence.paths)} paths) to {args.output}")
    else:
        print(evidence.title)
        if evidence.paths:
            print(evidence.paths_frame().head(args.top).to_string(index=False))
        for part in evidence.parts:  # formulas, structures, tables (what-if: each answer's rank before and after)
            _print_part(part, args.top)
    return 0


def _print_part(part, top: int) -> None:
    """One evidence part as terminal text: its title, then its formula or table; a picture-only part by name."""
    title = getattr(part, "title", "") or getattr(part, "kind", "part")
    caption = getattr(part, "caption", "")
    print(f"\n{title}" + (f" ({caption})" if caption else "") + ":")
    if getattr(part, "kind", "") == "formula":
        try:
            print(part.to_sympy())
        except Exception:  # noqa: BLE001 - an expression stored as plain text: print it as it is
            print(part.expression or part.latex)
    elif hasattr(part, "to_frame"):
        print(part.to_frame().head(top).to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    elif getattr(part, "kind", "") == "molecules":
        print("\n".join(part.smiles[:top]))
    else:
        print(f"({getattr(part, 'kind', 'part')}: shown on the page and in --output JSON)")


def _query_with_edits(args) -> dict:
    """--query pairs, with the what-if edits of --remove / --add ('head|relation|tail', repeatable)."""
    query = _parse_query(args.query)
    for action in ("remove", "add"):
        if getattr(args, action, None):
            query[action] = list(getattr(args, action))
    return query


def cmd_report(args) -> int:
    """`report METHOD --query ... -o report.html`: one self-contained HTML report (and its JSON twin)."""
    from backend.core.report import method_report
    from backend.registry import get_method

    method = get_method(args.method)
    loaded = method.load(_model_dir(method, args), device=args.device, data_dir=args.data_dir,
                         **_load_options(method, args))
    html_path, json_path = method_report(method, loaded, _query_with_edits(args)).save(args.output)
    print(f"wrote {html_path} and {json_path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from backend.core.tables import QUOTING_RULES, upload_limit_bytes
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
    about = ("make a CSV/TSV of (head, relation, tail) triples a knowledge graph to train and query (split at "
             "random into training, valid and test)")
    p = sub.add_parser("import-graph", help=about,
                       description=f"{about[0].upper()}{about[1:]}. {QUOTING_RULES} Every row is read or listed "
                                   "with its line number and reason; unless --keep-going, one row that cannot be "
                                   "read stops the import before anything is written (exit 2). Files over "
                                   f"{upload_limit_bytes() // 2**20} MB ([server] maxUploadSize in "
                                   ".streamlit/config.toml) are refused.")
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
    p.add_argument("--keep-going", action="store_true",
                   help="import the rows that can be read and list every other one (line and reason) on stderr; "
                        "without it a row that cannot be read (graph or labels) imports nothing")
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
        "search": ("search the method's structures or formulas (resumable: run again to continue)", cmd_search),
        "evaluate": ("evaluate a checkpoint (reproduces its card's metrics)", cmd_evaluate),
        "predict": ("ranked predictions for a query", cmd_predict),
        "explain": ("evidence for a prediction", cmd_explain),
        "report": ("a self-contained HTML report (and JSON) of a prediction, its evidence and its faithfulness",
                   cmd_report),
    }
    for verb, (help_text, func) in verbs.items():
        vp = sub.add_parser(verb, help=help_text)
        msub = vp.add_subparsers(dest="method", required=True, metavar="METHOD")
        for m in METHODS.values():
            if {"train": m.train, "search": m.search}.get(verb, m.load) is None:
                continue
            mp = msub.add_parser(m.name, help=m.task)
            mp.add_argument("--dataset", required=verb in ("train", "search"),
                            help="one of " + ", ".join(m.datasets) + (", or a graph made with import-graph"
                                                                     if m.more_datasets else "")
                            if m.datasets else None)
            mp.add_argument("--device", default=None, help="cpu, cuda, cuda:1 (default: $PARSIMONY_DEVICE or auto)")
            if verb == "search":
                mp.add_argument("--workers", type=int, default=None,
                                help="candidates evaluated at once (local: processes, default 1 = in this process; "
                                     "ray: tasks in flight, default = the cluster's CPUs)")
                mp.add_argument("--executor", choices=["local", "ray"], default="local",
                                help="where candidates train: this machine, or a Ray cluster (pip install ray)")
                mp.add_argument("--ray-address", default=None, metavar="ADDRESS",
                                help="with --executor ray: auto (the cluster `ray start` made here), ray://host:10001, "
                                     "or local (a private cluster; the default)")
                mp.add_argument("--gpus-per-candidate", type=float, default=0.0,
                                help="with --executor ray: GPUs one candidate asks for, so Ray places it on a GPU node")
            if verb in ("train", "search"):
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
                if "graph" in m.capabilities.load_options:
                    mp.add_argument("--graph", default=None, metavar="NAME",
                                    help="reason over this graph made with import-graph instead of the checkpoint's "
                                         "own, without training: triples whose relation the checkpoint does not "
                                         "know are left out" + ("; without --dataset or --model, every checkpoint "
                                                               "that applies, ranked on the graph's valid triples"
                                                               if verb == "evaluate" and "compare_on_graph" in m.extras
                                                               else ""))
            if verb == "evaluate":
                mp.add_argument("--split", default=None, choices=["valid", "test"],
                                help="default: test; valid when --graph compares every checkpoint")
                mp.add_argument("--output", default=None, help="write the metrics (JSON) or the breakdown (CSV) here")
                if m.capabilities.breakdown_by:
                    mp.add_argument("--breakdown", action="store_true",
                                    help=f"the metrics per {m.capabilities.breakdown_by}, one row each")
            if verb in ("predict", "explain"):
                mp.add_argument("--query", nargs="+", default=[], metavar="KEY=VALUE",
                                help="query fields: " + ", ".join(f.name + ("" if f.required else " (optional)")
                                                                  for f in m.capabilities.query))
                mp.add_argument("--output", default=None, help="write CSV (predict) or JSON (explain) here")
                if verb == "predict" and m.capabilities.input_columns:
                    mp.add_argument("--input", default=None, metavar="FILE", help=m.capabilities.input_help)
                mp.add_argument("--top", type=int, default=20)
            if verb == "report":
                mp.add_argument("--query", nargs="+", default=[], metavar="KEY=VALUE",
                                help="query fields: " + ", ".join(f.name for f in m.capabilities.query))
                mp.add_argument("-o", "--output", required=True, help="the HTML file (its JSON twin is written beside)")
            if verb in ("explain", "report") and any(f.kind == "entity" for f in m.capabilities.query):
                for action in ("remove", "add"):
                    mp.add_argument(f"--{action}", action="append", default=[], metavar="'H|R|T'",
                                    help=f"what-if: {action} this fact (head|relation|tail) before answering")
            mp.set_defaults(func=func)
    _add_method_commands(sub, METHODS.values(), taken=set(verbs) | set(sub.choices))
    return parser


def _add_method_commands(sub, methods, taken: set[str]) -> None:
    """The verbs methods declare in ``extras["commands"]`` (backend.core.method.Command): VERB METHOD [flags]."""
    by_verb: dict[str, list] = {}
    for m in methods:
        for verb, command in dict(m.extras.get("commands", {})).items():
            if verb in taken:
                raise ValueError(f"{m.name} declares the command {verb!r}, which the CLI already has")
            by_verb.setdefault(verb, []).append((m, command))
    for verb, entries in sorted(by_verb.items()):
        vp = sub.add_parser(verb, help=" / ".join(dict.fromkeys(c.help for _, c in entries)))
        msub = vp.add_subparsers(dest="method", required=True, metavar="METHOD")
        for m, command in entries:
            mp = msub.add_parser(m.name, help=command.help)
            command.arguments(mp)
            mp.set_defaults(func=command.run)


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
