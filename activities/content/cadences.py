"""Cadences as data: TOML files validated as CadenceDefinition, and the activity serving them.

Every file is validated when the store is built (at worker start), so a broken cadence
stops the worker with a message naming the file, step and field instead of pausing
leads one by one later.
"""

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from temporalio import activity
from temporalio.exceptions import ApplicationError

from workflows import names
from workflows.models import CadenceDefinition, CadenceStep, LoadCadenceInput

PACKAGED_DIR = Path(__file__).with_name("cadences")


class CadenceError(Exception):
    """A cadence file is invalid; the message names the file, step and field to fix."""


class UnknownCadenceError(CadenceError):
    """No cadence has the requested id."""


class CadenceStore:
    """Every cadence in one directory (by default the packaged one), keyed by id."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or PACKAGED_DIR
        self._cadences = _load_directory(self.directory)

    def ids(self) -> list[str]:
        return sorted(self._cadences)

    def get(self, cadence_id: str) -> CadenceDefinition:
        try:
            return self._cadences[cadence_id]
        except KeyError:
            raise UnknownCadenceError(
                f"unknown cadence {cadence_id!r}: known cadences are {', '.join(self.ids())} "
                f"(add {cadence_id}.toml to {self.directory} or use one of these ids)"
            ) from None


def touch_steps(cadence: CadenceDefinition) -> list[CadenceStep]:
    """Every step that can send a touch, including the check-in after a snooze."""
    return [*cadence.steps, *([cadence.check_in] if cadence.check_in else [])]


class CadenceActivities:
    def __init__(self, store: CadenceStore) -> None:
        self._store = store

    @activity.defn(name=names.LOAD_CADENCE)
    def load_cadence(self, input: LoadCadenceInput) -> CadenceDefinition:
        try:
            return self._store.get(input.cadence_id)
        except UnknownCadenceError as err:
            # Retrying cannot make an id appear; the workflow pauses the lead instead.
            raise ApplicationError(
                str(err), type=names.UNKNOWN_CADENCE, non_retryable=True
            ) from err


def _load_directory(directory: Path) -> dict[str, CadenceDefinition]:
    if not directory.is_dir():
        raise CadenceError(
            f"cadence directory {directory} does not exist: create it or fix cadences_dir"
        )
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise CadenceError(f"no cadence files (*.toml) in {directory}: add one or fix cadences_dir")
    cadences: dict[str, CadenceDefinition] = {}
    problems: list[str] = []
    for path in files:
        try:
            cadence = _load_file(path)
        except CadenceError as err:
            problems.append(str(err))
        else:
            cadences[cadence.id] = cadence
    if problems:
        raise CadenceError("\n".join(problems))
    return cadences


def _load_file(path: Path) -> CadenceDefinition:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise CadenceError(f"{path.name}: not valid TOML: {err}; fix the syntax") from None
    problems: list[str] = []
    if isinstance(data.get("id"), str) and data["id"] != path.stem:
        problems.append(
            f"{path.name}: id {data['id']!r} does not match the file name: "
            f"set id = \"{path.stem}\" or rename the file to {data['id']}.toml"
        )
    try:
        cadence = CadenceDefinition.model_validate(data)
    except ValidationError as err:
        problems.extend(f"{path.name}: {_describe(error, data)}" for error in err.errors())
    else:
        step_keys = {step.key for step in cadence.steps}
        if cadence.check_in and cadence.check_in.key in step_keys:
            # Send keys are built from step keys, so a shared key could suppress a touch.
            problems.append(
                f"{path.name}: check_in ({cadence.check_in.key}) field 'key': "
                "is also a step key; give the check-in its own key"
            )
    if problems:
        raise CadenceError("\n".join(problems))
    return cadence


def _describe(error: ErrorDetails, data: dict[str, Any]) -> str:
    """One pydantic error as `steps[2] (day-5-social-proof) field 'channel': what to do`."""
    loc = error["loc"]
    message = error["msg"].removeprefix("Value error, ")
    if not loc:
        return message
    if loc[0] == "steps" and len(loc) >= 2 and isinstance(loc[1], int):
        where, field, model = f"steps[{loc[1]}] ({_step_key(data, loc[1])})", loc[2:], CadenceStep
    elif loc[0] == "check_in" and len(loc) >= 2:
        where, field, model = f"check_in ({_step_key(data, None)})", loc[1:], CadenceStep
    else:
        where, field, model = "", loc, CadenceDefinition
    name = ".".join(str(part) for part in field)
    if not name:
        return f"{where}: {message}"
    if error["type"] == "missing":
        message = "is required: add it"
    elif error["type"] == "extra_forbidden":
        known = ", ".join(model.model_fields)
        message = f"is not a known field: remove it or fix the spelling (known: {known})"
    prefix = f"{where} " if where else ""
    return f"{prefix}field '{name}': {message}"


def _step_key(data: dict[str, Any], index: int | None) -> str:
    """The step's key as written in the file, to point at it even when it is invalid."""
    try:
        step = data["check_in"] if index is None else data["steps"][index]
        return str(step["key"])
    except (KeyError, IndexError, TypeError):
        return "no key"
