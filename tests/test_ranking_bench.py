"""The ranking bench reports its figures in the shape `digest bench` prints."""

from __future__ import annotations

from digest import bench_ranking


def test_a_quick_bench_reports_every_figure_beside_its_target():
    figures = bench_ranking.run(scale=0.001)
    assert len(figures) == 4
    for figure in figures:
        assert set(figure) == {"name", "value", "unit", "target", "baseline", "ok"}
        assert figure["value"] > 0 and isinstance(figure["ok"], bool)
    assert figures[3]["unit"] == "MB"
