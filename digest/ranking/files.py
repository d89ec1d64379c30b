"""The files `digest rank` reads and the JSON it writes (contract: DESIGN section 8)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from digest.ranking import Profile, Ranked
from digest.sources import PaperIn, ParseError
from digest.sources.jsonl import parse_lines


class RankInputError(Exception):
    """A papers or profile file that cannot be used; the message names the file and why."""


def load_papers(path: Path) -> list[PaperIn]:
    """Papers from a JSON lines file; an empty file is an empty day, not an error."""
    data = _read(path)
    if not data.strip():
        return []
    try:
        return parse_lines(data).papers
    except ParseError as exc:
        raise RankInputError(f"{path}: {exc}") from None


def load_profile(path: Path) -> Profile:
    """One profile from a TOML file (top-level keys or a [profile] table) or a JSON object."""
    text = _read(path).decode("utf-8", errors="replace")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise RankInputError(f"{path}: not valid {_kind(path)} ({exc})") from None
    if isinstance(data, dict) and isinstance(data.get("profile"), dict):
        data = data["profile"]
    return _profile(data, path, path.stem)


def load_profiles(path: Path) -> list[Profile]:
    """Profiles from JSON lines, one object per line with an `id` and the profile keys."""
    profiles = []
    lines = _read(path).decode("utf-8", errors="replace").splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError as exc:
            raise RankInputError(f"{path} line {number}: malformed JSON ({exc})") from None
        profiles.append(_profile(data, path, f"line-{number}", number))
    return profiles


def result_rows(ranked: list[Ranked]) -> list[dict[str, Any]]:
    """The contract's JSON shape of one profile's ranking."""
    return [
        {"id": r.id, "score": r.score, "reasons": r.reasons, "above_min": r.above_min}
        for r in ranked
    ]


def _profile(data: Any, path: Path, default_id: str, line: int | None = None) -> Profile:
    where = f"{path} line {line}" if line else str(path)
    if not isinstance(data, dict):
        raise RankInputError(f"{where}: a profile must be an object of keys")
    try:
        return Profile.from_mapping(data, default_id)
    except (TypeError, ValueError) as exc:
        raise RankInputError(f"{where}: {exc}") from None


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise RankInputError(f"cannot read {path}: {exc.strerror or exc}") from None


def _kind(path: Path) -> str:
    return "JSON" if path.suffix.lower() == ".json" else "TOML"
