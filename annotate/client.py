"""Every label-studio-sdk call of the toolkit, behind one small class with time-outs and retries.

Transient failures (connection refused or reset, time-outs, 5xx) are retried with exponential
backoff; 401/403/404 fail at once with a clear message. The token is never part of a message.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
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


class Studio:
    """A Label Studio server reached through the SDK."""

    def __init__(
        self, url: str, token: str, *, timeout: float = 60.0, retries: int = 3, backoff: float = 0.5
    ) -> None:
        self.url = url
        self.retries = retries
        self.backoff = backoff
        self._ls = LabelStudio(base_url=url, api_key=token, timeout=timeout, max_retries=0)

    def __repr__(self) -> str:
        return f"Studio(url={self.url!r})"

    def _call(self, what: str, func: Callable[[], T]) -> T:
        delay = self.backoff
        for attempt in range(self.retries + 1):
            try:
                return func()
            except ApiError as exc:
                code = exc.status_code or 0
                if code in _FATAL:
                    raise StudioError(f"{what}: {_FATAL[code]}") from None
                if code < 500 or attempt == self.retries:
                    raise StudioError(
                        f"{what}: Label Studio answered {code}: {shorten(exc.body, 200)}"
                    ) from None
            except (httpx.TransportError, ConnectionError) as exc:
                if attempt == self.retries:
                    raise StudioError(
                        f"{what}: cannot reach Label Studio at {self.url} ({type(exc).__name__}) "
                        f"after {self.retries + 1} tries"
                    ) from None
            time.sleep(delay)
            delay *= 2
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

    def update_config(self, project_id: int, config: str) -> None:
        self._call("updating config", lambda: self._ls.projects.update(id=project_id, label_config=config))

    # tasks, annotations, predictions
    def export(self, project_id: int) -> bytes:
        """The full JSON export of every task (annotated or not), as the server sent it."""
        return self._call(
            "exporting",
            lambda: b"".join(
                self._ls.projects.exports.download_sync(
                    project_id, download_all_tasks=True, export_type="JSON"
                )
            ),
        )

    def import_tasks(self, project_id: int, tasks: Sequence[dict[str, Any]]) -> list[int]:
        request: Any = list(tasks)
        response: Any = self._call(
            "importing tasks",
            lambda: self._ls.projects.import_tasks(id=project_id, request=request, return_task_ids=True),
        )
        return list(response.task_ids or [])

    def create_prediction(
        self, task_id: int, result: list[dict[str, Any]], model_version: str, score: float
    ) -> int:
        prediction = self._call(
            "creating prediction",
            lambda: self._ls.predictions.create(
                task=task_id, result=result, model_version=model_version, score=score
            ),
        )
        return int(prediction.id or 0)

    def create_annotation(
        self,
        task_id: int,
        result: list[dict[str, Any]],
        *,
        completed_by: int | None = None,
        was_cancelled: bool = False,
    ) -> int:
        kwargs: dict[str, Any] = {"result": result, "was_cancelled": was_cancelled}
        if completed_by is not None:
            kwargs["completed_by"] = completed_by
        annotation = self._call(
            "creating annotation", lambda: self._ls.annotations.create(id=task_id, **kwargs)
        )
        return int(annotation.id or 0)

    # users
    def users(self) -> dict[int, str]:
        """User id -> name shown as annotator (username, else e-mail)."""
        listed: Iterable[Any] = self._call("listing users", lambda: list(self._ls.users.list()))
        return {int(u.id): (u.username or u.email or f"user-{u.id}") for u in listed}

    def create_user(self, username: str, email: str) -> int:
        user = self._call("creating user", lambda: self._ls.users.create(username=username, email=email))
        return int(user.id)
