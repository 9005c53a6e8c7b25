"""POST /api/v1/tasks: make a task from a message by hand (the inbox's "make a task")."""

from __future__ import annotations

from aiohttp import web
from pydantic import Field

from dialogs.manual_tasks import NewTask, TaskRefused
from inbox.api_routing import actor, routing
from inbox.bodies import read_json
from inbox.context import SERVICES
from inbox.errors import ApiError
from inbox.openapi import Operation
from inbox.schemas import ErrorOut, PriorityName, Strict, TaskOut
from storage import queries

API = "/api/v1"


class TaskIn(Strict):
    message_id: int = Field(description="the message the task is about; its dialog gets the task")
    queue: str = Field(min_length=1, max_length=100)
    title: str = Field("", max_length=300, description="default: the message's first line")
    priority: PriorityName | None = Field(None, description="default: the dialog's priority")


async def post_task(request: web.Request) -> web.Response:
    body: TaskIn = await read_json(request, TaskIn)
    new = NewTask(body.message_id, body.queue, body.title, body.priority)
    try:
        task_id = await routing(request).editor.create_task(new, actor(request))
    except TaskRefused as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None
    async with request.config_dict[SERVICES].db.read() as tx:
        task = await queries.get_task(tx, task_id)
    return web.json_response(task, status=201)


NEW_TASK_OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "POST",
        f"{API}/tasks",
        post_task,
        "Make a task from a message by hand: it waits in the queue (with the queue's SLA and "
        "skills) and is assigned like any other",
        {201: TaskOut, 404: ErrorOut, 422: ErrorOut},
        body=TaskIn,
    ),
)
