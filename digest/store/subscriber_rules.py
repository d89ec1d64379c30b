"""What a subscriber may set: limits and formats, checked before anything is stored."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

KINDS = ("keyword", "category", "author", "exclude")
MAX_INTERESTS = 200
MAX_INTEREST_LENGTH = 100
CADENCES = ("daily", "weekly")
CATEGORY_MODES = ("boost", "filter")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_SPLIT = re.compile(r"[,\n;]+")
_LABELS = {
    "keyword": "keywords",
    "category": "categories",
    "author": "authors",
    "exclude": "exclusions",
}


class SubscriberError(ValueError):
    """A change breaks a rule; `field` names the setting, the message is for the user."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def split_list(text: str | Iterable[str] | None) -> list[str]:
    """Split "a, b; c" or lines into trimmed, non-empty items."""
    if text is None:
        return []
    if not isinstance(text, str):
        text = "\n".join(text)
    return [item.strip() for item in _SPLIT.split(text) if item.strip()]


def check_interests(kind: str, values: Iterable[str]) -> list[str]:
    """Trim and de-duplicate (case-insensitively) one kind of interest, enforcing the limits."""
    if kind not in KINDS:
        raise SubscriberError(f"Unknown interest kind {kind!r}.")
    label = _LABELS[kind]
    seen: dict[str, str] = {}
    for raw in values:
        value = " ".join(str(raw).split())
        if not value:
            continue
        if len(value) > MAX_INTEREST_LENGTH:
            raise SubscriberError(
                f"Each of your {label} can be at most {MAX_INTEREST_LENGTH} characters.", kind
            )
        seen.setdefault(value.casefold(), value)
        if len(seen) > MAX_INTERESTS:
            raise SubscriberError(f"At most {MAX_INTERESTS} {label}, please.", kind)
    return list(seen.values())


def parse_weekday(value: int | str) -> int:
    """Accept 0-6 (Monday = 0) or mon..sun."""
    if isinstance(value, str) and value.strip().lower()[:3] in WEEKDAYS:
        return WEEKDAYS.index(value.strip().lower()[:3])
    try:
        day = int(value)
    except (TypeError, ValueError):
        day = -1
    if not 0 <= day <= 6:
        raise SubscriberError("Choose a weekday (Monday to Sunday).", "weekday")
    return day


def _timezone(value: Any) -> str:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        raise SubscriberError("Choose a time zone such as Europe/Berlin.", "timezone") from None
    return str(value)


def _send_time(value: Any) -> str:
    if not _HHMM.match(str(value)):
        raise SubscriberError("Use a time like 07:30 (24-hour clock).", "send_time")
    return str(value)


def _cadence(value: Any) -> str:
    if value not in CADENCES:
        raise SubscriberError("Choose daily or weekly.", "cadence")
    return str(value)


def _category_mode(value: Any) -> str:
    if value not in CATEGORY_MODES:
        raise SubscriberError(
            "Choose whether categories boost papers or filter them.", "category_mode"
        )
    return str(value)


def _number(field: str, low: float, high: float, kind: type) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        try:
            number = kind(value)
        except (TypeError, ValueError):
            number = None
        if number is None or not low <= number <= high:
            raise SubscriberError(f"Use a number from {low:g} to {high:g}.", field)
        return number

    return check


CHECKS: dict[str, Callable[[Any], Any]] = {
    "timezone": _timezone,
    "send_time": _send_time,
    "cadence": _cadence,
    "category_mode": _category_mode,
    "weekday": parse_weekday,
    "max_papers": _number("max_papers", 1, 50, int),
    "trending_weight": _number("trending_weight", 0, 1, float),
    "min_score": _number("min_score", 0, 1, float),
}


def check_settings(fields: dict[str, Any]) -> dict[str, Any]:
    """Validate delivery settings; unknown names are an error, not silently ignored."""
    unknown = set(fields) - set(CHECKS)
    if unknown:
        raise SubscriberError(f"Unknown setting(s): {', '.join(sorted(unknown))}.")
    return {key: CHECKS[key](value) for key, value in fields.items()}
