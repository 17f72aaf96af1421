"""MovieLens-1M as published with MeLU, from ``recsys/movielens_1m_melu/`` of the data root (PARTIAL: only the
1,208 new users' complete histories exist in the mirror; the data may not be redistributed, so the project ships
none of it).

Item fields: the movie id (items are not cold in the user cold-start setting) and, as MeLU ``data_generation.py``: MPAA rate (single), genre, director (parenthesised parts removed), actor
(multi-hot over the vocabularies). User fields: gender, age, occupation, zip (first 5 characters). Ratings 1-5.

User split (MeLU's new-user rule, stated in the cards): a new user's complete history = its rows of
``user_cold_state`` and ``user_and_item_cold_state``; users with 13-100 ratings are eligible (617), shuffled with
seed 0 and split 70 / 10 / 20 % into train / valid / test; their episode: the ratings shuffled (seed 0), query =
the last 10, support = the rest (3-90). The other new users (fewer than 13 or more than 100 ratings) are
training users too. Training episodes are re-sampled each epoch (ColdNAS's trainer: support min(90, ceil(n/2)),
query the rest up to 100).
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from backend.core.files import sha256_file
from backend.recsys.common import RecData, new_user_split, pad_lists

FOLDER = "recsys/movielens_1m_melu"
FILES = ("melu_states.tsv.gz", "users.dat", "movies_extrainfos.dat.gz", "m_rate.txt", "m_genre.txt",
         "m_director.txt", "m_actor.txt", "m_gender.txt", "m_age.txt", "m_occupation.txt", "m_zipcode.txt")
USER_STATES = ("user_cold_state", "user_and_item_cold_state")
MIN_RATINGS, MAX_RATINGS, QUERY = 13, 100, 10


def _vocab(path: Path) -> dict[str, int]:
    from backend.core.data import open_text

    with open_text(path, errors="replace") as fh:
        words = [line.strip() for line in fh if line.strip()]
    return {w: i for i, w in enumerate(dict.fromkeys(words))}


def load_movielens(root: Path) -> RecData:
    from backend.core.data import data_file, open_text

    paths = {name: data_file(root, f"{FOLDER}/{name}") for name in FILES}
    vocabs = {k: _vocab(paths[f"m_{k}.txt"]) for k in ("rate", "genre", "director", "actor", "gender", "age",
                                                         "occupation", "zipcode")}
    with open_text(paths["movies_extrainfos.dat.gz"], encoding="utf-8", errors="replace") as fh:
        rows = [line.rstrip("\r\n").split("::") for line in fh if line.strip()]
    movie_ids = [r[0] for r in rows]
    index_of = {m: i for i, m in enumerate(movie_ids)}
    names = [f"{r[1]} ({r[2]})" for r in rows]

    def multi(text: str, vocab: dict[str, int], clean=lambda x: x) -> list[int]:
        return [vocab[w] for w in (clean(x).strip() for x in str(text).split(", ")) if w in vocab]

    fields = {
        "movie": [[i] for i in range(len(rows))],
        "rate": [[vocabs["rate"][r[3]]] if r[3] in vocabs["rate"] else [] for r in rows],
        "genre": [multi(r[5], vocabs["genre"]) for r in rows],
        "director": [multi(r[6], vocabs["director"], lambda d: re.sub(r"\([^()]*\)", "", d)) for r in rows],
        "actor": [multi(r[8], vocabs["actor"]) for r in rows],
    }
    item_fields = {k: pad_lists(v, len(rows) if k == "movie" else len(vocabs[k])) for k, v in fields.items()}
    item_vocab = {k: len(rows) if k == "movie" else len(vocabs[k]) for k in fields}

    with open_text(paths["users.dat"], encoding="latin-1") as fh:
        users = [line.strip().split("::") for line in fh if line.strip()]
    n_users = max(int(u[0]) for u in users) + 1
    ufields = {"gender": ("gender", 1), "age": ("age", 2), "occupation": ("occupation", 3), "zip": ("zipcode", 4)}
    user_fields, user_vocab = {}, {}
    for name, (vocab_name, col) in ufields.items():
        vocab = vocabs[vocab_name]
        arr = np.full((n_users, 1), len(vocab), dtype=np.int64)   # unknown by default
        for u in users:
            value = u[col][:5] if name == "zip" else u[col]
            arr[int(u[0]), 0] = vocab.get(value, len(vocab))
        user_fields[name], user_vocab[name] = arr, len(vocab)

    with open_text(paths["melu_states.tsv.gz"]) as fh:
        states = pd.read_csv(fh, sep="\t")
    states = states[states["state"].isin(USER_STATES)]
    states = states[states["movie_id"].astype(str).isin(index_of)]
    u_all = states["user_id"].to_numpy(np.int64)
    i_all = states["movie_id"].astype(str).map(index_of).to_numpy(np.int64)
    r_all = states["rating"].to_numpy(np.float32)
    episodes, interactions, eligible = new_user_split(u_all, i_all, r_all, MIN_RATINGS, MAX_RATINGS, QUERY)
    n_train, n_valid, n_users = len(episodes["train"]), len(episodes["valid"]), len(set(u_all.tolist()))
    return RecData(
        name="movielens", rating_min=1.0, rating_max=5.0, item_fields=item_fields, item_vocab=item_vocab,
        user_fields=user_fields, user_vocab=user_vocab, item_names=names, item_keys=movie_ids,
        episodes=episodes, interactions=interactions, files={n: sha256_file(p) for n, p in paths.items()},
        split_rule=(f"MeLU new-user rule on the mirror's 1,208 new users (complete histories = user_cold_state + "
                    f"user_and_item_cold_state): the {len(eligible)} users with {MIN_RATINGS}-{MAX_RATINGS} "
                    f"ratings split 70/10/20 (seed 0) into {n_train} train / {n_valid} valid / "
                    f"{len(episodes['test'])} test episodes (query = 10 random ratings, support = the "
                    f"rest); the other {n_users - len(eligible)} new users are training users too; the 4,832 "
                    "warm users are absent from the mirror (their movie ids are missing)"),
        user_feature_note=("A new user on the page has no demographic features: gender, age, occupation and zip are "
                           "set to 'unknown' (a slot trained by hiding each training user's features with "
                           "probability 0.2)."))
