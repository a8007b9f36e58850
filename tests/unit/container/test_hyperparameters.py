"""Hyperparameter decoding and the reserved / `sagemaker_` split (training.md §4, §4.1)."""

import logging

import pytest

from sagemaker_tensorflow_runtime.container.hyperparameters import (
    RESERVED_KEYS,
    HyperparameterSplit,
    decode_hyperparameters,
    decode_value,
)

# §4: raw value in hyperparameters.json → decoded value.
DECODING = [
    ('"abc"', "abc"),
    ("abc", "abc"),
    ("10", 10),
    ("0.1", 0.1),
    ("1.10", 1.1),
    ("true", True),
    ("false", False),
    ("null", None),
    ("[1,2]", [1, 2]),
    ('{"a":1}', {"a": 1}),
]

# §4.1: the nine reserved keys.
RESERVED = [
    "sagemaker_program",
    "sagemaker_submit_directory",
    "sagemaker_enable_cloudwatch_metrics",
    "sagemaker_region",
    "sagemaker_container_log_level",
    "sagemaker_job_name",
    "default_user_module_name",
    "_tuning_objective_metric",
    "sagemaker_s3_output",
]

ADDITIONAL = [
    "sagemaker_mpi_enabled",
    "sagemaker_mpi_num_of_processes_per_host",
    "sagemaker_mpi_num_processes",
    "sagemaker_mpi_custom_mpi_options",
    "sagemaker_parameter_server_enabled",
    "sagemaker_multi_worker_mirrored_strategy_enabled",
    "sagemaker_distributed_dataparallel_enabled",
    "sagemaker_distributed_dataparallel_custom_mpi_options",
    "sagemaker_instance_type",
    "sagemaker_distribution_instance_groups",
]


@pytest.mark.parametrize(("raw", "decoded"), DECODING)
def test_decode_value(raw, decoded):
    value = decode_value("key", raw)

    assert value == decoded
    assert type(value) is type(decoded)


def test_decode_hyperparameters_decodes_every_value():
    raw = {f"k{i}": raw for i, (raw, _) in enumerate(DECODING)}

    assert decode_hyperparameters(raw) == {f"k{i}": value for i, (_, value) in enumerate(DECODING)}


def test_non_json_value_is_logged_at_info(caplog):
    with caplog.at_level(logging.INFO):
        assert decode_value("optimizer", "adam") == "adam"

    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (
            logging.INFO,
            "Failed to parse hyperparameter optimizer value adam to Json.\n"
            "Returning the value itself",
        )
    ]


def test_json_value_logs_nothing(caplog):
    with caplog.at_level(logging.DEBUG):
        decode_value("epochs", "10")

    assert caplog.records == []


def test_reserved_keys_are_exactly_the_nine_of_the_contract():
    assert sorted(RESERVED_KEYS) == sorted(RESERVED)


@pytest.mark.parametrize("key", RESERVED)
def test_reserved_key_is_neither_user_nor_additional(key):
    split = HyperparameterSplit.of({key: "v"})

    assert split == HyperparameterSplit(user={}, reserved={key: "v"}, additional_framework={})


@pytest.mark.parametrize("key", ADDITIONAL)
def test_sagemaker_prefixed_key_is_an_additional_framework_parameter(key):
    split = HyperparameterSplit.of({key: True})

    assert split == HyperparameterSplit(user={}, reserved={}, additional_framework={key: True})


@pytest.mark.parametrize("key", ["model_dir", "epochs", "learning-rate", "", "SAGEMAKER_X", "_x"])
def test_other_keys_are_user_hyperparameters(key):
    split = HyperparameterSplit.of({key: 1})

    assert split == HyperparameterSplit(user={key: 1}, reserved={}, additional_framework={})


def test_split_of_a_mixed_set():
    decoded = {
        "sagemaker_program": "train.py",
        "sagemaker_mpi_enabled": True,
        "model_dir": "s3://b/job/model",
        "epochs": 10,
    }

    split = HyperparameterSplit.of(decoded)

    assert split.user == {"model_dir": "s3://b/job/model", "epochs": 10}
    assert split.reserved == {"sagemaker_program": "train.py"}
    assert split.additional_framework == {"sagemaker_mpi_enabled": True}
