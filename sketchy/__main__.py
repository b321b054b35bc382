"""``python -m sketchy``: the command line (see :mod:`sketchy.cli`)."""

from sketchy.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
