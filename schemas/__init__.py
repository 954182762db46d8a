"""StanceBank schemas: the one vocabulary, the table models and the cross-table rules (declarations only).

Submodules load on first use (``schemas.vocabulary`` and ``schemas.errors`` need neither pandas nor
pandera, so the command line starts fast).
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "vocabulary": "schemas.vocabulary",
    "CROSS_TABLE_MODELS": "schemas.crosstable",
    "joined_tables": "schemas.crosstable",
    "prepare_articles": "schemas.crosstable",
    "annotation_tables": "schemas.crosstable",
    "InvalidDataError": "schemas.errors",
    "StanceBankError": "schemas.errors",
    "UnreadableInputError": "schemas.errors",
    "TABLE_MODELS": "schemas.models",
}

__all__ = [
    "CROSS_TABLE_MODELS",
    "TABLE_MODELS",
    "InvalidDataError",
    "StanceBankError",
    "UnreadableInputError",
    "annotation_tables",
    "joined_tables",
    "prepare_articles",
    "vocabulary",
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'schemas' has no attribute {name!r}")
    module = importlib.import_module(_LAZY[name])
    return module if name == "vocabulary" else getattr(module, name)
