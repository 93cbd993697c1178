"""``python -m huedb.cli``: the same as the ``huedb`` command."""

import sys

from huedb.cli.main import main

sys.exit(main())
