"""Every label-studio-sdk call of the toolkit, behind one small class with time-outs and retries.

Transient failures (connection refused or reset, time-outs, 5xx) are retried with exponential
backoff; 401/403/404 fail at once with a clear message. The token is never part of a message.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import httpx
from label_studio_sdk import LabelStudio
from label_studio_sdk.core.api_error import ApiError

from annotate.server import StudioError
from stancebank.corpus import shorten

T = TypeVar("T")
_FATAL = {
    401: "the API token was refused (401): check LABEL_STUDIO_API_KEY or .studio/credentials.json",
    403: "the API token may not do this (403)",
    404: "not found (404): wrong URL, or the project/task does not exist",
}


class _Transient(StudioError):
    """A failure worth another try (connection refused or reset, time-out, 5xx)."""


class Studio:
    """A Label Studio server reached through the SDK."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = 60.0,
        retries: int = 3,
        backoff: float = 0.5,
        export_timeout: float = 600.0,
    ) -> None:
        self.url = url
        self.retries = retries
        self.backoff = backoff
        # an export grows with the project: it gets its own, longer time-out than the small calls
        self.export_timeout = int(max(timeout, export_timeout))
        self.resent = 0  # how many creating calls were tried again (push then checks for duplicates)
        self._ls = LabelStudio(base_url=url, api_key=token, timeout=timeout, max_retries=0)

    def __repr__(self) -> str:
        return f"Studio(url={self.url!r})"

    def _once(self, what: str, func: Callable[[], T]) -> T:
        """One try: fatal answers raise StudioError, transient failures raise _Transient."""
        try:
            return func()
        except ApiError as exc:
            code = exc.status_code or 0
            if code in _FATAL:
                raise StudioError(f"{what}: {_FATAL[code]}") from None
            message = f"{what}: Label Studio answered {code}: {shorten(exc.body, 200)}"
            if code < 500:
                raise StudioError(message) from None
            raise _Transient(message) from None
        except json.JSONDecodeError:  # an empty or cut-off answer: the server stopped mid-response
            raise _Transient(
                f"{what}: Label Studio's answer at {self.url} was empty or cut off (did the server stop?) "
                f"after {self.retries + 1} tries"
            ) from None
        except (httpx.TransportError, ConnectionError) as exc:
            raise _Transient(
                f"{what}: cannot reach Label Studio at {self.url} ({type(exc).__name__}) "
                f"after {self.retries + 1} tries"
            ) from None

    def _call(self, what: str, func: Callable[[], T]) -> T:
        """An idempotent call (a read, or an update to a fixed value): simply tried again."""
        delay = self.backoff
        for attempt in range(self.retries + 1):
            try:
                return self._once(what, func)
            except _Transient as exc:
                if attempt == self.retries:
                    raise StudioError(str(exc)) from None
            time.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    def _create(self, what: str, send: Callable[[], T], arrived: Callable[[], T | None]) -> T:
        """A call that creates something, so is not idempotent: a request that timed out may well have
        landed. Before each retry ask the server (``arrived``) whether it did; send again only if not."""
        delay = self.backoff
        for attempt in range(self.retries + 1):
            if attempt:
                self.resent += 1
                time.sleep(delay)
                delay *= 2
                found = self._call(f"{what} (checking what arrived)", arrived)
                if found is not None:
                    return found
            try:
                return self._once(what, send)
            except _Transient as exc:
                if attempt == self.retries:
                    raise StudioError(str(exc)) from None
        raise AssertionError("unreachable")

    # projects
    def find_project(self, title: str) -> dict[str, Any] | None:
        def find() -> dict[str, Any] | None:
            listed: Iterable[Any] = self._ls.projects.list(title=title)
            for project in listed:
                if project.title == title:
                    return {"id": project.id, "label_config": project.label_config}
            return None

        return self._call(f"finding project {title!r}", find)

    def create_project(self, title: str, config: str) -> int:
        project = self._call(
            "creating project", lambda: self._ls.projects.create(title=title, label_config=config)
        )
        assert project.id is not None
        return int(project.id)

    def project(self, project_id: int) -> dict[str, Any]:
        project = self._call("reading project", lambda: self._ls.projects.get(id=project_id))
        return {"id": project.id, "title": project.title, "label_config": project.label_config}

    def set_model_version(self, project_id: int, model_version: str) -> None:
        """Make the labelling screen pre-fill tasks with the predictions of ``model_version``."""
        self._call(
            "setting the model version",
            lambda: self._ls.projects.update(id=project_id, model_version=model_version),
        )

    def update_config(self, project_id: int, config: str) -> None:
        self._call("updating config", lambda: self._ls.projects.update(id=project_id, label_config=config))

    # tasks, annotations, predictions
    def export(self, project_id: int) -> bytes:
        """The full JSON export of every task (annotated or not), as the server sent it."""
        return self._call(
            "exporting",
            lambda: b"".join(
                self._ls.projects.exports.download_sync(
                    project_id,
                    download_all_tasks=True,
                    export_type="JSON",
                    request_options={"timeout_in_seconds": self.export_timeout},
                )
            ),
        )

    def export_to(self, project_id: int, folder: Path) -> Path:
        """The full JSON export streamed to a new temp file in ``folder`` (chunk by chunk: never whole
        in memory), its bytes exactly as the server sent them. A failed try leaves no file behind."""

        def download() -> Path:
            fd, name = tempfile.mkstemp(prefix=".export.", suffix=".tmp", dir=folder)
            try:
                with os.fdopen(fd, "wb") as handle:
                    for chunk in self._ls.projects.exports.download_sync(
                        project_id,
                        download_all_tasks=True,
                        export_type="JSON",
                        request_options={"timeout_in_seconds": self.export_timeout},
                    ):
                        handle.write(chunk)
            except BaseException:
                Path(name).unlink(missing_ok=True)
                raise
            return Path(name)

        return self._call("exporting", download)

    def task_keys(self, project_id: int) -> dict[str, list[int]]:
        """task_key -> ids of the tasks carrying it (more than one would be a duplicate)."""
        keys: dict[str, list[int]] = {}
        for task in json.loads(self.export(project_id)):
            data = task.get("data") if isinstance(task, dict) else None
            if isinstance(data, dict) and isinstance(data.get("task_key"), str):
                keys.setdefault(data["task_key"], []).append(int(task["id"]))
        return keys

    def import_tasks(self, project_id: int, tasks: Sequence[dict[str, Any]]) -> list[int]:
        """Import tasks, each exactly once: every task carries its stable ``data.task_key``; after a
        failed try, the keys already in the project are listed and only the missing tasks are sent
        again. Returns the task ids, in the order of ``tasks``."""
        keys = [str(t["data"]["task_key"]) for t in tasks]
        if len(set(keys)) != len(keys):
            raise StudioError("importing tasks: the batch holds the same task_key twice")
        ids: dict[str, int] = {}
        pending = list(tasks)
        delay = self.backoff
        for attempt in range(self.retries + 1):
            if attempt:
                self.resent += 1
                time.sleep(delay)
                delay *= 2
                present = self.task_keys(project_id)  # a read (the export), retried on its own
                ids.update({k: present[k][0] for k in keys if k in present})
                pending = [t for t in pending if t["data"]["task_key"] not in ids]
                if not pending:
                    break
            request: Any = list(pending)
            try:
                response: Any = self._once(
                    "importing tasks",
                    lambda request=request: self._ls.projects.import_tasks(  # type: ignore[misc]
                        id=project_id, request=request, return_task_ids=True
                    ),
                )
            except _Transient as exc:
                if attempt == self.retries:
                    raise StudioError(str(exc)) from None
                continue
            ids.update(zip((t["data"]["task_key"] for t in pending), response.task_ids or [], strict=False))
            break
        return [ids[k] for k in keys if k in ids]

    def delete_task(self, task_id: int) -> None:
        self._call("deleting task", lambda: self._ls.tasks.delete(id=str(task_id)))

    def create_prediction(
        self, task_id: int, result: list[dict[str, Any]], model_version: str, score: float
    ) -> int:
        """Create a prediction once: a retry first looks for the same prediction on the task."""
        before = set(self._call("listing predictions", lambda: self._prediction_ids(task_id)))

        def arrived() -> int | None:
            for p in self._ls.predictions.list(task=task_id):
                if p.id not in before and p.model_version == model_version and _same(p.result, result):
                    return int(p.id or 0)
            return None

        def send() -> int:
            prediction = self._ls.predictions.create(
                task=task_id, result=result, model_version=model_version, score=score
            )
            return int(prediction.id or 0)

        return self._create("creating prediction", send, arrived)

    def create_annotation(
        self,
        task_id: int,
        result: list[dict[str, Any]],
        *,
        completed_by: int | None = None,
        was_cancelled: bool = False,
    ) -> int:
        """Create an annotation once: a retry first looks for the same annotation on the task."""
        kwargs: dict[str, Any] = {"result": result, "was_cancelled": was_cancelled}
        if completed_by is not None:
            kwargs["completed_by"] = completed_by
        before = set(self._call("listing annotations", lambda: self._annotation_ids(task_id)))

        def arrived() -> int | None:
            for a in self._ls.annotations.list(id=task_id):
                if a.id not in before and _same(a.result, result):
                    return int(a.id or 0)
            return None

        def send() -> int:
            return int(self._ls.annotations.create(id=task_id, **kwargs).id or 0)

        return self._create("creating annotation", send, arrived)

    def _prediction_ids(self, task_id: int) -> list[int]:
        return [int(p.id or 0) for p in self._ls.predictions.list(task=task_id)]

    def _annotation_ids(self, task_id: int) -> list[int]:
        return [int(a.id or 0) for a in self._ls.annotations.list(id=task_id)]

    # users
    def users(self) -> dict[int, str]:
        """User id -> name shown as annotator (username, else e-mail)."""
        listed: Iterable[Any] = self._call("listing users", lambda: list(self._ls.users.list()))
        return {int(u.id): (u.username or u.email or f"user-{u.id}") for u in listed}

    def create_user(self, username: str, email: str) -> int:
        user = self._call("creating user", lambda: self._ls.users.create(username=username, email=email))
        return int(user.id)


def _same(stored: Any, sent: list[dict[str, Any]]) -> bool:
    """The server's copy of a result equals what we sent (it may add keys such as ``origin``)."""
    if not isinstance(stored, list) or len(stored) != len(sent):
        return False
    return all(
        isinstance(a, dict) and all(a.get(k) == v for k, v in b.items())
        for a, b in zip(stored, sent, strict=True)
    )
