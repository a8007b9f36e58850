"""The model manager keeps loaded models out of the cyclic collector's walks, and still frees
an unloaded model's reference cycles."""

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sagemaker_tensorflow_runtime.serving.modelserver.manager import (
    AVAILABLE,
    END,
    ModelManager,
    wait_for,
)
from sagemaker_tensorflow_runtime.serving.modelserver.model_config import ModelConfig


class CyclicModel:
    """Stands for a loaded SavedModel: objects that refer to each other."""

    def __init__(self) -> None:
        self.parts: list[Any] = [self, {"owner": self}]


@pytest.fixture
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()  # leave the test process's collector as it was


def test_loaded_models_are_frozen_and_an_unloaded_ones_cycles_are_freed(
    tmp_path: Path, unfrozen: None
) -> None:
    (tmp_path / "m" / "1").mkdir(parents=True)
    loaded: list[weakref.ref[CyclicModel]] = []

    def loader(name: str, version: int, path: Path) -> Any:
        model = CyclicModel()
        loaded.append(weakref.ref(model))
        return model

    manager = ModelManager(loader)
    try:
        gc.unfreeze()
        assert wait_for(manager.apply([ModelConfig("m", tmp_path / "m")]), timeout=30) == []
        assert [s.state for s in manager.status("m")] == [AVAILABLE]
        model = loaded[0]()
        assert model is not None
        assert not any(o is model for o in gc.get_objects())  # in the permanent generation
        del model

        assert wait_for(manager.apply([]), timeout=30) == []
        assert [s.state for s in manager.status("m")] == [END]
        assert loaded[0]() is None  # the cycle was collected although it had been frozen
    finally:
        manager.shutdown()
