"""Book-Crossing (Ziegler et al. 2005), ColdNAS's third dataset. Not in the data mirror: its public URL and format
are in backend/core/catalog.json (areas.recsys.unmirrored); unzip BX-CSV-Dump.zip into
``<data root>/recsys/bookcrossing/``.

Files: ``BX-Users.csv`` ("User-ID";"Location";"Age"), ``BX-Books.csv`` ("ISBN";"Book-Title";"Book-Author";
"Year-Of-Publication";"Publisher";"Image-URL-S";"Image-URL-M";"Image-URL-L"), ``BX-Book-Ratings.csv``
("User-ID";"ISBN";"Book-Rating"): ';'-separated, every field quoted, ISO-8859-1, a header line; titles may hold
backslash-escaped quotes (\\") and HTML entities (&amp;).

As ColdNAS's config suggests: item fields author, publisher, publication-year bucket (12); user fields age bucket
(10) and location; explicit ratings 1-10 only (0 = implicit, dropped). Episodes by MeLU's rule (users with 13-100
explicit ratings, query 10, the rest support), users split 70/10/20 with seed 0; other users are training users.
"""
from __future__ import annotations

import html
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd

from backend.core.files import sha256_file
from backend.recsys.common import RecData, new_user_split

FILES = ("BX-Users.csv", "BX-Books.csv", "BX-Book-Ratings.csv")
YEAR_EDGES = (1900, 1950, 1960, 1970, 1980, 1985, 1990, 1993, 1996, 1999, 2002)   # -> 12 buckets (0 = before 1900)
AGE_EDGES = (10, 18, 25, 30, 35, 40, 45, 50, 60)                                  # -> 10 buckets
MIN_RATINGS, MAX_RATINGS, QUERY = 13, 100, 10


def source() -> dict:
    """The catalog's entry for Book-Crossing (public URL, files, format)."""
    from backend.core.data import CATALOG_PATH

    raw = json.loads(Path(CATALOG_PATH).read_text(encoding="utf-8"))
    return next(e for e in raw["areas"]["recsys"]["unmirrored"] if e["name"] == "bookcrossing")


def read_bx_csv(path: Path) -> pd.DataFrame:
    """One BX CSV as strings: latin-1, ';', quoted fields, \\" escapes, HTML entities unescaped."""
    text = path.read_bytes().decode("latin-1").replace('\\"', '""')
    frame = pd.read_csv(io.StringIO(text), sep=";", quotechar='"', dtype=str, keep_default_na=False,
                        on_bad_lines="skip", engine="python")
    return frame.apply(lambda col: col.map(html.unescape))


def _missing(folder: Path) -> list[str]:
    return [f for f in FILES if not (folder / f).is_file()]


def load_bookcrossing(folder: Path) -> RecData:
    folder = Path(folder)
    missing = _missing(folder)
    if missing:
        from backend.core.data import DataMissingError

        src = source()
        raise DataMissingError(f"Book-Crossing is not in the data mirror: {', '.join(missing)} missing under {folder}; "
                               f"download {src['url']} and unzip its three CSVs there ({src['format']})")
    users = read_bx_csv(folder / "BX-Users.csv")
    books = read_bx_csv(folder / "BX-Books.csv")
    ratings = read_bx_csv(folder / "BX-Book-Ratings.csv")
    ratings["Book-Rating"] = pd.to_numeric(ratings["Book-Rating"], errors="coerce")
    ratings = ratings[ratings["Book-Rating"].between(1, 10) & ratings["ISBN"].isin(set(books["ISBN"]))]
    isbn_index = {isbn: i for i, isbn in enumerate(books["ISBN"])}
    authors = {a: i for i, a in enumerate(sorted(set(books["Book-Author"])))}
    publishers = {p: i for i, p in enumerate(sorted(set(books["Publisher"])))}
    year = pd.to_numeric(books["Year-Of-Publication"], errors="coerce").fillna(0).to_numpy()
    item_fields = {"author": books["Book-Author"].map(authors).to_numpy(np.int64)[:, None],
                   "publisher": books["Publisher"].map(publishers).to_numpy(np.int64)[:, None],
                   "year": np.digitize(year, YEAR_EDGES).astype(np.int64)[:, None]}
    item_vocab = {"author": len(authors), "publisher": len(publishers), "year": len(YEAR_EDGES) + 1}
    user_ids = pd.to_numeric(users["User-ID"], errors="coerce").fillna(-1).astype(int).to_numpy()
    n_users = int(max(user_ids.max(initial=0), pd.to_numeric(ratings["User-ID"]).max() if len(ratings) else 0)) + 1
    locations = {loc: i for i, loc in enumerate(sorted(set(users["Location"])))}
    age = pd.to_numeric(users["Age"], errors="coerce")                 # "NULL" -> NaN -> unknown
    age_idx = np.where(age.isna(), len(AGE_EDGES) + 1, np.digitize(age.fillna(0), AGE_EDGES)).astype(np.int64)
    user_fields = {"age": np.full((n_users, 1), len(AGE_EDGES) + 1, np.int64),
                   "location": np.full((n_users, 1), len(locations), np.int64)}
    ok = user_ids >= 0
    user_fields["age"][user_ids[ok], 0] = age_idx[ok]
    user_fields["location"][user_ids[ok], 0] = users["Location"].map(locations).to_numpy(np.int64)[ok]
    user_vocab = {"age": len(AGE_EDGES) + 1, "location": len(locations)}

    u_all = pd.to_numeric(ratings["User-ID"]).to_numpy(np.int64)
    i_all = ratings["ISBN"].map(isbn_index).to_numpy(np.int64)
    r_all = ratings["Book-Rating"].to_numpy(np.float32)
    episodes, interactions, _ = new_user_split(u_all, i_all, r_all, MIN_RATINGS, MAX_RATINGS, QUERY)
    return RecData(
        name="bookcrossing", rating_min=1.0, rating_max=10.0, item_fields=item_fields, item_vocab=item_vocab,
        user_fields=user_fields, user_vocab=user_vocab,
        item_names=[f"{t} ({a})" for t, a in zip(books["Book-Title"], books["Book-Author"])],
        item_keys=books["ISBN"].tolist(), episodes=episodes, interactions=interactions,
        files={f: sha256_file(folder / f) for f in FILES},
        split_rule=(f"explicit ratings 1-10; users with {MIN_RATINGS}-{MAX_RATINGS} ratings split 70/10/20 (seed 0), "
                    "query 10, support the rest; other users train"),
        user_feature_note="A new user has no age or location: both are 'unknown'.")
