"""A fast clock (speedup > 1) is for demos and tests: its touches never reach a real service.

At speedup 10,000,000 a whole cadence passes in seconds, so one such lead on SES is a
burst of real emails to one person. Every transport says which real service it hands
messages to (`service`), or None for local files and emulators (an `endpoint_url` is
set); the delivery activities call `refuse_fast_clock` before anything is claimed or sent.
"""

from temporalio.exceptions import ApplicationError

from activities.common.logs import touch_log
from workflows import names
from workflows.models import TouchInput

# A type the workflow already pauses a lead on (names.BLOCKING_ERRORS): a type of its
# own would fail such leads on workers still running older workflow code.
FAST_CLOCK_REFUSED = names.TEMPLATE_ERROR


def refuse_fast_clock(touch: TouchInput, service: str | None) -> None:
    """Raise a non-retryable error, which pauses the lead with its message, when a touch
    on a fast clock would go to `service`."""
    if touch.speedup <= 1 or service is None:
        return
    touch_log(touch).warning(
        "touch refused: fast clock to a real service", speedup=touch.speedup, service=service
    )
    raise ApplicationError(
        f"refused: the lead runs at speedup {touch.speedup:g} and {service} reaches real people; "
        "speedup above 1 is for demos and tests only: deliver to the local files or an emulator "
        "(endpoint_url) and resume, or close the lead",
        type=FAST_CLOCK_REFUSED,
        non_retryable=True,
    )
