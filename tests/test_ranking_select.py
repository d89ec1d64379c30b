"""Choosing each row's best columns, the step MMR and query feedback both start from."""

from __future__ import annotations

import numpy as np

from digest.ranking.select import best_columns, mmr_select


def test_best_columns_are_each_rows_highest_in_column_order():
    score = np.random.default_rng(3).random((50, 40), dtype=np.float32)
    expected = np.sort(np.argsort(-score, axis=1, kind="stable")[:, :7], axis=1)
    assert np.array_equal(best_columns(score, 7), expected)


def test_of_values_tied_at_the_cut_the_first_columns_are_taken():
    score = np.array(
        [
            [0.0, 0.0, 0.0, 0.0, 0.0],  # a query that matches nothing
            [0.1, 0.5, 0.1, 0.9, 0.1],
            [-np.inf, 0.2, -np.inf, -np.inf, -np.inf],  # all but one paper blocked
        ],
        np.float32,
    )
    assert best_columns(score, 3).tolist() == [[0, 1, 2], [0, 1, 3], [0, 1, 2]]


def test_blocked_papers_are_never_picked_even_when_too_few_remain():
    score = np.full((1, 12), -np.inf, np.float32)  # more papers than MMR's candidates
    score[0, [1, 4]] = 0.2, 0.4
    picks = mmr_select(score, np.zeros((12, 12), np.float32), 3)
    assert picks.tolist() == [[4, 1, -1]]
