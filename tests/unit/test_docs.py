"""Docs generated from code stay in sync with it."""

from pathlib import Path

from sagemaker_tensorflow_runtime.container.settings import settings_markdown
from sagemaker_tensorflow_runtime.serving.settings import TABLE as SERVE_TABLE
from sagemaker_tensorflow_runtime.training.settings import TABLE

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_training_settings_table_matches_the_code() -> None:
    text = (DOCS / "training.md").read_text()
    block = text.split("<!-- settings:begin -->\n")[1].split("<!-- settings:end -->")[0]
    assert block == settings_markdown(TABLE), (
        "regenerate with: python -m sagemaker_tensorflow_runtime.training.settings"
    )


def test_serving_settings_table_matches_the_code() -> None:
    text = (DOCS / "serving.md").read_text()
    block = text.split("<!-- settings:begin -->\n")[1].split("<!-- settings:end -->")[0]
    assert block == settings_markdown(SERVE_TABLE), (
        "regenerate with: python -m sagemaker_tensorflow_runtime.serving.settings"
    )
