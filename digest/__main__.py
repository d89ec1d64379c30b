"""`python -m digest` is the `digest` command."""

from digest.cli import main

if __name__ == "__main__":  # sender processes re-import this module under another name
    main()
