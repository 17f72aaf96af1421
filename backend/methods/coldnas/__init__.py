"""ColdNAS: user cold-start recommendation with a searched modulation structure (Wu et al., WWW 2023).

A hypernetwork reads a new user's few (item, rating) pairs and produces user-specific vectors that modulate a
predictor MLP at four positions; which operations (max, min, mul, add) run at each position is searched (65,536
structures): a supernet's gates rank the structures, the top k are retrained briefly and compared on validation
users, the best is retrained from scratch and evaluated once on test users.
"""
from __future__ import annotations

from backend.core.method import Capabilities, Command, Method, QueryField

from .config import ColdNASConfig, config_for

DATASETS = ("lastfm", "movielens")


def train(config: ColdNASConfig, progress=None, device=None, data_dir=None):
    from .train import train as _train

    return _train(config, progress, device=device, data_dir=data_dir)


def search(config: ColdNASConfig, progress=None, device=None, data_dir=None, executor=None):
    from .train import search as _search

    return _search(config, progress, device=device, data_dir=data_dir, executor=executor)


def load(model_dir, device=None, data_dir=None):
    from .explain import load as _load

    return _load(model_dir, device=device, data_dir=data_dir)


def _recommend_arguments(parser) -> None:
    parser.add_argument("--dataset", default=None, help="lastfm or movielens (the shipped checkpoint)")
    parser.add_argument("--model", default=None, help="checkpoint folder (default: models/coldnas/<dataset>)")
    parser.add_argument("--ratings", default="", help='"item=rating; item=rating" (names or dataset ids)')
    parser.add_argument("--input", default=None, help="CSV/TSV of a user's ratings: columns item, rating")
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--device", default=None)
    parser.add_argument("--output", default=None, help="write the recommendations (CSV) here")


def _recommend(args) -> int:
    import sys
    from pathlib import Path

    from .config import MODELS

    folder = Path(args.model) if args.model else MODELS / (args.dataset or "lastfm")
    model = load(folder, device=args.device, data_dir=getattr(args, "data_dir", None))
    frame = model.predict({"ratings": args.ratings, "top": args.top},
                          table=Path(args.input) if args.input else None, top=args.top)
    for line in frame.attrs.get("problems", []):
        print(line, file=sys.stderr)
    frame = frame.drop(columns=["index"])
    if args.output:
        frame.to_csv(args.output, index=False)
        print(f"wrote {len(frame)} recommendations to {args.output}")
    else:
        print(frame.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    return 0


CAPABILITIES = Capabilities(
    query=(QueryField("ratings", "Your ratings", "text",
                      help="item=rating pairs separated by ';' (artist or movie names, or the dataset's ids); "
                           "Last.fm: 1 = you listen, 0 = you don't; MovieLens: 1-5 stars"),
           QueryField("item", "Recommendation to explain", "text", required=False,
                      help="explain: the item whose influences are listed (default: the top recommendations)"),
           QueryField("top", "Recommendations", "int", required=False, default=10)),
    input_columns=("item", "rating"),
    input_help="CSV/TSV of one user's ratings: columns item (name or dataset id), rating",
    headline="mse",
    higher_is_better=False,
    breakdown_by="test user",
    evidence="for each recommendation, how much each of your ratings moved it (leave that rating out, re-predict), "
             "and the searched modulation structure",
)

METHOD = Method(
    name="coldnas",
    title="ColdNAS",
    task="Cold-start recommendation with a searched modulation structure",
    explains="The searched modulation structure and how a user's ratings change the advice",
    paper="wu2023coldnas",
    area="recsys",
    datasets=DATASETS,
    capabilities=CAPABILITIES,
    config_for=config_for,
    train=train,
    load=load,
    search=search,
    extras={"commands": {"recommend": Command(help="recommendations for a new user from a few ratings",
                                              arguments=_recommend_arguments, run=_recommend)}},
    page="recsys",
)

__all__ = ["METHOD", "ColdNASConfig", "config_for"]
