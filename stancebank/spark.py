"""The Spark engine's session: one place that decides where Spark runs and how it is configured.

``--master URL`` (or ``$SPARK_MASTER``) connects to a cluster's master (``spark://…``, ``yarn``,
``k8s://…``); ``$SPARK_REMOTE`` (``sc://host:15002``) connects through Spark Connect; otherwise Spark runs
in this process's machine as ``local[*]``. Python workers run this interpreter (so they import the same
stancebank, pandas and pyarrow). Nothing else in StanceBank imports :mod:`pyspark`: the local engine
needs neither it nor Java.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from schemas.errors import StanceBankError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

ENGINES = ("local", "spark")
#: The driver's JVM heap in local mode unless $STANCEBANK_SPARK_DRIVER_MEMORY says otherwise.
DEFAULT_DRIVER_MEMORY = "2g"


class SparkUnavailableError(StanceBankError, RuntimeError):
    """``--engine spark`` was asked for, but pyspark or Java is missing."""


class SparkJobError(StanceBankError, RuntimeError):
    """A Spark job failed; the message gives the JVM's reason in one line, not its stack trace."""


@contextmanager
def job_errors(what: str) -> Iterator[None]:
    """Turn a failed Spark job (a Py4J/pyspark exception carrying a JVM stack trace) into one clear
    :class:`SparkJobError`; a JVM out of heap says how to give it more."""
    try:
        yield
    except Exception as exc:
        if not type(exc).__module__.startswith(("py4j", "pyspark")):
            raise
        text = str(exc)
        if "OutOfMemoryError" in text:
            memory = os.environ.get("STANCEBANK_SPARK_DRIVER_MEMORY", DEFAULT_DRIVER_MEMORY)
            raise SparkJobError(
                f"{what}: Spark ran out of JVM heap (local mode gives the driver {memory}): set "
                "STANCEBANK_SPARK_DRIVER_MEMORY (e.g. 8g) or run on a cluster with --master"
            ) from None
        reason = next((line.strip() for line in text.splitlines() if line.strip()), type(exc).__name__)
        raise SparkJobError(f"{what}: the Spark job failed: {reason[:300]}") from None


def add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    """``--engine`` and ``--master`` for a subcommand that has a Spark implementation."""
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default="local",
        help="local: this process (no Java needed); spark: Apache Spark (pip install 'stancebank[spark]' "
        "and Java 17)",
    )
    parser.add_argument(
        "--master",
        metavar="URL",
        help="Spark master (spark://host:7077, yarn, k8s://…); default $SPARK_MASTER, or Spark Connect "
        "at $SPARK_REMOTE, or local[*]",
    )


def where(master: str | None = None) -> tuple[str, str]:
    """(kind, address) of the Spark the engine will use: ("master", url), ("remote", url) or
    ("local", "local[*]")."""
    master = master or os.environ.get("SPARK_MASTER")
    if master:
        return "master", master
    remote = os.environ.get("SPARK_REMOTE")
    if remote:
        return "remote", remote
    return "local", "local[*]"


_PANDAS_NOTICE = "PySpark does not yet fully support pandas"
#: Errors only (Spark's default logs its start-up warnings); read by the driver's JVM in local mode.
_LOG4J = Path(__file__).resolve().parent / "templates" / "log4j2.properties"


def _check_java() -> None:
    """Refuse in one line when the Java Spark would start is not there: ``$JAVA_HOME/bin/java`` when
    JAVA_HOME is set (Spark's launcher uses it, and fails with a shell error otherwise), else ``java``."""
    home = os.environ.get("JAVA_HOME")
    java = Path(home) / "bin" / "java" if home else shutil.which("java")
    if java is not None and os.access(java, os.X_OK) and Path(java).is_file():
        return
    where = f"JAVA_HOME={home} has no bin/java" if home else "no java on PATH"
    raise SparkUnavailableError(
        f"--engine spark needs Java 17 ({where}; Debian: apt-get install openjdk-17-jre-headless, which "
        "`make java-deps` runs)"
    )


def session(master: str | None = None, *, app: str = "stancebank") -> SparkSession:
    """A Spark session on ``master``, Spark Connect at ``$SPARK_REMOTE``, or ``local[*]``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # pyspark's notice about pandas 3
            from pyspark.sql import SparkSession
    except ImportError:
        raise SparkUnavailableError(
            "--engine spark needs pyspark: pip install 'stancebank[spark]' (and Java 17)"
        ) from None
    kind, address = where(master)
    if kind != "remote":
        _check_java()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    # pyspark warns about pandas 3 in every Python worker and at every conversion: once is in the README
    warnings.filterwarnings("ignore", _PANDAS_NOTICE, FutureWarning)
    os.environ.setdefault("PYTHONWARNINGS", f"ignore:{_PANDAS_NOTICE}:FutureWarning")
    builder: Any = SparkSession.builder.appName(app)
    builder = builder.remote(address) if kind == "remote" else builder.master(address)
    settings = {
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.showConsoleProgress": "false",
    }
    if kind == "local":
        settings |= {
            "spark.driver.memory": os.environ.get("STANCEBANK_SPARK_DRIVER_MEMORY", DEFAULT_DRIVER_MEMORY),
            "spark.ui.enabled": "false",
            "spark.sql.shuffle.partitions": os.environ.get("STANCEBANK_SPARK_PARTITIONS", "8"),
            "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={_LOG4J.as_uri()}",
        }
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # this machine: no hostname lookup warning
    for key, value in settings.items():
        builder = builder.config(key, value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        spark: SparkSession = builder.getOrCreate()
    if kind != "remote":
        spark.sparkContext.setLogLevel("ERROR")
    return spark
