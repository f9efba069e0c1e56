"""What every concern's settings model shares: value patterns, and errors that name fields.

Each concern declares its settings as a plain pydantic model beside its code
(`content/config.py`, `delivery/config.py`, ...). The processes read them all from
TOUCHPOINT_* variables (workers/settings.py); nothing here reads the environment.
"""

from collections.abc import Callable
from string import Formatter

AWS_REGION = r"^[a-z]{2}(-[a-z]+)+-\d+$"
DOMAIN = r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
HTTP_URL = r"^https?://\S+$"


class FieldsError(ValueError):
    """A rule broken across fields, its message naming each field as `{field}`.

    Built in Python, the message names the fields; read from the environment, the
    settings name the variables instead (`named`), so an operator reads what to set.
    """

    def __init__(self, template: str) -> None:
        self.template = template
        super().__init__(self.named(str))

    @property
    def fields(self) -> list[str]:
        return [name for _, name, _, _ in Formatter().parse(self.template) if name]

    def named(self, name: Callable[[str], str]) -> str:
        return self.template.format_map({field: name(field) for field in self.fields})
