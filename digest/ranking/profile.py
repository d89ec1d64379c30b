"""Profile -> vector: each profile becomes sparse rows of weights over shared query items.

A query item is one keyword, or one liked/disliked paper. Items are vectorized once per call
however many profiles share them; a profile's relevance is then its weights times the items'
similarities to the pool (see `score.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from digest.ranking.features import normalize_text
from digest.sources import arxiv_id

if TYPE_CHECKING:
    from digest.ranking import Profile

LIST_KEYS = ("keywords", "categories", "authors", "exclude", "liked", "disliked")
DISLIKED_WEIGHT = 0.5


def profile_from_mapping(data: Mapping[str, Any], default_id: str) -> dict[str, Any]:
    """Turn a TOML/JSON mapping into `Profile` keyword arguments, accepting `a, b` strings."""
    fields: dict[str, Any] = {"id": str(data.get("id") or default_id)}
    for key in LIST_KEYS:
        fields[key] = as_list(data.get(key, data.get(f"{key}_ids")))
    for key, kind in (("trending_weight", float), ("min_score", float), ("max_papers", int)):
        if data.get(key) is not None:
            fields[key] = _number(key, data[key], kind)
    fields["trending_weight"] = min(1.0, max(0.0, fields.get("trending_weight", 0.2)))
    mode = str(data.get("category_mode") or "boost").lower()
    if mode not in ("boost", "filter"):
        raise ValueError(f"category_mode must be 'boost' or 'filter', not {mode!r}")
    fields["category_mode"] = mode
    return fields


def _number(key: str, value: Any, kind: type) -> Any:
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise ValueError(f"{key} must be a number, not {value!r}") from None


def as_list(value: Any) -> list[str]:
    """A list of non-empty stripped strings from a list or a comma-separated string."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [str(item).strip() for item in items if str(item).strip()]


def author_key(name: str) -> str:
    """'Jane Q. Doe' and 'J. Doe' both become 'j doe': initial and surname."""
    words = normalize_text(name).replace(".", " ").split()
    if not words:
        return ""
    return f"{words[0][0]} {words[-1]}" if len(words) > 1 else words[0]


def paper_key(paper_id: str) -> str:
    """The version-less id, so 2501.00001v2 and 2501.00001 are one paper."""
    return arxiv_id(paper_id) or paper_id.strip().lower()


@dataclass
class ProfileRows:
    """A chunk of profiles as matrices over the query items (rows = profiles)."""

    weights: sp.csr_matrix  # on item similarities: keywords and liked (+), disliked (-)
    keyword_items: list[list[int]]
    liked_items: list[list[int]]
    personal: np.ndarray  # bool: the profile knows something about the subscriber


def profile_rows(
    profiles: Sequence[Profile],
    keyword_item: Callable[[str], int],
    paper_item: Callable[[str], int | None],
    n_items: Callable[[], int],
) -> ProfileRows:
    """Build the weight rows; `*_item` return an item's column, registering it if new."""
    lin: tuple[list[int], list[int], list[float]] = ([], [], [])
    kw_items, liked_items, personal = [], [], []
    for row, profile in enumerate(profiles):
        kws = list(dict.fromkeys(keyword_item(k) for k in profile.keywords))
        liked = _known(profile.liked, paper_item)
        disliked = _known(profile.disliked, paper_item)
        parts = bool(kws) + bool(liked)
        _add(lin, row, kws, 1.0 / max(parts, 1))
        _add(lin, row, liked, 1.0 / max(parts, 1))
        _add(lin, row, disliked, -DISLIKED_WEIGHT)
        kw_items.append(kws)
        liked_items.append(liked)
        personal.append(bool(kws or liked or profile.authors or profile.categories))
    shape = (len(profiles), n_items())
    return ProfileRows(_csr(lin, shape), kw_items, liked_items, np.array(personal, bool))


def _known(ids: Sequence[str], paper_item: Callable[[str], int | None]) -> list[int]:
    items = (paper_item(i) for i in ids)
    return list(dict.fromkeys(i for i in items if i is not None))


def _add(
    triplet: tuple[list[int], list[int], list[float]], row: int, items: list[int], total: float
):
    """Spread `total` evenly over `items` in one profile row."""
    if not items:
        return
    rows, cols, vals = triplet
    rows.extend([row] * len(items))
    cols.extend(items)
    vals.extend([total / len(items)] * len(items))


def _csr(
    triplet: tuple[list[int], list[int], list[float]], shape: tuple[int, int]
) -> sp.csr_matrix:
    rows, cols, vals = triplet
    matrix = sp.csr_matrix((np.array(vals, np.float32), (rows, cols)), shape=shape)
    matrix.sum_duplicates()
    return matrix
