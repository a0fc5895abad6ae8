"""``python -m gaussdistill``: the command line (see :mod:`gaussdistill.cli`)."""

from .cli import main

raise SystemExit(main())
