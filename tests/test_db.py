from sqlalchemy import inspect

from digest import db


def test_upgrade_creates_every_table(engine):
    tables = set(inspect(engine).get_table_names())
    assert {"papers", "subscribers", "interests", "deliveries", "runs", "source_state"} <= tables


def test_upgrade_twice_is_harmless(engine):
    db.upgrade(engine)
    assert "papers" in inspect(engine).get_table_names()
