"""`digest eval` runs the dev-set protocol through `rank()` beside the two baselines."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from digest.cli import cli
from digest.eval import evaluate, load, metrics

DEVSET = Path(__file__).parent / "data" / "rank" / "devset"


def test_the_protocol_scores_every_track_and_the_minor_groups():
    results = evaluate(DEVSET)
    assert sorted(results) == ["keyword/all", "keyword/minor", "liked5/all", "liked5/minor"]
    assert results["keyword/all"]["count"]["n"] == 4
    assert results["keyword/minor"]["digest"]["ndcg"] > 0.5
    assert results["liked5/minor"]["digest"]["hit"] == 1.0
    assert "svm" in results["liked5/all"] and "svm" not in results["keyword/all"]


def test_rankers_never_see_the_labels():
    papers, _ = load(DEVSET)
    assert all(paper.categories == [] for paper in papers)


def test_metrics_of_a_digest():
    got = metrics(["a", "x", "b"], {"a", "b", "c"})
    assert got["p"] == 0.2 and got["hit"] == 1.0 and got["mrr"] == 1.0
    assert 0.7 < got["ndcg"] < 0.8
    assert metrics(["x"], {"a"}) == {"ndcg": 0.0, "p": 0.0, "hit": 0.0, "mrr": 0.0}


def test_the_command_prints_a_table_beside_the_baselines():
    result = CliRunner().invoke(cli, ["eval", "--data", str(DEVSET)])
    assert result.exit_code == 0, result.output
    assert "liked5/minor" in result.output and "nDCG@10" in result.output
    assert "svm" in result.output and "tfidf" in result.output


def test_a_missing_dev_set_is_one_clear_error(tmp_path):
    result = CliRunner().invoke(cli, ["eval", "--data", str(tmp_path)])
    assert result.exit_code != 0
    assert "no relevance dev set in" in result.output
