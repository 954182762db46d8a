"""A failed Spark job reaches the user as one line that says what to do, not as a JVM stack trace."""

from __future__ import annotations

from pathlib import Path

import pytest

from stancebank.cli import main
from stancebank.spark import (
    DEFAULT_DRIVER_MEMORY,
    SparkJobError,
    SparkUnavailableError,
    _check_java,
    job_errors,
)
from tests.shipped import DATA


def _jvm_error(text: str) -> Exception:
    error_type = type("Py4JJavaError", (Exception,), {"__module__": "py4j.protocol"})
    return error_type(text)


def test_out_of_heap_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STANCEBANK_SPARK_DRIVER_MEMORY", raising=False)
    trace = "An error occurred while calling o501.collect.\n: org.apache.spark.SparkException: Job aborted"
    with pytest.raises(SparkJobError) as caught, job_errors("validate --engine spark"):
        raise _jvm_error(trace + "\njava.lang.OutOfMemoryError: Java heap space\n\tat org.apache…")
    message = str(caught.value)
    assert message.startswith("validate --engine spark: Spark ran out of JVM heap")
    assert f"gives the driver {DEFAULT_DRIVER_MEMORY}" in message
    assert "STANCEBANK_SPARK_DRIVER_MEMORY" in message and "\n" not in message


def test_another_job_failure_gives_its_first_line() -> None:
    with (
        pytest.raises(
            SparkJobError, match=r"^export --engine spark: the Spark job failed: An error occurred"
        ),
        job_errors("export --engine spark"),
    ):
        raise _jvm_error("An error occurred while calling o7.save.\n\tat org.apache.spark…")


def test_errors_of_our_own_pass_through() -> None:
    with pytest.raises(ValueError, match="ours"), job_errors("export --engine spark"):
        raise ValueError("ours")


def test_a_java_home_without_java_is_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Spark's launcher answers a JAVA_HOME without Java with a shell error and a Py4J one; the engine
    says what is missing before starting it (exit 2, nothing else printed)."""
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "nowhere"))
    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    monkeypatch.delenv("SPARK_MASTER", raising=False)
    assert main(["validate", str(DATA), "--engine", "spark"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"stancebank: error: --engine spark needs Java 17 (JAVA_HOME={tmp_path / 'nowhere'} has no "
        "bin/java; Debian: apt-get install openjdk-17-jre-headless, which `make java-deps` runs)"
    )


def test_no_java_on_the_path_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "")
    with pytest.raises(SparkUnavailableError, match=r"needs Java 17 \(no java on PATH;"):
        _check_java()
