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


def _pandera_without_pyspark() -> None:
    """Keep pyspark out of every process that only uses pandas models.

    Whenever pyspark is installed, ``import pandera`` imports ``pyspark.pandas`` (0.2 s, a FutureWarning
    under pandas 3) and pandera registers pyspark's DataFrame types when a model is built. StanceBank's
    models are pandas models — the Spark engine runs them on pandas batches and compiles the rest to
    Spark SQL, it never uses pandera's pyspark API — so pandera is told pyspark is absent: the local
    engine never imports pyspark (a test checks it in a fresh process).
    """
    import sys
    import types

    stubs = {
        "pandera.external_config": ("_set_pyspark_environment_variables", lambda: None),
        "pandera.typing.pyspark": ("PYSPARK_INSTALLED", False),
        "pandera.typing.pyspark_sql": ("PYSPARK_SQL_INSTALLED", False),
    }
    for name, (attribute, value) in stubs.items():
        if name not in sys.modules:
            stub = types.ModuleType(name, "left out by StanceBank: schemas/__init__.py")
            setattr(stub, attribute, value)
            sys.modules[name] = stub


_pandera_without_pyspark()
