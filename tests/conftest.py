"""Suite-wide settings.

Hypothesis is derandomized by default so that the README's test command (and CI) gives the
same result on every run; set GAUSSDISTILL_HYPOTHESIS_RANDOM=1 to explore new examples
(as a development run should, now and then), and GAUSSDISTILL_HYPOTHESIS_EXAMPLES to raise
the example counts of the property tests that read it.
"""
from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("gaussdistill-fixed", derandomize=True, database=None)
settings.register_profile("gaussdistill-random", derandomize=False, database=None)
RANDOM = bool(os.environ.get("GAUSSDISTILL_HYPOTHESIS_RANDOM"))
settings.load_profile("gaussdistill-random" if RANDOM else "gaussdistill-fixed")
