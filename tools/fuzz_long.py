"""A longer fuzz run of the parsers than CI's 1,000 examples each (same properties).

Run: python tools/fuzz_long.py [EXAMPLES]   (default 20,000 per parser)
"""

from __future__ import annotations

import os
import sys

import pytest

if __name__ == "__main__":
    os.environ["DEEPFIT_FUZZ_EXAMPLES"] = sys.argv[1] if len(sys.argv) > 1 else "20000"
    sys.exit(pytest.main(["tests/unit/test_fuzz_parsers.py", "-q", "-p", "no:cacheprovider"]))
