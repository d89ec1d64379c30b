"""Named queries over a passed-in Session, one module per kind of row."""
