"""A failed Spark job reaches the user as one line that says what to do, not as a JVM stack trace."""

from __future__ import annotations

import pytest

from stancebank.spark import DEFAULT_DRIVER_MEMORY, SparkJobError, job_errors


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
