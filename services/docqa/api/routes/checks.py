"""The operators' consistency check (``docqa check``) through the API, for admin keys.

A check streams through whole collections (a million chunks), so it is a job the worker runs:
``POST /admin/checks`` queues one (202, its URL in ``Location``) and ``GET /admin/checks/{id}``
says its state (queued, running, done, failed), where it has got to, and once done the report
``docqa check --json`` prints. Reports are kept a week in the queue's Redis (404 after). Every
route here wants an admin key (403 for any other; with no keys configured the service is open).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response

from docqa.api.deps import ChecksDep, PrincipalDep
from docqa.api.problems import responses
from docqa.api.schemas.checks import CheckOut, CheckProgress, CheckReport, CheckRequest
from docqa.core.logs import request_id
from docqa.core.ports import CheckView

CheckId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="The check's id")]


def _admin(caller: PrincipalDep) -> None:
    caller.require_access("admin")  # before the body is read


router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(_admin)])

_ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: {
        "description": "Queued for the worker",
        "headers": {
            "Location": {
                "description": "The check's URL, /admin/checks/{id}",
                "schema": {"type": "string"},
            }
        },
    }
}


@router.post(
    "/checks",
    status_code=202,
    operation_id="start_check",
    summary="Queue a check that the catalog, Chroma and the keyword index agree (and repair)",
    responses=_ACCEPTED | responses(401, 403, 413, 422, 429, 503),
)
def start_check(body: CheckRequest, checks: ChecksDep, response: Response) -> CheckOut:
    collections = None if body.collection is None else [body.collection]
    view = checks.start(collections, body.repair, request_id.get())
    response.headers["Location"] = f"/admin/checks/{view.id}"
    return _out(view)


@router.get(
    "/checks/{check_id}",
    operation_id="get_check",
    summary="A check's state, progress and, once done, its report (as docqa check --json)",
    responses=responses(401, 403, 404, 422, 429, 503),
)
def get_check(check_id: CheckId, checks: ChecksDep) -> CheckOut:
    return _out(checks.status(check_id))


def _out(view: CheckView) -> CheckOut:
    return CheckOut(
        id=view.id,
        state=view.state,
        collections=view.collections,
        repair=view.repair,
        progress=CheckProgress(stage=view.stage, done=view.done, total=view.total),
        report=None if view.report is None else CheckReport.model_validate(view.report),
        error=view.error,
        enqueued_at=view.enqueued_at,
        started_at=view.started_at,
        ended_at=view.ended_at,
    )
