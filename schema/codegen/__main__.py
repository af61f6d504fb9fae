"""``python -m schema.codegen [OUT]``: regenerate ``clients/`` from the contract."""

import sys

from schema.codegen import main

sys.exit(main())
