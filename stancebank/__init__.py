"""StanceBank: an annotated-dataset toolkit for stance, certainty and source reliability in news."""

__version__ = "0.1.0"

import schemas  # noqa: F401  (first: keeps pyspark out of pandera, see schemas/__init__.py)
