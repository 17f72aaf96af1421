"""Helpers of the ColdNAS tests: a tiny synthetic cold-start dataset, a guard on test users, a Book-Crossing-format
file generator."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from backend.recsys.common import Episode, RecData


class UsersTouchedError(AssertionError):
    """Raised when code reads the test users while the guard is up."""


class GuardedEpisodes(dict):
    """episodes[split]; reading 'test' raises while ``armed``."""

    armed = True
    touched = 0

    def __getitem__(self, key):
        if key == "test" and self.armed:
            type(self).touched += 1
            raise UsersTouchedError("test users read before the final evaluation")
        return super().__getitem__(key)

    def get(self, key, default=None):
        return self[key] if key in self else default


def tiny_data(n_items: int = 24, n_users: int = 60, seed: int = 0, name: str = "tiny") -> RecData:
    """Two user tastes (likes even items / odd items), binary ratings; 40 train, 10 valid, 10 test users."""
    rng = np.random.default_rng(seed)
    users, items, ratings, episodes = [], [], [], {"train": [], "valid": [], "test": []}
    for u in range(n_users):
        taste = u % 2
        its = rng.choice(n_items, 16, replace=False)
        r = ((its % 2) == taste).astype(np.float32)
        split = "train" if u < 40 else "valid" if u < 50 else "test"
        users += [u] * len(its)
        items += its.tolist()
        ratings += r.tolist()
        episodes[split].append(Episode(u, its[:8], r[:8], its[8:], r[8:]))
    u, i, r = np.array(users), np.array(items), np.array(ratings, dtype=np.float32)
    split_of = np.where(u < 40, "train", np.where(u < 50, "valid", "test"))
    return RecData(
        name=name, rating_min=0.0, rating_max=1.0,
        item_fields={"item": np.arange(n_items)[:, None]}, item_vocab={"item": n_items},
        user_fields={"user": np.zeros((n_users, 1), np.int64)}, user_vocab={"user": 0},
        item_names=[f"Item {k}" for k in range(n_items)], item_keys=[str(100 + k) for k in range(n_items)],
        episodes=episodes, interactions={s: (u[split_of == s], i[split_of == s], r[split_of == s])
                                         for s in ("train", "valid", "test")},
        files={}, split_rule="synthetic", user_feature_note="synthetic users have no features.")


def write_bookcrossing(folder: Path, n_users: int = 40, n_books: int = 30, seed: int = 0) -> dict:
    """A small file set in Book-Crossing's exact format (latin-1, ';', quoted fields, NULL ages, implicit 0 ratings,
    a title with \\" and an HTML entity). Returns what was written (for the assertions)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    lines = ['"User-ID";"Location";"Age"']
    for u in range(1, n_users + 1):
        age = "NULL" if u % 5 == 0 else str(15 + u)
        lines.append(f'"{u}";"münchen, bayern, germany";"{age}"' if u % 3 == 0 else f'"{u}";"nyc, new york, usa";"{age}"')
    (folder / "BX-Users.csv").write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    lines = ['"ISBN";"Book-Title";"Book-Author";"Year-Of-Publication";"Publisher";"Image-URL-S";"Image-URL-M";'
             '"Image-URL-L"']
    titles = []
    for b in range(n_books):
        title = 'The \\"Quoted\\" Book' if b == 0 else ("Cats &amp; Dogs" if b == 1 else f"Book {b}")
        titles.append(title)
        lines.append(f'"{1000 + b:010d}";"{title}";"Author {b % 7}";"{1950 + b}";"Pub {b % 4}";"s";"m";"l"')
    (folder / "BX-Books.csv").write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    lines = ['"User-ID";"ISBN";"Book-Rating"']
    explicit = 0
    for u in range(1, n_users + 1):
        n = 20 if u <= 30 else 5
        for b in rng.choice(n_books, n, replace=False):
            lines.append(f'"{u}";"{1000 + b:010d}";"{int(rng.integers(1, 11))}"')
            explicit += 1
        lines.append(f'"{u}";"{1000 + int(rng.integers(n_books)):010d}";"0"')   # implicit: dropped
    (folder / "BX-Book-Ratings.csv").write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    return {"explicit": explicit, "titles": titles}
