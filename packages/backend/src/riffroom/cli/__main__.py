"""`python -m riffroom.cli ...`: the same as the `riffroom` script (the tests and the e2e harness use it)."""

import sys

from ..launch import main

sys.exit(main())
