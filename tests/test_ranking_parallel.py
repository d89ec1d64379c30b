"""Ranking on every CPU: forked workers' results arrive in order, and no chunk is ever lost."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from digest.ranking.parallel import ordered_map


def test_results_come_back_in_order_from_every_worker():
    parent = os.getpid()
    got = list(ordered_map(lambda i: (i, os.getpid() == parent), 7, workers=2))
    assert [i for i, _ in got] == list(range(7))
    assert {here for _, here in got} == {True, False}  # both processes did some


def test_a_chunk_whose_worker_fails_is_done_here_instead(caplog):
    parent = os.getpid()

    def fails_in_a_worker(index: int) -> int:
        if os.getpid() != parent:
            raise RuntimeError("worker out of memory")
        return index * 10

    assert list(ordered_map(fails_in_a_worker, 5, workers=2)) == [0, 10, 20, 30, 40]
    assert "ranking worker failed on chunk 1" in caplog.text


def test_a_worker_that_dies_loses_no_chunk():
    parent = os.getpid()

    def dies_in_a_worker(index: int) -> int:
        if os.getpid() != parent:
            os._exit(1)
        return index

    assert list(ordered_map(dies_in_a_worker, 6, workers=2)) == list(range(6))


@pytest.mark.parametrize("workers", [1, 4])
def test_one_task_or_one_worker_runs_here_alone(workers):
    parent = os.getpid()
    assert list(ordered_map(lambda i: os.getpid() == parent, 1, workers)) == [True]


def test_a_daemon_process_ranks_alone_instead_of_failing():
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    daemon = context.Process(
        target=lambda: results.put(list(ordered_map(lambda i: i * 2, 3, workers=2))), daemon=True
    )
    daemon.start()
    assert results.get(timeout=60) == [0, 2, 4]
    daemon.join()


def test_two_threads_mapping_at_once_each_get_their_own_results():
    def run(offset: int) -> list[int]:
        return list(ordered_map(lambda i: i + offset, 4, workers=2))

    with ThreadPoolExecutor(2) as threads:
        first, second = threads.map(run, [0, 100])
    assert first == [0, 1, 2, 3] and second == [100, 101, 102, 103]
