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

from digest.ranking.text import normalize_text
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
    return arxiv_id(paper_id) or paper_id.strip()


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
    keywords = [_unique([keyword_item(k) for k in p.keywords]) for p in profiles]
    liked = [_known(p.liked, paper_item) for p in profiles]
    disliked = [_known(p.disliked, paper_item) for p in profiles]
    has_kw, has_liked = (np.array([bool(x) for x in lists]) for lists in (keywords, liked))
    share = 1.0 / np.maximum(has_kw.astype(np.float32) + has_liked, 1)  # keywords vs liked
    n = n_items()
    weights = (
        spread_rows(keywords, share, n)
        + spread_rows(liked, share, n)
        + spread_rows(disliked, -DISLIKED_WEIGHT, n)
    )
    personal = has_kw | has_liked | np.array([bool(p.authors or p.categories) for p in profiles])
    return ProfileRows(weights, keywords, liked, personal)


def _unique(items: list[int]) -> list[int]:
    return list(dict.fromkeys(items)) if len(items) > 1 else items


def _known(ids: Sequence[str], paper_item: Callable[[str], int | None]) -> list[int]:
    if not ids:
        return []
    return _unique([i for i in map(paper_item, ids) if i is not None])


def spread_rows(lists: list[list[int]], total: Any, n_columns: int) -> sp.csr_matrix:
    """One row per list: `total` (one for all rows, or one per row) spread evenly over its items."""
    counts = np.fromiter(map(len, lists), int, count=len(lists))
    rows = np.repeat(np.arange(len(lists)), counts)
    cols = np.fromiter((i for items in lists for i in items), int, count=int(counts.sum()))
    per_row = np.broadcast_to(np.asarray(total, np.float32), counts.shape) / np.maximum(counts, 1)
    values = np.repeat(per_row, counts).astype(np.float32)
    return sp.csr_matrix((values, (rows, cols)), shape=(len(lists), n_columns))
