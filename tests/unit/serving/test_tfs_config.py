"""Generated TF Serving files (serving.md §5.1, §5.2)."""

from pathlib import Path

import pytest

from sagemaker_tensorflow_runtime.serving.discovery import DiscoveredModel
from sagemaker_tensorflow_runtime.serving.tfs_config import (
    batching_config,
    model_config_text,
    write_batching_config,
)

EXPECTED_MODEL_CONFIG = """model_config_list: {
  config: {
    name: 'half_plus_three'
    base_path: '/opt/ml/model/half_plus_three'
    model_platform: 'tensorflow'
    model_version_policy: {
      specific: {
        versions: 123
        versions: 124
      }
    }
  }
}
"""


def test_model_config_matches_the_reference_text() -> None:
    model = DiscoveredModel("half_plus_three", Path("/opt/ml/model/half_plus_three"), (123, 124))
    assert model_config_text([model]) == EXPECTED_MODEL_CONFIG


def test_model_config_parses_as_model_server_config() -> None:
    pytest.importorskip("tensorflow_serving")
    from sagemaker_tensorflow_runtime.serving.modelserver.model_config import (
        PolicyKind,
        parse_config_text,
    )

    models = [
        DiscoveredModel("a", Path("/m/a"), (1,)),
        DiscoveredModel("b", Path("/m/b"), (0, 7)),
    ]
    parsed = parse_config_text(model_config_text(models))
    assert [(m.name, str(m.base_path), m.policy.versions) for m in parsed] == [
        ("a", "/m/a", (1,)),
        ("b", "/m/b", (0, 7)),
    ]
    assert all(m.policy.kind is PolicyKind.SPECIFIC for m in parsed)


def test_batching_defaults_on_a_four_cpu_host() -> None:
    config = batching_config(None, None, None, None, cpu_count=4, batch_transform=False)
    assert config.text() == (
        "max_batch_size { value: 8 }\n"
        "batch_timeout_micros { value: 1000 }\n"
        "num_batch_threads { value: 4 }\n"
        "max_enqueued_batches { value: 4 }\n"
    )
    assert config.defaulted == (
        "max_batch_size",
        "batch_timeout_micros",
        "num_batch_threads",
        "max_enqueued_batches",
    )


def test_batch_transform_does_not_limit_the_queue() -> None:
    config = batching_config(16, None, None, None, cpu_count=2, batch_transform=True)
    assert config.max_enqueued_batches == 100_000_000
    assert config.max_batch_size == 16


def test_each_configured_line_is_logged_once_and_defaults_get_advice(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    config = batching_config(16, 500, 100, None, cpu_count=2, batch_transform=False)
    write_batching_config(tmp_path / "batching-config.cfg", config)
    assert caplog.text.count("max_batch_size { value: 16 }") == 1
    assert caplog.text.count("batch_timeout_micros { value: 500 }") == 1
    assert caplog.text.count("num_batch_threads { value: 100 }") == 1
    assert "max_enqueued_batches. Tuning this parameter may yield better performance." in (
        caplog.text
    )
    assert (tmp_path / "batching-config.cfg").read_text() == config.text()
