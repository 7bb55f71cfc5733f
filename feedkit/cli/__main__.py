"""`python -m feedkit.cli`: the same command as `feedkit`."""

import sys

from feedkit.cli.main import main

sys.exit(main())
