"""``python -m mlnb.cli``: the same as the ``mlnb`` console script."""

import sys

from mlnb.cli import main

sys.exit(main())
