"""A request step's failure in words for the officer: what went wrong, in which datastore, and what to do next.

A step records its last error as `datastore: ErrorClass: message (hint)` (`requests.runner._describe`; the
message names tables and columns, never values). This reads that line back into a sentence and the next actions
the console offers: fix the data map and run the step again, run it again after an outage, or take the step over
as a manual task.
"""

from __future__ import annotations

from dataclasses import dataclass

from privet.requests.execution.held import HELD
from privet.requests.models import RequestStep
from privet.web.admin.common import N_

# what kind of failure an error class is: the class names connectors and the store raise
_PERMANENT = {
    "InvalidInput",
    "Conflict",
    "NotFound",
    "DataError",
    "IntegrityError",
    "ProgrammingError",
    "KeyError",
    "ValueError",
    "TypeError",
}
_UNREACHABLE = {
    "OperationalError",
    "ConnectionError",
    "ConnectError",
    "ConnectTimeout",
    "ReadTimeout",
    "TimeoutError",
    "TimeoutException",
    "InterfaceError",
    "DisconnectionError",
    "OSError",
}

KINDS = {
    "map": (
        N_(
            "The data map and this datastore disagree, or a value did not fit: running the step again as it is "
            "will fail the same way."
        ),
        N_(
            "Fix the data map (or the datastore) as the message says, apply it, then run the failed steps again; "
            "or take the step over as a manual task and do this datastore's part by hand."
        ),
    ),
    "unreachable": (
        N_("Privet could not reach this datastore (it was down, too slow, or refused the connection)."),
        N_(
            "Check that the datastore is running and that its connection settings and credentials are "
            "right, then run the failed steps again; or take the step over as a manual task."
        ),
    ),
    "held": (
        N_("A legal hold keeps this step from running: the data must be kept while the hold lasts."),
        N_("Nothing to fix here: the step runs when the hold is released (Registers → legal holds)."),
    ),
    "other": (
        N_("The step stopped with an error Privet did not expect."),
        N_(
            "Run the failed steps again; if it fails the same way, take the step over as a manual task and "
            "report the error shown here to whoever runs Privet."
        ),
    ),
}


# a step's action in words (the key stays in the step record, the CLI and the API)
ACTIONS = {
    "fetch": N_("find the person's data"),
    "erase": N_("erase"),
    "rectify": N_("correct"),
    "restrict": N_("restrict use"),
}


@dataclass(frozen=True)
class Failure:
    """One step's failure, explained."""

    datastore: str
    error: str  # the error's class, e.g. InvalidInput
    message: str  # what the error said (may be empty when only the class was recorded)
    what: str  # N_ sentence: what kind of failure this is
    action: str  # N_ sentence: what to do next
    can_take_over: bool


def explain(step: RequestStep) -> Failure | None:
    """The explanation of a failed (or failing, still retried) step; None when it has no error."""
    line = (step.last_error or "").strip()
    if not line:
        return None
    if line == HELD:
        what, action = KINDS["held"]
        return Failure(step.datastore_key, "", "", what, action, False)
    rest = line.removeprefix(f"{step.datastore_key}:").strip()
    error, _, message = rest.partition(":")
    error, message = error.strip(), message.strip()
    if " " in error:  # not a class name: the whole line is a message
        error, message = "", rest
    kind = "map" if error in _PERMANENT else "unreachable" if error in _UNREACHABLE else "other"
    what, action = KINDS[kind]
    return Failure(step.datastore_key, error, message, what, action, step.status == "failed")
