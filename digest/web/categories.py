"""The searchable list of arXiv categories on the preferences page."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from markupsafe import Markup

from digest.taxonomy import CATEGORIES


class CategoryList:
    """The checkbox list, rendered once per app from its template; each page only joins rows."""

    def __init__(self, render_row: Callable[..., str]) -> None:
        self._rows = {
            cid: (
                Markup(render_row(cid=cid, name=name, checked=False)),
                Markup(render_row(cid=cid, name=name, checked=True)),
            )
            for cid, name in CATEGORIES
        }

    def html(self, selected: Iterable[str]) -> Markup:
        """The rows with `selected` ticked, unknown ids ignored."""
        chosen = set(selected)
        return Markup("").join(row[cid in chosen] for cid, row in self._rows.items())
