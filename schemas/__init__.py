"""StanceBank schemas: the one vocabulary, the table models and the cross-table rules (declarations only)."""

from schemas import vocabulary
from schemas.crosstable import CROSS_TABLE_MODELS, joined_tables
from schemas.errors import InvalidDataError, StanceBankError, UnreadableInputError
from schemas.models import TABLE_MODELS

__all__ = [
    "CROSS_TABLE_MODELS",
    "TABLE_MODELS",
    "InvalidDataError",
    "StanceBankError",
    "UnreadableInputError",
    "joined_tables",
    "vocabulary",
]
