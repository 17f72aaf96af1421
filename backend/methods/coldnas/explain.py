"""A loaded ColdNAS checkpoint: recommendations for a new user from a handful of ratings, and evidence you can test
(leave one rating out, re-predict: how much each rated item moved each recommendation)."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from backend.core import store
from backend.core.evidence import Evidence, StructurePart, TablePart
from backend.core.tables import Column, Problem, read_table
from backend.methods.coldnas.model import N_POSITIONS, OPS, decode, describe
from backend.methods.coldnas.train import (Catalog, ColdNASConfig, build, collate, episode_metrics, get_data,
                                           predict_batch, predict_episodes)
from backend.recsys.common import Episode

RATING_COLUMNS = [Column("item", aliases=("name", "artist", "movie", "title", "id", "item_id", "book", "isbn")),
                  Column("rating", aliases=("score", "label", "stars"))]
POSITION_NAMES = ("input embedding", "hidden layer 1", "hidden layer 2", "hidden layer 3")


def parse_ratings_text(text: str) -> list[tuple[int, str, str]]:
    """'Radiohead=1; Coldplay=0' -> [(entry number, item text, rating text)] (separators ';' or new lines)."""
    out = []
    for n, part in enumerate([p for p in re.split(r"[;\n]", text or "") if p.strip()], start=1):
        item, sep, rating = part.rpartition("=")
        out.append((n, item.strip() if sep else part.strip(), rating.strip() if sep else ""))
    return out


class ColdNASModel:
    """``predict(query)`` / ``predict(table=...)`` -> recommendations; ``explain(query)`` -> Evidence;
    ``evaluate(split)`` reproduces the card; ``breakdown(split)`` one row per user."""

    def __init__(self, model_dir, device=None, data_dir=None):
        from backend.core.device import select_device

        self.card = store.load_card(model_dir)
        cfg_dict = dict(self.card.train.get("config", {}))
        self.config = ColdNASConfig(**{k: v for k, v in cfg_dict.items() if k in ColdNASConfig.__dataclass_fields__})
        self.device = select_device(device)
        self.data = get_data(self.card.dataset, data_dir)
        self.cat = Catalog(self.data, self.device)
        self.structure = int(self.card.artefacts["structure"]["code"])
        self.model = build("coldnas", self.data, self.config, self.structure).to(self.device)
        self.model.load_state_dict(store.load_state_dict(model_dir, map_location=self.device))
        self.model.eval()
        names = pd.Series(self.data.item_names)
        self._by_key = {k.casefold(): i for i, k in enumerate(self.data.item_keys)}
        counts = names.str.casefold().value_counts()
        self._by_name = {n.casefold(): i for i, n in enumerate(self.data.item_names) if counts[n.casefold()] == 1}
        short = names.str.replace(r"\s*\(\d{4}\)$", "", regex=True).str.casefold()
        short_counts = short.value_counts()
        self._by_short = {s: i for i, s in enumerate(short) if short_counts[s] == 1 and s not in self._by_name}
        self.rating_min, self.rating_max = self.data.rating_min, self.data.rating_max

    # ------------------------------------------------------------------ inputs
    @property
    def item_names(self) -> list[str]:
        return self.data.item_names

    def rating_help(self) -> str:
        if self.data.name == "lastfm":
            return "1 = you listen to this artist, 0 = you don't"
        return f"a number from {self.rating_min:g} to {self.rating_max:g}"

    def resolve_item(self, text: str) -> int | None:
        """An item's index from its name (case-insensitive; a movie also without its year) or its dataset id."""
        key = str(text).strip().casefold()
        for table in (self._by_name, self._by_key, self._by_short):
            if key in table:
                return table[key]
        return None

    def check_rating(self, text) -> tuple[float | None, str]:
        try:
            value = float(str(text).strip())
        except ValueError:
            return None, "not a number"
        if not np.isfinite(value) or not self.rating_min <= value <= self.rating_max:
            return None, f"outside {self.rating_min:g}..{self.rating_max:g} ({self.rating_help()})"
        return value, ""

    def read_ratings(self, query: dict | None = None, table=None) -> tuple[dict[int, float], list[Problem], str]:
        """{item index: rating} from the query's 'ratings' text or a table (item, rating); the problems (row, column,
        value, reason); a headline. A later row for the same item replaces an earlier one."""
        problems: list[Problem] = []
        if table is not None:
            read = read_table(table, RATING_COLUMNS)
            rows = [(int(r.row), r.item, r.rating) for r in read.rows.itertuples()]
            problems += read.problems
            headline = read.headline()
        else:
            rows = parse_ratings_text(str((query or {}).get("ratings", "")))
            headline = f"{len(rows)} ratings given"
        ratings: dict[int, float] = {}
        for n, item, rating in rows:
            idx = self.resolve_item(item)
            if idx is None:
                problems.append(Problem(n, "item", str(item), f"unknown {self._item_word()} (not in {self.data.name})"))
                continue
            value, why = self.check_rating(rating)
            if value is None:
                problems.append(Problem(n, "rating", str(rating), why))
                continue
            ratings[idx] = value
        return ratings, sorted(problems, key=lambda p: p.row), headline

    def _item_word(self) -> str:
        return {"lastfm": "artist", "movielens": "movie"}.get(self.data.name, "item")

    # ------------------------------------------------------------------ scoring
    @torch.no_grad()
    def score_sets(self, rating_sets: list[dict[int, float]], items: np.ndarray | None = None) -> np.ndarray:
        """Predicted ratings [len(rating_sets), n_items or len(items)] of a new user (unknown features) whose support
        set is each of ``rating_sets``."""
        items = np.arange(self.data.n_items) if items is None else np.asarray(items, dtype=np.int64)
        episodes = [Episode(0, np.array(list(r), dtype=np.int64), np.array(list(r.values()), dtype=np.float32),
                            items, np.zeros(len(items), np.float32)) for r in rating_sets]
        batch = collate(episodes, self.device)
        rows = {k: v.expand(len(episodes), -1) for k, v in self.cat.unknown.items()}
        return predict_batch(self.model, self.cat, batch, user_rows=rows).cpu().numpy()

    def recommend(self, ratings: dict[int, float], top: int = 10) -> pd.DataFrame:
        """The ``top`` unrated items with the highest predicted rating: rank, item, item_id, predicted_rating."""
        scores = self.score_sets([ratings])[0]
        scores_masked = scores.copy()
        scores_masked[list(ratings)] = -np.inf
        order = np.argsort(-scores_masked, kind="stable")[:top]
        return pd.DataFrame({"rank": np.arange(1, len(order) + 1), "item": [self.data.item_names[i] for i in order],
                             "item_id": [self.data.item_keys[i] for i in order], "index": order,
                             "predicted_rating": scores[order].astype(float)})

    def influence(self, ratings: dict[int, float], targets: np.ndarray) -> np.ndarray:
        """[n_rated, n_targets]: prediction with every rating minus the prediction with that one rating left out."""
        keys = list(ratings)
        sets = [ratings] + [{k: v for k, v in ratings.items() if k != leave} for leave in keys]
        scores = self.score_sets(sets, targets)
        return scores[0][None, :] - scores[1:]

    # ------------------------------------------------------------------ verbs
    def predict(self, query: dict | None = None, table=None, progress=None, top: int | None = None) -> pd.DataFrame:
        """Recommendations for a new user from the query's 'ratings' ("item=rating; ...") or a table of (item, rating)
        rows; ``frame.attrs``: problems (lines), problem_rows, sentences, ratings_used."""
        ratings, problems, headline = self.read_ratings(query, table)
        top = int(top or (query or {}).get("top") or 10)
        frame = self.recommend(ratings, top)
        frame.attrs.update(
            problems=([headline + f": {len(ratings)} used"] + [str(p) for p in problems]) if problems else [],
            problem_rows=[vars(p) for p in problems],
            ratings_used={self.data.item_names[i]: v for i, v in ratings.items()},
            sentences=[f"**Top {len(frame)} of {self.data.n_items:,} {self._item_word()}s** for a new user from "
                       f"{len(ratings)} rating(s). {self.data.user_feature_note}"])
        return frame

    def explain(self, query: dict) -> Evidence:
        """For each of the top recommendations: how much each rated item moved its predicted rating (leave that
        rating out, re-predict); the searched modulation structure."""
        ratings, problems, _ = self.read_ratings(query)
        top = int(query.get("top") or 10)
        recs = self.recommend(ratings, top)
        target = query.get("item")
        if target:
            idx = self.resolve_item(target)
            if idx is None:
                raise ValueError(f"unknown {self._item_word()} {target!r}")
            targets = np.array([idx])
        else:
            targets = recs["index"].to_numpy()
        rows = []
        if ratings:
            infl = self.influence(ratings, targets)
            base = self.score_sets([ratings], targets)[0]
            for j, t in enumerate(targets):
                for i, r in enumerate(ratings):
                    rows.append({"recommendation": self.data.item_names[t], "rated item": self.data.item_names[r],
                                 "your rating": ratings[r], "predicted rating": float(base[j]),
                                 "without this rating": float(base[j] - infl[i, j]), "influence": float(infl[i, j])})
        table = TablePart.from_frame(
            pd.DataFrame(rows, columns=["recommendation", "rated item", "your rating", "predicted rating",
                                        "without this rating", "influence"]),
            help={"influence": "predicted rating with every rating minus the predicted rating with this one rating "
                               "left out (re-predicted by the model): > 0 means this rating pushed it up"},
            title="Influence of each rated item", caption="Leave one rating out, re-predict.")
        sentences = []
        if rows:
            frame = table.to_frame()
            first = frame[frame["recommendation"] == self.data.item_names[targets[0]]]
            strongest = first.iloc[first["influence"].abs().argmax()]
            sentences.append(f"{self.data.item_names[targets[0]]} is predicted {first['predicted rating'].iloc[0]:.3f}"
                             f"; the rating that moved it most is {strongest['rated item']} "
                             f"({strongest['influence']:+.3f}).")
        else:
            sentences.append("No rating given: the recommendations are the model's prior for an unknown user.")
        return Evidence("coldnas", "Why these recommendations", sentences=sentences,
                        parts=[table, structure_part(self.structure)])

    def evaluate(self, split: str = "test", progress=None) -> dict:
        episodes = self.data.episodes[split]
        preds = predict_episodes(self.model, self.cat, episodes)
        return episode_metrics(preds, [e.query_ratings for e in episodes])

    def breakdown(self, split: str = "test", progress=None) -> pd.DataFrame:
        episodes = self.data.episodes[split]
        preds = predict_episodes(self.model, self.cat, episodes)
        rows = []
        for e, p in zip(episodes, preds):
            m = episode_metrics([p], [e.query_ratings])
            rows.append({"test user": int(e.user), "support": len(e.support_items), "query": len(e.query_items), **m})
        return pd.DataFrame(rows)


def structure_part(code: int) -> StructurePart:
    ops = decode(code)
    return StructurePart(matrix=[[int(op in ops[k]) for op in OPS] for k in range(N_POSITIONS)],
                         row_labels=list(POSITION_NAMES), column_labels=list(OPS),
                         value_meaning="1 = this modulation is applied at this position of the predictor",
                         value_labels={"1": "✓", "0": ""}, title=f"Searched modulation structure: {describe(code)}",
                         caption="The operations run in the order max, min, mul, add; their parameters come from "
                                 "the hypernetwork reading the user's ratings.")


def load(model_dir, device=None, data_dir=None) -> ColdNASModel:
    return ColdNASModel(Path(model_dir), device=device, data_dir=data_dir)
