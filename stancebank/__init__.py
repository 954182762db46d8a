"""StanceBank: an annotated-dataset toolkit for stance, certainty and source reliability in news."""

__version__ = "0.1.0"
