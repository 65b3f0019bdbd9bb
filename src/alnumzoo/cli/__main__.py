"""``python -m alnumzoo.cli``."""

import sys

from alnumzoo.cli import main

sys.exit(main())
