"""The common layout of a cold-start dataset and the episode helpers."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class Episode:
    """One user's task: support (item ids, ratings) revealed, query (item ids, ratings) to predict."""

    user: int
    support_items: np.ndarray
    support_ratings: np.ndarray
    query_items: np.ndarray
    query_ratings: np.ndarray


@dataclass
class RecData:
    """A cold-start dataset.

    ``item_fields[name]``: int64 [n_items, width] of indices into ``item_vocab[name] + 1`` slots (the last slot is
    "unknown"), -1 pads a multi-hot row; ``user_fields`` likewise [n_users, width]. ``episodes[split]``: the fixed
    episodes of 'train', 'valid', 'test'. ``interactions[split]``: every (user, item, rating) of that split's users
    (int, int, float arrays), from which training episodes are re-sampled and item popularity is counted.
    """

    name: str
    rating_min: float
    rating_max: float
    item_fields: dict[str, np.ndarray]
    item_vocab: dict[str, int]
    user_fields: dict[str, np.ndarray]
    user_vocab: dict[str, int]
    item_names: list[str]
    item_keys: list[str]                     # the source's item ids (artist id, movie id, ISBN)
    episodes: dict[str, list[Episode]]
    interactions: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]
    files: dict[str, str] = field(default_factory=dict)   # data file name -> sha256
    split_rule: str = ""
    user_feature_note: str = ""

    @property
    def n_items(self) -> int:
        return len(self.item_names)

    @property
    def n_users(self) -> int:
        return next(iter(self.user_fields.values())).shape[0] if self.user_fields else 0

    def unknown_user_row(self) -> dict[str, np.ndarray]:
        """The field values of a user with no known features (every field 'unknown'), [1, width] each."""
        rows = {}
        for k, v in self.user_fields.items():
            row = np.full((1, v.shape[1]), -1, dtype=np.int64)
            row[0, 0] = self.user_vocab[k]
            rows[k] = row
        return rows

    def split_users(self, split: str) -> np.ndarray:
        return np.unique(self.interactions[split][0])


def pad_lists(lists: list[list[int]], unknown: int) -> np.ndarray:
    """Ragged index lists -> int64 [n, max_len] padded with -1; an empty list becomes [unknown]."""
    width = max(1, max((len(x) for x in lists), default=1))
    out = np.full((len(lists), width), -1, dtype=np.int64)
    for i, x in enumerate(lists):
        x = x or [unknown]
        out[i, :len(x)] = x
    return out


def group_by_user(users: np.ndarray, items: np.ndarray, ratings: np.ndarray):
    """{user: (items, ratings)} in file order."""
    order = np.argsort(users, kind="stable")
    u, i, r = users[order], items[order], ratings[order]
    bounds = np.flatnonzero(np.diff(u)) + 1
    return {int(uu[0]): (ii, rr) for uu, ii, rr in zip(np.split(u, bounds), np.split(i, bounds), np.split(r, bounds))}


def new_user_split(users: np.ndarray, items: np.ndarray, ratings: np.ndarray, min_ratings: int, max_ratings: int,
                   query: int, seed: int = 0) -> tuple[dict, dict, list]:
    """MeLU's new-user rule: the users with ``min_ratings``-``max_ratings`` ratings split 70/10/20 (seeded), each an
    episode of ``query`` random ratings as query and the rest as support; every other user is a training user.
    Returns (episodes per split, interactions per split, the eligible users)."""
    by_user = group_by_user(users, items, ratings)
    eligible = sorted(u for u, (its, _) in by_user.items() if min_ratings <= len(its) <= max_ratings)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(eligible))
    n_train, n_valid = int(0.7 * len(eligible)), int(0.1 * len(eligible))
    split_of = {u: "train" for u in by_user}
    for k, j in enumerate(order):
        split_of[eligible[j]] = "train" if k < n_train else "valid" if k < n_train + n_valid else "test"
    episodes: dict[str, list[Episode]] = {"train": [], "valid": [], "test": []}
    for u in eligible:
        its, rts = by_user[u]
        perm = rng.permutation(len(its))
        s, q = perm[:-query], perm[-query:]
        episodes[split_of[u]].append(Episode(u, its[s], rts[s], its[q], rts[q]))
    user_split = np.array([split_of[int(u)] for u in users])
    interactions = {k: (users[user_split == k], items[user_split == k], ratings[user_split == k])
                    for k in ("train", "valid", "test")}
    return episodes, interactions, eligible


def sample_episodes(data: RecData, split: str, rng: np.random.Generator, max_support: int = 20,
                    min_interactions: int = 4, max_query: int | None = None,
                    query_size: int | None = None) -> list[Episode]:
    """Fresh random episodes of every user of ``split`` with at least ``min_interactions`` interactions: the
    interactions shuffled, support = the first min(max_support, ceil(n / 2)), query = the rest (at most
    ``max_query``); with ``query_size`` (MeLU's rule) query = the last ``query_size`` and support = at most
    ``max_support`` of the others. Used for training on warm users (a new split each epoch)."""
    out = []
    cache = data.__dict__.setdefault("_grouped", {})
    if split not in cache:
        cache[split] = group_by_user(*data.interactions[split])
    for user, (items, ratings) in cache[split].items():
        n = len(items)
        if n < min_interactions:
            continue
        perm = rng.permutation(n)
        if query_size is not None:
            q, sup = perm[n - query_size:], perm[:n - query_size][:max_support]
        else:
            s = min(max_support, (n + 1) // 2)
            sup = perm[:s]
            q = perm[s:] if max_query is None else perm[s:s + max_query]
        out.append(Episode(user, items[sup], ratings[sup], items[q], ratings[q]))
    return out


def load_dataset(name: str, data_dir: str | Path | None = None) -> RecData:
    """'lastfm', 'movielens' (from the data root) or a Book-Crossing folder ('bookcrossing')."""
    from backend.core.data import resolve_data_root

    root = resolve_data_root(data_dir)
    if name == "lastfm":
        from backend.recsys.lastfm import load_lastfm

        return load_lastfm(root)
    if name == "movielens":
        from backend.recsys.movielens import load_movielens

        return load_movielens(root)
    if name == "bookcrossing":
        from backend.recsys.bookcrossing import load_bookcrossing

        return load_bookcrossing(root / "recsys" / "bookcrossing")
    raise KeyError(f"unknown recommendation dataset {name!r}; known: lastfm, movielens, bookcrossing")
