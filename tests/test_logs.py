"""Log lines: readable text by default, JSON lines when configured, extra fields kept in both."""

from __future__ import annotations

import json
import logging

import pytest

from digest.logs import setup_logging


@pytest.fixture(autouse=True)
def _restore_root_logger():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_carry_level_logger_message_and_extra_fields(capsys):
    setup_logging("INFO", "json")

    logging.getLogger("digest.delivery").warning(
        "delivery %s: retry", 7, extra={"delivery_id": 7, "code": 451}
    )

    line = json.loads(capsys.readouterr().err.strip())
    assert line["level"] == "WARNING"
    assert line["logger"] == "digest.delivery"
    assert line["message"] == "delivery 7: retry"
    assert line["delivery_id"] == 7 and line["code"] == 451
    assert "timestamp" in line and "pid" in line


def test_text_lines_end_with_extra_fields_as_key_value_pairs(capsys):
    setup_logging("INFO", "text")

    logging.getLogger("digest.poll").warning("source stale", extra={"source": "arxiv-cs.LG"})

    line = capsys.readouterr().err.strip()
    assert line.endswith("WARNING digest.poll: source stale source=arxiv-cs.LG")


def test_a_traceback_follows_the_fields_on_its_own_lines(capsys):
    setup_logging("INFO", "text")

    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("digest").exception("tick crashed", extra={"run_id": 3})

    head, _, trace = capsys.readouterr().err.partition("\n")
    assert head.endswith("tick crashed run_id=3")
    assert "ValueError: boom" in trace


def test_the_level_filters_lower_lines(capsys):
    setup_logging("WARNING", "text")

    logging.getLogger("digest").info("hidden")

    assert capsys.readouterr().err == ""
