"""Last.fm (HetRec 2011, TaNP/ColdNAS episodes) from ``recsys/lastfm/`` of the data root.

Items are artists (3,846; one field, the artist id); users have no features (the user id of a cold user is never
trained, so every user is "unknown": one field whose only value is the unknown slot). Ratings are binary (1 = the
user listened to the artist, 0 = a sampled artist the user did not listen to).

Episodes: 'train' / 'test' are the original fixed episodes (248 / 66: support 20, query the rest); 'valid' = the 35
original validation episodes plus one fixed episode (seed 0: support min(20, ceil(n/2)), query the rest) for every
other validation user with at least 10 interactions, so that selection sees more validation users.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from backend.core.files import sha256_file
from backend.recsys.common import Episode, RecData, group_by_user

FILES = ("episodes.tsv.gz", "items.tsv.gz", "users.tsv.gz", "ratings_final.txt.gz")
VALID_MIN_INTERACTIONS = 10


def load_lastfm(root: Path) -> RecData:
    from backend.core.data import data_file, open_text

    folder = "recsys/lastfm"
    paths = {name: data_file(root, f"{folder}/{name}") for name in FILES}
    with open_text(paths["items.tsv.gz"]) as fh:
        items = pd.read_csv(fh, sep="\t", keep_default_na=False)
    with open_text(paths["users.tsv.gz"]) as fh:
        users = pd.read_csv(fh, sep="\t")
    with open_text(paths["episodes.tsv.gz"]) as fh:
        episodes = pd.read_csv(fh, sep="\t")
    with open_text(paths["ratings_final.txt.gz"]) as fh:
        ratings = pd.read_csv(fh, sep="\t", header=None, names=["user", "item", "label"])
    n_items, n_users = len(items), len(users)
    items = items.sort_values("item")
    split_of = users.set_index("user")["split"]
    ratings["split"] = split_of.reindex(ratings["user"]).to_numpy()
    kept_test = set(items.loc[items["in_train_users"] == 1, "item"])
    # the split dicts: test users lose interactions with items no train user touched (as the original loader does)
    ratings = ratings[(ratings["split"] != "test") | ratings["item"].isin(kept_test)]
    interactions = {s: (g["user"].to_numpy(np.int64), g["item"].to_numpy(np.int64), g["label"].to_numpy(np.float32))
                    for s, g in ratings.groupby("split")}

    def fixed(split: str) -> list[Episode]:
        out = []
        part = episodes[episodes["split"] == split].sort_values(["episode", "role", "position"])
        for _, g in part.groupby("episode", sort=True):
            s, q = g[g["role"] == "support"], g[g["role"] == "query"]
            out.append(Episode(int(g["user"].iloc[0]), s["item"].to_numpy(np.int64), s["label"].to_numpy(np.float32),
                               q["item"].to_numpy(np.int64), q["label"].to_numpy(np.float32)))
        return out

    valid = fixed("valid")
    have = {e.user for e in valid}
    rng = np.random.default_rng(0)
    for user, (its, rts) in sorted(group_by_user(*interactions["valid"]).items()):
        if user in have or len(its) < VALID_MIN_INTERACTIONS:
            continue
        perm = rng.permutation(len(its))
        s = min(20, (len(its) + 1) // 2)
        valid.append(Episode(user, its[perm[:s]], rts[perm[:s]], its[perm[s:]], rts[perm[s:]]))
    return RecData(
        name="lastfm", rating_min=0.0, rating_max=1.0,
        item_fields={"artist": np.arange(n_items, dtype=np.int64)[:, None]}, item_vocab={"artist": n_items},
        user_fields={"user": np.zeros((n_users, 1), dtype=np.int64)}, user_vocab={"user": 0},
        item_names=items["name"].astype(str).tolist(), item_keys=items["hetrec_artist_id"].astype(str).tolist(),
        episodes={"train": fixed("train"), "valid": valid, "test": fixed("test")}, interactions=interactions,
        files={name: sha256_file(p) for name, p in paths.items()},
        split_rule=("TaNP/ColdNAS user split (1,310 train / 187 valid / 375 test users); test = the 66 original "
                    "test episodes (support 20, query 10-36); valid = the 35 original validation episodes plus one "
                    f"fixed episode (seed 0) per other validation user with >= {VALID_MIN_INTERACTIONS} "
                    "interactions; training episodes re-sampled each epoch from every train user's interactions"),
        user_feature_note="Last.fm has no user features: every user, new or not, is 'unknown'.")
