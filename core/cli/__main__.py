"""``python -m core.cli``: the same as the ``sfm`` command."""

import sys

from . import main

sys.exit(main())
