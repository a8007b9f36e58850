"""Hyperparameters as argv (training.md §5) and values as environment variables (§6)."""

import pytest

from sagemaker_tensorflow_runtime.container.rendering import (
    env_name,
    env_value,
    hyperparameters_to_argv,
)

# §5's table, verbatim.
ARGV = [
    (
        {"da-sh": "1", "un_der": "2", "un-sh": "3", "da_der": "2"},
        ["--da-sh", "1", "--da_der", "2", "--un-sh", "3", "--un_der", "2"],
    ),
    (
        {"unicode": "¡ø", "bytes": b"2", "floats": 4.0, "int": 2},
        ["--bytes", "2", "--floats", "4.0", "--int", "2", "--unicode", "¡ø"],
    ),
    (
        {"U": "1", "b": b"2", "T": "", "": "42"},
        ["", "42", "-T", "", "-U", "1", "-b", "2"],
    ),
    (
        {"nested": ["1", ["2", "3", [["6"]]]]},
        ["--nested", "['1', ['2', '3', [['6']]]]"],
    ),
    (
        {"map": {"a": [1, 3, 4]}, "channel_dirs": {"train": "foo", "eval": "bar"}},
        ["--channel_dirs", "eval=bar,train=foo", "--map", "a=[1, 3, 4]"],
    ),
    (
        {"truthy": True, "falsy": False},
        ["--falsy", "False", "--truthy", "True"],
    ),
]

# §5 rule 3, the cases the table leaves implicit.
ARGV_VALUES = [
    (None, ""),
    (1e-05, "1e-05"),
    ({"a": None, "b": b"x"}, "a=None,b=b'x'"),
    ("has space 'quote' $HOME", "has space 'quote' $HOME"),
]

# §6's table (`SM_HPS` row covered by test_json_values_escape_non_ascii).
ENV_VALUES = [
    (10, "10"),
    (5.434322, "5.434322"),
    (4.0, "4.0"),
    (True, "true"),
    (False, "false"),
    ("SGD", "SGD"),
    ("¡ø", "¡ø"),
    (["1", ["2", "3", [["6"]]]], '["1",["2","3",[["6"]]]]'),
    ({"a": [1, 3, 4]}, '{"a":[1,3,4]}'),
    (None, ""),
    (b"\xa1", "¡"),
    ({"b": 1, "a": 2}, '{"a":2,"b":1}'),
]

ENV_NAMES = [
    ("learning-rate", "SM_LEARNING-RATE"),
    ("hp_learning-rate", "SM_HP_LEARNING-RATE"),
    ("hosts", "SM_HOSTS"),
    ("channel_Training.Data", "SM_CHANNEL_TRAINING.DATA"),
]


@pytest.mark.parametrize(("hyperparameters", "argv"), ARGV)
def test_hyperparameters_to_argv(hyperparameters, argv):
    assert hyperparameters_to_argv(hyperparameters) == argv


@pytest.mark.parametrize(("value", "item"), ARGV_VALUES)
def test_argv_value_is_one_item(value, item):
    assert hyperparameters_to_argv({"key": value}) == ["--key", item]


@pytest.mark.parametrize(("value", "rendered"), ENV_VALUES)
def test_env_value(value, rendered):
    assert env_value(value) == rendered


def test_json_values_escape_non_ascii():
    assert env_value({"name": "¡ø"}) == '{"name":"\\u00a1\\u00f8"}'


@pytest.mark.parametrize(("key", "name"), ENV_NAMES)
def test_env_name(key, name):
    assert env_name(key) == name
