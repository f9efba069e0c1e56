"""A fast clock (speedup > 1) is for demos and tests: its touches never reach a real service.

At speedup 10,000,000 a whole cadence passes in seconds, so one such lead on SES is a
burst of real emails to one person. Every transport says which real service it hands
messages to (`service`), or None for local files and emulators (an `endpoint_url` is
set); the delivery activities call `refuse_fast_clock` before anything is claimed or sent.
"""

from temporalio.exceptions import ApplicationError

from activities.common.logs import activity_log, touch_log
from workflows import names
from workflows.models import RepTaskInput, TouchInput

# A type the workflow already pauses a lead on (names.BLOCKING_ERRORS): a type of its
# own would fail such leads on workers still running older workflow code.
FAST_CLOCK_REFUSED = names.TEMPLATE_ERROR


def refuse_fast_clock(touch: TouchInput, service: str | None) -> None:
    """Raise a non-retryable error, which pauses the lead with its message, when a touch
    on a fast clock would go to `service`."""
    if touch.speedup <= 1 or service is None:
        return
    touch_log(touch).warning("touch refused: fast clock to a real service", speedup=touch.speedup, service=service)
    raise _refused(touch.speedup, service)


def fast_clock_task_refusal(task: RepTaskInput, service: str | None) -> str | None:
    """Why a rep task that is no cadence step (a reply, a trigger) must not reach `service`,
    or None. Not raised: such a task is created between cadence steps, where a failure
    would end the run; the caller skips it, and the lead's state keeps it open."""
    if task.speedup <= 1 or service is None:
        return None
    activity_log(lead_id=task.lead_id, task_id=task.task_id).warning(
        "rep task not created: fast clock to a real service", speedup=task.speedup, service=service
    )
    return _refused(task.speedup, service).message


def _refused(speedup: float, service: str) -> ApplicationError:
    return ApplicationError(
        f"refused: the lead runs at speedup {speedup:g} and {service} reaches real people; "
        "speedup above 1 is for demos and tests only: deliver to the local files or an emulator "
        "(endpoint_url) and resume, or close the lead",
        type=FAST_CLOCK_REFUSED,
        non_retryable=True,
    )
