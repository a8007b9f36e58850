"""Model discovery under the model dir (serving.md §4); SavedModels faked by empty files."""

from pathlib import Path

import pytest

from sagemaker_tensorflow_runtime.serving.discovery import (
    DiscoveredModel,
    NoModelsError,
    default_model,
    discover_models,
)


def bundle(*parts: str, root: Path) -> None:
    directory = root.joinpath(*parts)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "saved_model.pb").write_bytes(b"")


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "model"
    directory.mkdir()
    return directory


def test_named_model_with_padded_versions(model_dir: Path, tmp_path: Path) -> None:
    bundle("half_plus_three", "00000123", root=model_dir)
    bundle("half_plus_three", "00000124", root=model_dir)
    (model_dir / "half_plus_three" / ".00000111").mkdir()
    (model_dir / "half_plus_three" / "notes").mkdir()
    assert discover_models(model_dir, tmp_path / "links") == [
        DiscoveredModel("half_plus_three", model_dir / "half_plus_three", (123, 124))
    ]


def test_bare_version_dir_is_model_named_model(model_dir: Path, tmp_path: Path) -> None:
    bundle("123", root=model_dir)
    assert discover_models(model_dir, tmp_path) == [DiscoveredModel("model", model_dir, (123,))]


def test_legacy_servo_export(model_dir: Path, tmp_path: Path) -> None:
    bundle("export", "Servo", "1554", root=model_dir)
    assert discover_models(model_dir, tmp_path) == [
        DiscoveredModel("Servo", model_dir / "export" / "Servo", (1554,))
    ]


def test_several_models_first_found_first_and_code_is_never_a_model(
    model_dir: Path, tmp_path: Path
) -> None:
    bundle("m1", "1", root=model_dir)
    bundle("m2", "1", root=model_dir)
    bundle("code", "1", root=model_dir)
    bundle(".hidden", "1", root=model_dir)
    models = discover_models(model_dir, tmp_path)
    assert [m.name for m in models] == ["m1", "m2"]
    assert default_model(models, None).name == "m1"
    assert default_model(models, "m2").name == "m2"
    with pytest.raises(NoModelsError, match="names no model found"):
        default_model(models, "m3")


def test_version_zero_is_kept(model_dir: Path, tmp_path: Path) -> None:
    bundle("m", "0", root=model_dir)
    bundle("m", "000", root=model_dir)
    assert discover_models(model_dir, tmp_path)[0].versions == (0,)


def test_non_numeric_parent_is_not_a_model(model_dir: Path, tmp_path: Path) -> None:
    bundle("my_model", "not-a-number", root=model_dir)
    with pytest.raises(NoModelsError) as info:
        discover_models(model_dir, tmp_path)
    message = str(info.value)
    assert message.startswith("no SavedModel bundles found!")
    assert "<model name>/<version number>/saved_model.pb" in message


def test_saved_model_at_the_root_is_served_as_model_version_1(
    model_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (model_dir / "saved_model.pb").write_bytes(b"")
    (model_dir / "variables").mkdir()
    links = tmp_path / "sagemaker"
    models = discover_models(model_dir, links)
    assert models == [DiscoveredModel("model", links / "model", (1,))]
    assert (links / "model" / "1").resolve() == model_dir.resolve()
    assert "has no version directory" in caplog.text
    assert discover_models(model_dir, links) == models  # idempotent
