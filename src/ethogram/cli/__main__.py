"""``python -m ethogram.cli``: the same as the ``ethogram`` command."""

import sys

from . import main

sys.exit(main())
