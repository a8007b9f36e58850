"""Declarative environment settings: each variable declared once, with type, default and help.

A command lists its `Setting`s in one table; `read_settings` turns an environ mapping into plain
values once, at the edge, and `describe_settings` renders the same table for `--help` and docs.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


class SettingError(ValueError):
    """An environment variable holds a value of the wrong form."""


@dataclass(frozen=True)
class Setting:
    """One environment variable a command reads."""

    env: str
    parse: Callable[[str], Any]
    default: Any
    help: str
    field: str = ""

    @property
    def key(self) -> str:
        return self.field or self.env.lower()


def parse_bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no", ""):
        return False
    raise SettingError(f"must be 'true' or 'false', got {raw!r}")


def parse_positive_float(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise SettingError(f"must be a number of seconds, got {raw!r}") from None
    if value < 0:
        raise SettingError(f"must be a non-negative number of seconds, got {raw!r}")
    return value


def parse_count(raw: str) -> int:
    if not raw.strip().isdigit():
        raise SettingError(f"must be a whole number, got {raw!r}")
    return int(raw)


def parse_optional_count(raw: str) -> int | None:
    return parse_count(raw) if raw.strip() else None


def parse_optional_str(raw: str) -> str | None:
    return raw or None


def read_settings(table: Sequence[Setting], environ: Mapping[str, str]) -> dict[str, Any]:
    """Parse every setting of `table` from `environ`; a bad value names the variable."""
    values: dict[str, Any] = {}
    for setting in table:
        raw = environ.get(setting.env)
        if raw is None:
            values[setting.key] = setting.default
            continue
        try:
            values[setting.key] = setting.parse(raw)
        except SettingError as exc:
            raise SettingError(f"{setting.env} {exc}") from None
    return values


def describe_settings(table: Sequence[Setting]) -> str:
    """The settings table as text, for `--help`."""
    width = max(len(s.env) for s in table)
    lines = []
    for s in table:
        default = "" if s.default is None else f" (default: {s.default})"
        lines.append(f"  {s.env:<{width}}  {s.help}{default}")
    return "\n".join(lines)


def settings_markdown(table: Sequence[Setting]) -> str:
    """The settings table as Markdown, for docs/ (kept in sync by a unit test)."""
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for s in table:
        default = "" if s.default is None else f"`{s.default}`"
        rows.append(f"| `{s.env}` | {default} | {s.help} |")
    return "\n".join(rows) + "\n"
