"""``python -m simulator.cli``: the same as the ``kubesim`` command."""

import sys

from . import main

sys.exit(main())
