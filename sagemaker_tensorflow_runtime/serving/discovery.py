"""Finding the models to serve under the model directory (serving.md §4).

Every `saved_model.pb` whose parent directory name is all digits defines a version of the model
named after the directory above it; `code/` and hidden directories are never models. A
SavedModel placed directly in the model directory is served as model `model`, version 1, through
a runtime-owned directory whose `1` entry links to it (the reference failed with
`no SavedModel bundles found!`).
"""

import logging
import os
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

ROOT_MODEL_NAME = "model"
EXPECTED_LAYOUTS = (
    "Expected one of these layouts under {model_dir}:\n"
    "  {model_dir}/<model name>/<version number>/saved_model.pb   (e.g. half_plus_three/1/)\n"
    "  {model_dir}/<version number>/saved_model.pb                (served as model 'model')\n"
    "  {model_dir}/export/Servo/<version number>/saved_model.pb   (legacy training export)\n"
    "  {model_dir}/saved_model.pb                                 (served as 'model', version 1)\n"
    "Version directories must be named with digits only; `code/` holds inference code."
)


class NoModelsError(FileNotFoundError):
    """No SavedModel bundle was found under the model directory."""


@dataclass(frozen=True)
class DiscoveredModel:
    """A model to serve: its name, base path and numeric versions."""

    name: str
    base_path: Path
    versions: tuple[int, ...]


def numeric_versions(base_path: Path) -> tuple[int, ...]:
    """Versions under `base_path`: numeric, non-hidden directories (`00000123` → 123)."""
    versions = []
    for child in sorted(base_path.iterdir()):
        if child.is_dir() and child.name.isnumeric() and not child.name.startswith("."):
            versions.append(int(child.name))
    return tuple(sorted(set(versions)))


def _walk(model_dir: Path) -> list[Path]:
    """Directories holding saved_model.pb, in a stable scan order, skipping code/ and hidden."""
    found = []
    for root, dirs, files in os.walk(model_dir):
        here = Path(root)
        dirs[:] = sorted(
            d for d in dirs if not d.startswith(".") and not (here == model_dir and d == "code")
        )
        if "saved_model.pb" in files:
            found.append(here)
    return found


def discover_models(model_dir: Path, root_link_dir: Path) -> list[DiscoveredModel]:
    """All models under `model_dir`, first found first; `root_link_dir` is ours to write."""
    models: dict[Path, DiscoveredModel] = {}
    for version_dir in _walk(model_dir):
        if version_dir == model_dir or not version_dir.name.isnumeric():
            continue
        base = version_dir.parent
        if base not in models:
            name = ROOT_MODEL_NAME if base == model_dir else base.name
            models[base] = DiscoveredModel(name, base, numeric_versions(base))
    if not models and (model_dir / "saved_model.pb").is_file():
        return [link_root_saved_model(model_dir, root_link_dir)]
    if not models:
        raise NoModelsError(
            "no SavedModel bundles found!\n" + EXPECTED_LAYOUTS.format(model_dir=model_dir)
        )
    return _unique_names(list(models.values()))


def link_root_saved_model(model_dir: Path, root_link_dir: Path) -> DiscoveredModel:
    """Serve `model_dir/saved_model.pb` as version 1 of model `model` through a symlink."""
    base = root_link_dir / ROOT_MODEL_NAME
    base.mkdir(parents=True, exist_ok=True)
    link = base / "1"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(model_dir.resolve(), target_is_directory=True)
    logger.warning(
        "%s/saved_model.pb has no version directory; serving it as model '%s' version 1. "
        "Package it as <model name>/<version>/saved_model.pb to choose the name and version.",
        model_dir,
        ROOT_MODEL_NAME,
    )
    return DiscoveredModel(ROOT_MODEL_NAME, base, (1,))


def _unique_names(models: list[DiscoveredModel]) -> list[DiscoveredModel]:
    seen: set[str] = set()
    unique = []
    for model in models:
        if model.name in seen:
            logger.warning(
                "Skipping %s: a model named %r was already found", model.base_path, model.name
            )
            continue
        seen.add(model.name)
        unique.append(model)
    return unique


def default_model(models: list[DiscoveredModel], requested: str | None) -> DiscoveredModel:
    """The model pinged and used without tfs-model-name."""
    if requested is None:
        return models[0]
    for model in models:
        if model.name == requested:
            return model
    names = ", ".join(m.name for m in models)
    raise NoModelsError(
        f"SAGEMAKER_TFS_DEFAULT_MODEL_NAME={requested!r} names no model found (found: {names})"
    )
