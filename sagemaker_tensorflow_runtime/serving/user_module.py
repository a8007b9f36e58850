"""Importing a user's module from a file, once per worker (inference.py, legacy entry points)."""

import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def import_from_path(path: Path, name: str, search_paths: Sequence[Path]) -> Any:
    """Import `path` as module `name`, with `search_paths` (existing ones) first on sys.path."""
    for entry in reversed(search_paths):
        if entry.is_dir() and str(entry) not in sys.path:
            sys.path.insert(0, str(entry))
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
