"""Fixtures for the `serve` integration tests: the half_plus_three fixture model, built once."""

from pathlib import Path

import pytest

from .harness import ServeTree


@pytest.fixture(scope="session")
def hpt_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """half_plus_three (versions 123 and 124), built once and copied into each tree."""
    from tests.fixtures import savedmodels

    return savedmodels.half_plus_three(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def hp2_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """half_plus_two (version 123): y = 0.5·x + 2."""
    from tests.fixtures import savedmodels

    return savedmodels.half_plus_two(tmp_path_factory.mktemp("models"))


@pytest.fixture
def tree(tmp_path: Path) -> ServeTree:
    return ServeTree(tmp_path / "opt_ml")
