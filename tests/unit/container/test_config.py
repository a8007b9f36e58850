"""Reading input/config/*.json (training.md §2, §3) on temporary trees."""

import json

import pytest

from sagemaker_tensorflow_runtime.container import config as config_module
from sagemaker_tensorflow_runtime.container.config import (
    ChannelSpec,
    ConfigError,
    InstanceGroup,
    load_job_config,
)
from sagemaker_tensorflow_runtime.container.paths import Paths

SINGLE_HOST = {"current_host": "algo-1", "hosts": ["algo-1"]}


def write_config(paths, **files):
    """Write `name=content` under input/config; dicts as JSON, strings verbatim."""
    paths.input_config_dir.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        text = content if isinstance(content, str) else json.dumps(content)
        (paths.input_config_dir / f"{name}.json").write_text(text, encoding="utf-8")


@pytest.fixture
def paths(tmp_path):
    return Paths(tmp_path)


def test_missing_files_get_defaults_and_are_recorded_as_assumptions(paths, monkeypatch):
    monkeypatch.setattr(config_module, "local_hostname", lambda: "laptop")

    config = load_job_config(paths)

    assert config.raw_hyperparameters == {}
    assert config.hyperparameters == {}
    assert config.input_data_config == {}
    assert config.channels == ()
    rc = config.resource_config
    assert rc.raw == {"current_host": "laptop", "hosts": ["laptop"]}
    assert (rc.current_host, rc.hosts) == ("laptop", ("laptop",))
    assert config.assumptions == (
        f"{paths.hyperparameters_file} not found: assuming no hyperparameters",
        f"{paths.input_data_config_file} not found: assuming no input channels",
        f"{paths.resource_config_file} not found: assuming a single host named 'laptop'",
    )


def test_present_files_are_read_and_hyperparameters_decoded(paths):
    idc = {
        "training": {
            "ContentType": "application/x-recordio",
            "TrainingInputMode": "Pipe",
            "S3DistributionType": "FullyReplicated",
            "RecordWrapperType": "RecordIO",
        },
        "eval": {"TrainingInputMode": "File", "Unknown": 1},
    }
    write_config(
        paths,
        hyperparameters={"epochs": "10", "sagemaker_program": '"train.py"', "opt": "adam"},
        inputdataconfig=idc,
        resourceconfig=SINGLE_HOST,
    )

    config = load_job_config(paths)

    assert config.assumptions == ()
    assert config.raw_hyperparameters == {
        "epochs": "10",
        "sagemaker_program": '"train.py"',
        "opt": "adam",
    }
    assert config.hyperparameters == {"epochs": 10, "sagemaker_program": "train.py", "opt": "adam"}
    assert config.input_data_config == idc
    assert config.channels == (
        ChannelSpec(name="eval"),
        ChannelSpec(
            name="training",
            input_mode="Pipe",
            content_type="application/x-recordio",
            s3_distribution_type="FullyReplicated",
            record_wrapper_type="RecordIO",
        ),
    )


def test_resource_config_defaults(paths):
    write_config(paths, resourceconfig={"current_host": "algo-1"})

    rc = load_job_config(paths).resource_config

    assert rc.hosts == ("algo-1",)
    assert rc.network_interface_name == "eth0"
    assert rc.current_instance_type == "local"
    assert rc.current_group_name == "homogeneousCluster"
    assert rc.instance_groups == ()
    assert rc.topology is None
    assert rc.raw == {"current_host": "algo-1"}


def test_resource_config_full(paths):
    raw = {
        "current_host": "algo-2",
        "hosts": ["algo-3", "algo-1", "algo-2"],
        "network_interface_name": "ethwe",
        "current_instance_type": "ml.p3.16xlarge",
        "current_group_name": "train1",
        "instance_groups": [
            {
                "instance_group_name": "train1",
                "instance_type": "ml.p3.16xlarge",
                "hosts": ["algo-2", "algo-1"],
            },
            {"instance_group_name": "train2", "instance_type": "ml.c5.xlarge", "hosts": ["algo-3"]},
        ],
        "topology": [{"hostName": "algo-1", "capacityUnitId": "u1"}],
    }
    write_config(paths, resourceconfig=raw)

    rc = load_job_config(paths).resource_config

    assert rc.hosts == ("algo-1", "algo-2", "algo-3")
    assert rc.current_host == "algo-2"
    assert rc.network_interface_name == "ethwe"
    assert rc.current_instance_type == "ml.p3.16xlarge"
    assert rc.current_group_name == "train1"
    assert rc.instance_groups == (
        InstanceGroup("train1", "ml.p3.16xlarge", ("algo-1", "algo-2")),
        InstanceGroup("train2", "ml.c5.xlarge", ("algo-3",)),
    )
    assert rc.topology == [{"hostName": "algo-1", "capacityUnitId": "u1"}]
    assert rc.raw == raw


def test_empty_topology_is_no_topology(paths):
    write_config(paths, resourceconfig={**SINGLE_HOST, "topology": []})

    assert load_job_config(paths).resource_config.topology is None


# (file written, content, file named in the message, words of the fix in the message)
MALFORMED = [
    pytest.param(
        "hyperparameters", "{not json", "hyperparameters.json", "JSON object", id="hps-not-json"
    ),
    pytest.param(
        "hyperparameters", '["a"]', "hyperparameters.json", "not an object", id="hps-list"
    ),
    pytest.param("inputdataconfig", "", "inputdataconfig.json", "JSON object", id="idc-empty"),
    pytest.param(
        "inputdataconfig", '"training"', "inputdataconfig.json", "not an object", id="idc-string"
    ),
    pytest.param(
        "inputdataconfig",
        {"bad/name": {"TrainingInputMode": "File"}},
        "inputdataconfig.json",
        "1 to 64 characters",
        id="bad-channel-name",
    ),
    pytest.param(
        "inputdataconfig",
        {"x" * 65: {}},
        "inputdataconfig.json",
        "1 to 64 characters",
        id="channel-name-too-long",
    ),
    pytest.param(
        "inputdataconfig",
        {"training": "File"},
        "inputdataconfig.json",
        '{"TrainingInputMode": "File"}',
        id="channel-not-object",
    ),
    pytest.param("resourceconfig", "{]", "resourceconfig.json", "JSON object", id="rc-not-json"),
    pytest.param("resourceconfig", "42", "resourceconfig.json", "not an object", id="rc-number"),
    pytest.param(
        "resourceconfig",
        {"hosts": ["algo-1"]},
        "resourceconfig.json",
        "'current_host' is missing",
        id="current-host-missing",
    ),
    pytest.param(
        "resourceconfig",
        {"current_host": "algo-3", "hosts": ["algo-1", "algo-2"]},
        "resourceconfig.json",
        "add it to 'hosts'",
        id="current-host-not-in-hosts",
    ),
    pytest.param(
        "resourceconfig",
        {"current_host": "algo-1", "hosts": "algo-1"},
        "resourceconfig.json",
        '["algo-1", "algo-2"]',
        id="hosts-not-a-list",
    ),
    pytest.param(
        "resourceconfig",
        {"current_host": "algo-1", "hosts": ["algo-1", 2]},
        "resourceconfig.json",
        "must be a list of host names",
        id="hosts-not-strings",
    ),
    pytest.param(
        "resourceconfig",
        {**SINGLE_HOST, "instance_groups": {"train1": {}}},
        "resourceconfig.json",
        "'instance_groups' must be a list",
        id="instance-groups-not-a-list",
    ),
    pytest.param(
        "resourceconfig",
        {**SINGLE_HOST, "instance_groups": [{"hosts": ["algo-1"]}]},
        "resourceconfig.json",
        "'instance_group_name'",
        id="instance-group-without-name",
    ),
    pytest.param(
        "resourceconfig",
        {**SINGLE_HOST, "network_interface_name": 0},
        "resourceconfig.json",
        "must be a string",
        id="interface-not-string",
    ),
]


@pytest.mark.parametrize(("name", "content", "file_name", "fix"), MALFORMED)
def test_malformed_config_names_the_file_and_the_fix(paths, name, content, file_name, fix):
    files = {"resourceconfig": SINGLE_HOST, name: content}
    write_config(paths, **files)

    with pytest.raises(ConfigError) as raised:
        load_job_config(paths)

    message = str(raised.value)
    assert str(paths.input_config_dir / file_name) in message
    assert fix in message


def test_undecodable_file_is_a_config_error(paths):
    write_config(paths, resourceconfig=SINGLE_HOST)
    paths.hyperparameters_file.write_bytes(b'{"a": "\xff"}')

    with pytest.raises(ConfigError, match="UTF-8 JSON"):
        load_job_config(paths)
