"""``python -m common.evidence verify-export EXPORT.zip --key PUBLIC.pem``: see ``common.evidence.cli``."""

import sys

from common.evidence.cli import main

sys.exit(main())
