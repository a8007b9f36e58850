"""Rendering decoded values as argv items and environment values (training.md §5, §6).

The formats are compatibility facts: booleans are `True`/`False` in argv but `true`/`false` in
the environment, lists are Python repr in argv, dicts are `k=v,...` in argv.
"""

import json
from collections.abc import Mapping
from typing import Any


def argv_value(value: Any) -> str:
    """One hyperparameter value as one argv item."""
    if isinstance(value, dict):
        return ",".join("%s=%s" % (k, v) for k, v in sorted(value.items()))  # noqa: UP031
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)


def argv_name(key: str) -> str:
    if not key:
        return ""
    return f"-{key}" if len(key) == 1 else f"--{key}"


def hyperparameters_to_argv(hyperparameters: Mapping[str, Any]) -> list[str]:
    """Sorted `[--key, value, ...]`; every name is followed by exactly one value item."""
    argv: list[str] = []
    for key in sorted(hyperparameters):
        argv.append(argv_name(key))
        argv.append(argv_value(hyperparameters[key]))
    return argv


def compact_json(value: Any) -> str:
    """JSON with sorted keys, no spaces and non-ASCII escaped: the SM_* JSON format."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def env_value(value: Any) -> str:
    """One value as an environment value: strings as is, everything else compact JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if value is None:
        return ""
    return compact_json(value)


def env_name(key: str) -> str:
    """`SM_` + key upper-cased; dashes are kept (readable through os.environ, not shells)."""
    return "SM_" + key.upper()
