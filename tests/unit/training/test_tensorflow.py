"""Tuning model_dir (training.md §10.1), S3 variables (§7.2), model warnings (§14)."""

import logging

import pytest

from sagemaker_tensorflow_runtime.training import s3
from sagemaker_tensorflow_runtime.training.tensorflow import (
    model_warnings,
    s3_environment,
    tuning_model_dir,
)

NO_MODEL = (
    "No model artifact is saved under path {model_dir}. Your training job will not save any "
    "model files to S3.\n"
    "For details of how to construct your training script see:\n"
    "https://sagemaker.readthedocs.io/en/stable/using_tf.html#adapting-your-local-tensorflow-script"
)
NOT_SAVED_MODEL = (
    "Your model will NOT be servable with SageMaker TensorFlow Serving container. The model "
    "artifact was not saved in the TensorFlow SavedModel directory structure:\n"
    "https://www.tensorflow.org/guide/saved_model#structure_of_a_savedmodel_directory"
)
NOT_NUMERIC = (
    "Your model will NOT be servable with SageMaker TensorFlow Serving containers. The "
    'SavedModel bundle is under directory "{parent}", not a numeric name.'
)

# (model_dir value, adjusted value or None when unchanged)
TUNING = [
    ("s3://bucket/prefix", "s3://bucket/prefix/job-007/model"),
    ("/opt/ml/model", None),
    ("/opt/ml/model/sub", None),
]


@pytest.mark.parametrize(("model_dir", "adjusted"), TUNING)
def test_tuning_model_dir(model_dir, adjusted, caplog):
    hps = {"model_dir": model_dir, "epochs": 3}

    with caplog.at_level(logging.INFO):
        result = tuning_model_dir(hps, "job-007")

    if adjusted is None:
        assert result == hps
        assert caplog.messages == []
    else:
        assert result == {"model_dir": adjusted, "epochs": 3}
        assert caplog.messages == [f"Appending the training job name to model_dir: {adjusted}"]
    assert hps["model_dir"] == model_dir


def test_tuning_without_model_dir_leaves_it_absent():
    assert tuning_model_dir({"epochs": 3}, "job-007") == {"epochs": 3}


# (files under model dir, expected warnings; "{model_dir}" is filled in)
FIXTURES = [
    pytest.param([], [NO_MODEL], id="empty"),
    pytest.param(["fake_model.h5"], [NOT_SAVED_MODEL], id="h5"),
    pytest.param(
        ["not-digit/saved_model.pb"], [NOT_NUMERIC.format(parent="not-digit")], id="not-digit"
    ),
    pytest.param(["12345/saved_model.pb"], [], id="numeric"),
    pytest.param(
        ["a/saved_model.pbtxt", "1/saved_model.pb", "b/saved_model.pb"],
        [NOT_NUMERIC.format(parent="a"), NOT_NUMERIC.format(parent="b")],
        id="one-warning-per-file",
    ),
]


@pytest.mark.parametrize(("files", "warnings"), FIXTURES)
def test_model_warnings(tmp_path, files, warnings):
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    for name in files:
        (model_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (model_dir / name).write_bytes(b"x")

    assert model_warnings(model_dir) == [w.format(model_dir=model_dir) for w in warnings]


@pytest.mark.parametrize("model_dir", [None, "/opt/ml/model", "gs://b/model", 42])
def test_s3_environment_without_s3_model_dir_uses_the_job_region(model_dir):
    assert s3_environment(model_dir, "eu-west-1", {}) == {
        "S3_REGION": "eu-west-1",
        "S3_USE_HTTPS": "1",
        "TF_CPP_MIN_LOG_LEVEL": "1",
    }


def test_s3_model_dir_uses_the_bucket_region(monkeypatch):
    asked = []

    def bucket_region(uri, environ, region):
        asked.append((uri, region))
        return "ap-south-1"

    monkeypatch.setattr(s3, "bucket_region", bucket_region)

    env = s3_environment("s3://bucket/job/model", "eu-west-1", {})

    assert env["S3_REGION"] == "ap-south-1"
    assert asked == [("s3://bucket/job/model", "eu-west-1")]


def test_failed_bucket_lookup_falls_back_to_the_job_region(monkeypatch, caplog):
    def denied(uri, environ, region):
        raise RuntimeError("AccessDenied")

    monkeypatch.setattr(s3, "bucket_region", denied)

    with caplog.at_level(logging.WARNING):
        env = s3_environment("s3://bucket/job/model", "eu-west-1", {})

    assert env == {"S3_REGION": "eu-west-1", "S3_USE_HTTPS": "1", "TF_CPP_MIN_LOG_LEVEL": "1"}
    assert "AccessDenied" in caplog.text
    assert "s3://bucket/job/model" in caplog.text


@pytest.mark.parametrize(
    ("constraint", "region"),
    [(None, "us-east-1"), ("", "us-east-1"), ("eu-central-1", "eu-central-1")],
)
def test_bucket_region_of_an_empty_location_constraint_is_us_east_1(
    monkeypatch, constraint, region
):
    class FakeS3:
        def get_bucket_location(self, Bucket):
            assert Bucket == "bucket"
            return {"LocationConstraint": constraint}

    monkeypatch.setattr(s3, "s3_client", lambda environ, region, attempts=3: FakeS3())

    assert s3.bucket_region("s3://bucket/key", {}, "eu-west-1") == region
