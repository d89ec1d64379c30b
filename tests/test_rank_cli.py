"""`digest rank` keeps its contract (DESIGN section 8): JSON out, one clear line on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from digest.cli import cli

DATA = Path(__file__).parent / "data" / "rank"
PAPERS = str(DATA / "papers.jsonl")


def run(*args: str):
    return CliRunner().invoke(cli, ["rank", *args])


def test_one_profile_gives_a_json_list_of_results():
    result = run(
        "--papers",
        PAPERS,
        "--profile",
        str(DATA / "profile.toml"),
        "--history",
        str(DATA / "history.jsonl"),
        "--top",
        "4",
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert len(rows) == 4
    assert all(set(row) == {"id", "score", "reasons", "above_min"} for row in rows)
    assert rows[0]["id"] == "2501.00003"  # a followed author's paper comes first
    assert "2501.00012" not in [row["id"] for row in rows]  # "quantum" is excluded


def test_many_profiles_give_one_json_line_each():
    result = run("--papers", PAPERS, "--profiles", str(DATA / "profiles.jsonl"), "--top", "3")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["profile"] for line in lines] == ["alice", "bob", "carol", "dave", "erin"]
    assert all(len(line["results"]) == 3 for line in lines)


def test_top_k_ignores_the_minimum_score(tmp_path):
    profile = tmp_path / "strict.json"
    profile.write_text(json.dumps({"keywords": ["robots"], "min_score": 0.99}))
    rows = json.loads(run("--papers", PAPERS, "--profile", str(profile), "--top", "5").output)
    assert len(rows) == 5 and not all(row["above_min"] for row in rows)


def test_papers_without_categories_rank_from_text(tmp_path):
    papers = tmp_path / "bare.jsonl"
    lines = (DATA / "papers.jsonl").read_text().splitlines()
    bare = [{k: v for k, v in json.loads(line).items() if k != "categories"} for line in lines]
    papers.write_text("\n".join(json.dumps(row) for row in bare))
    result = run("--papers", str(papers), "--profile", str(DATA / "profile.toml"), "--top", "2")
    assert result.exit_code == 0, result.output


def test_an_empty_papers_file_is_an_empty_day(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = run("--papers", str(empty), "--profile", str(DATA / "profile.toml"))
    assert result.exit_code == 0 and json.loads(result.output) == []


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.toml", "keywords = [unclosed", "not valid TOML"),
        ("bad.json", "[1, 2]", "a profile must be an object"),
        ("mode.toml", 'category_mode = "sometimes"', "category_mode must be"),
    ],
)
def test_a_bad_profile_file_is_one_clear_error(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    result = run("--papers", PAPERS, "--profile", str(path))
    assert result.exit_code != 0
    assert message in result.output and "Traceback" not in result.output


def test_a_bad_profiles_line_names_its_number(tmp_path):
    path = tmp_path / "profiles.jsonl"
    path.write_text('{"id": "a"}\nnot json\n')
    result = run("--papers", PAPERS, "--profiles", str(path))
    assert result.exit_code != 0 and "line 2: malformed JSON" in result.output


def test_a_missing_or_unreadable_papers_file_is_one_clear_error(tmp_path):
    missing = run("--papers", str(tmp_path / "none.jsonl"), "--profile", str(DATA / "profile.toml"))
    assert missing.exit_code != 0 and "cannot read" in missing.output
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text("this is not json\n")
    bad = run("--papers", str(garbage), "--profile", str(DATA / "profile.toml"))
    assert bad.exit_code != 0 and "no papers in file" in bad.output


def test_exactly_one_of_profile_or_profiles_is_required():
    assert run("--papers", PAPERS).exit_code != 0
    both = run("--papers", PAPERS, "--profile", "a.toml", "--profiles", "b.jsonl")
    assert both.exit_code != 0 and "exactly one of --profile or --profiles" in both.output
