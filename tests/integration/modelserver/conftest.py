"""Session fixtures: SavedModels built once, and one shared embedded model server.

Servers with other configurations (batching, reloads) are module fixtures of their test files.
Every server is stopped with SIGTERM at teardown and must exit by itself.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures import savedmodels, warmup

from .harness import ModelEntry, ServerProcess, model_config_text, start_server


@dataclass(frozen=True)
class Models:
    """Where each fixture model was built."""

    root: Path
    half_plus_three: Path
    half_plus_two: Path
    labelled: Path
    multi_io: Path
    strings: Path
    batch_probe: Path
    broken: Path
    warm: Path


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> Models:
    root = tmp_path_factory.mktemp("models")
    labelled = savedmodels.half_plus_three(root, ("1",), name="labelled", offset=1.0)
    savedmodels.half_plus_three(root, ("2",), name="labelled", offset=2.0)
    return Models(
        root=root,
        half_plus_three=savedmodels.half_plus_three(root),
        half_plus_two=savedmodels.half_plus_two(root),
        labelled=labelled,
        multi_io=savedmodels.multi_io(root),
        strings=savedmodels.strings_model(root),
        batch_probe=savedmodels.batch_probe(root),
        broken=savedmodels.broken_model(root),
        warm=warmup.half_plus_three_with_warmup(root / "with_warmup", name="warm"),
    )


def main_entries(models: Models) -> list[ModelEntry]:
    return [
        ModelEntry("half_plus_three", models.half_plus_three, versions=(123, 124)),
        ModelEntry(
            "labelled",
            models.labelled,
            all_versions=True,
            labels=(("stable", 1), ("canary", 2)),
        ),
        ModelEntry("multi_io", models.multi_io),
        ModelEntry("strings", models.strings),
        ModelEntry("broken", models.broken),
        ModelEntry("warm", models.warm),
    ]


MAIN_MODELS = {
    "half_plus_three": "AVAILABLE",
    "labelled": "AVAILABLE",
    "multi_io": "AVAILABLE",
    "strings": "AVAILABLE",
    "broken": "END",
    "warm": "AVAILABLE",
}


@pytest.fixture(scope="session")
def server(models: Models, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The shared server: every model but batch_probe, REST + gRPC, no batching."""
    workdir = tmp_path_factory.mktemp("main_server")
    config = workdir / "models.config"
    config.write_text(model_config_text(main_entries(models)))
    args = [f"--model_config_file={config}", "--unknown_flag_for_test=1", "--another_unknown"]
    proc = start_server(workdir, args, "main", MAIN_MODELS)
    yield proc
    assert proc.alive(), f"the shared server died during the tests:\n{proc.log()}"
    assert proc.stop() == 0, proc.log()
