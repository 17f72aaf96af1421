"""User cold-start recommendation data shared by ColdNAS and its baselines (Last.fm, MovieLens-1M (MeLU),
Book-Crossing): one :class:`RecData` layout whatever the source.

A dataset is items and users described by categorical *fields* (a field is one index per row, or several for a
multi-hot field such as a movie's actors), and users' (item, rating) interactions grouped into *episodes*: a user's
support set (the few ratings a cold user reveals) and query set (the ratings to predict). Every field's vocabulary
has one extra last index, "unknown" (a new user on the page has no demographic features).
"""
from backend.recsys.common import Episode, RecData, load_dataset

__all__ = ["Episode", "RecData", "load_dataset"]
