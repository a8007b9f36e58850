"""SM_TRAINING_ENV, the SM_* variables (training.md §7.1) and distribution hosts (§4.3)."""

import json

import pytest

from sagemaker_tensorflow_runtime.container.config import (
    InstanceGroup,
    ResourceConfig,
    load_job_config,
)
from sagemaker_tensorflow_runtime.container.environment import (
    Distribution,
    build_training_env,
    resolve_distribution,
)
from sagemaker_tensorflow_runtime.container.paths import Paths
from sagemaker_tensorflow_runtime.container.resources import HostResources

TWO_HOSTS = {"current_host": "algo-1", "hosts": ["algo-2", "algo-1"]}

# §7.1: the 37 keys of SM_TRAINING_ENV.
TRAINING_ENV_KEYS = [
    "additional_framework_parameters",
    "channel_input_dirs",
    "current_host",
    "current_instance_group",
    "current_instance_group_hosts",
    "current_instance_type",
    "distribution_hosts",
    "distribution_instance_groups",
    "framework_module",
    "hosts",
    "hyperparameters",
    "input_config_dir",
    "input_data_config",
    "input_dir",
    "instance_groups",
    "instance_groups_dict",
    "is_hetero",
    "is_master",
    "is_modelparallel_enabled",
    "is_smddpmprun_installed",
    "is_smddprun_installed",
    "job_name",
    "log_level",
    "master_hostname",
    "model_dir",
    "module_dir",
    "module_name",
    "network_interface_name",
    "num_cpus",
    "num_gpus",
    "num_neurons",
    "output_data_dir",
    "output_dir",
    "output_intermediate_dir",
    "resource_config",
    "topology",
    "user_entry_point",
]

# §7.1: every fixed SM_* variable (SM_HP_<KEY>, SM_CHANNEL_<NAME> and SM_TOPOLOGY vary).
SM_VARIABLES = [
    "SM_HOSTS",
    "SM_CURRENT_HOST",
    "SM_NETWORK_INTERFACE_NAME",
    "SM_HPS",
    "SM_USER_ARGS",
    "SM_USER_ENTRY_POINT",
    "SM_MODULE_NAME",
    "SM_MODULE_DIR",
    "SM_FRAMEWORK_PARAMS",
    "SM_FRAMEWORK_MODULE",
    "SM_RESOURCE_CONFIG",
    "SM_INPUT_DATA_CONFIG",
    "SM_CHANNELS",
    "SM_MODEL_DIR",
    "SM_INPUT_DIR",
    "SM_INPUT_CONFIG_DIR",
    "SM_OUTPUT_DIR",
    "SM_OUTPUT_DATA_DIR",
    "SM_OUTPUT_INTERMEDIATE_DIR",
    "SM_NUM_CPUS",
    "SM_NUM_GPUS",
    "SM_NUM_NEURONS",
    "SM_LOG_LEVEL",
    "SM_CURRENT_INSTANCE_TYPE",
    "SM_CURRENT_INSTANCE_GROUP",
    "SM_CURRENT_INSTANCE_GROUP_HOSTS",
    "SM_INSTANCE_GROUPS",
    "SM_INSTANCE_GROUPS_DICT",
    "SM_DISTRIBUTION_INSTANCE_GROUPS",
    "SM_IS_HETERO",
    "SM_TRAINING_ENV",
]

HETERO = {
    "current_host": "algo-1",
    "hosts": ["algo-1", "algo-2", "algo-3"],
    "current_group_name": "train1",
    "current_instance_type": "ml.c5.xlarge",
    "instance_groups": [
        {"instance_group_name": "train1", "instance_type": "ml.c5.xlarge", "hosts": ["algo-1"]},
        {
            "instance_group_name": "train2",
            "instance_type": "ml.p3.2xlarge",
            "hosts": ["algo-3", "algo-2"],
        },
    ],
}


def make_env(
    tmp_path,
    hyperparameters=None,
    resourceconfig=None,
    inputdataconfig=None,
    resources=None,
    **overrides,
):
    """A TrainingEnv built from config files written under `tmp_path` (raw HP strings)."""
    paths = Paths(tmp_path)
    paths.input_config_dir.mkdir(parents=True)
    files = {
        "hyperparameters": hyperparameters or {},
        "resourceconfig": resourceconfig or {"current_host": "algo-1", "hosts": ["algo-1"]},
        "inputdataconfig": inputdataconfig or {},
    }
    for name, content in files.items():
        (paths.input_config_dir / f"{name}.json").write_text(json.dumps(content))
    arguments = {
        "entry_point": "train.py",
        "module_dir": "s3://b/job/source/sourcedir.tar.gz",
        "log_level": 20,
        "job_name": "job",
        "framework_module": "sagemaker_tensorflow_container.training:main",
        **overrides,
    }
    return build_training_env(
        paths,
        load_job_config(paths),
        resources or HostResources(num_cpus=32, num_gpus=8, num_neurons=0),
        **arguments,
    )


def test_sm_env_vars_of_a_two_host_job(tmp_path):
    base = str(tmp_path)
    env = make_env(
        tmp_path,
        hyperparameters={
            "batch_size": "64",
            "epochs": "10",
            "loss": '"SGD"',
            "precision": "5.434322",
            "model_dir": '"s3://b/job/model"',
            "sagemaker_program": '"train.py"',
            "sagemaker_mpi_enabled": "true",
        },
        resourceconfig=TWO_HOSTS,
        inputdataconfig={
            "training": {"TrainingInputMode": "File"},
            "testing": {"TrainingInputMode": "File"},
        },
    )

    expected = {
        "SM_HOSTS": '["algo-1","algo-2"]',
        "SM_CURRENT_HOST": "algo-1",
        "SM_NETWORK_INTERFACE_NAME": "eth0",
        "SM_HPS": '{"batch_size":64,"epochs":10,"loss":"SGD","model_dir":"s3://b/job/model",'
        '"precision":5.434322}',
        "SM_HP_BATCH_SIZE": "64",
        "SM_HP_EPOCHS": "10",
        "SM_HP_LOSS": "SGD",
        "SM_HP_PRECISION": "5.434322",
        "SM_HP_MODEL_DIR": "s3://b/job/model",
        "SM_USER_ARGS": '["--batch_size","64","--epochs","10","--loss","SGD",'
        '"--model_dir","s3://b/job/model","--precision","5.434322"]',
        "SM_USER_ENTRY_POINT": "train.py",
        "SM_MODULE_NAME": "train",
        "SM_MODULE_DIR": "s3://b/job/source/sourcedir.tar.gz",
        "SM_FRAMEWORK_PARAMS": '{"sagemaker_mpi_enabled":true}',
        "SM_FRAMEWORK_MODULE": "sagemaker_tensorflow_container.training:main",
        "SM_RESOURCE_CONFIG": '{"current_host":"algo-1","hosts":["algo-2","algo-1"]}',
        "SM_INPUT_DATA_CONFIG": '{"testing":{"TrainingInputMode":"File"},'
        '"training":{"TrainingInputMode":"File"}}',
        "SM_CHANNELS": '["testing","training"]',
        "SM_CHANNEL_TESTING": f"{base}/input/data/testing",
        "SM_CHANNEL_TRAINING": f"{base}/input/data/training",
        "SM_MODEL_DIR": f"{base}/model",
        "SM_INPUT_DIR": f"{base}/input",
        "SM_INPUT_CONFIG_DIR": f"{base}/input/config",
        "SM_OUTPUT_DIR": f"{base}/output",
        "SM_OUTPUT_DATA_DIR": f"{base}/output/data",
        "SM_OUTPUT_INTERMEDIATE_DIR": f"{base}/output/intermediate",
        "SM_NUM_CPUS": "32",
        "SM_NUM_GPUS": "8",
        "SM_NUM_NEURONS": "0",
        "SM_LOG_LEVEL": "20",
        "SM_CURRENT_INSTANCE_TYPE": "local",
        "SM_CURRENT_INSTANCE_GROUP": "homogeneousCluster",
        "SM_CURRENT_INSTANCE_GROUP_HOSTS": "[]",
        "SM_INSTANCE_GROUPS": "[]",
        "SM_INSTANCE_GROUPS_DICT": "{}",
        "SM_DISTRIBUTION_INSTANCE_GROUPS": '["homogeneousCluster"]',
        "SM_IS_HETERO": "false",
        "SM_TRAINING_ENV": json.dumps(
            env.properties(), sort_keys=True, separators=(",", ":"), ensure_ascii=True
        ),
    }
    assert env.sm_env_vars() == expected


def test_properties_have_exactly_the_37_keys(tmp_path):
    assert sorted(make_env(tmp_path).properties()) == sorted(TRAINING_ENV_KEYS)
    assert len(TRAINING_ENV_KEYS) == 37


def test_properties_values(tmp_path):
    base = str(tmp_path)
    env = make_env(
        tmp_path,
        hyperparameters={"epochs": "10", "sagemaker_mpi_enabled": "true"},
        resourceconfig=TWO_HOSTS,
        inputdataconfig={"training": {"TrainingInputMode": "File"}},
        resources=HostResources(num_cpus=4, num_gpus=2, num_neurons=1, smddprun_installed=True),
    )

    assert env.properties() == {
        "additional_framework_parameters": {"sagemaker_mpi_enabled": True},
        "channel_input_dirs": {"training": f"{base}/input/data/training"},
        "current_host": "algo-1",
        "current_instance_group": "homogeneousCluster",
        "current_instance_group_hosts": [],
        "current_instance_type": "local",
        "distribution_hosts": ["algo-1", "algo-2"],
        "distribution_instance_groups": ["homogeneousCluster"],
        "framework_module": "sagemaker_tensorflow_container.training:main",
        "hosts": ["algo-1", "algo-2"],
        "hyperparameters": {"epochs": 10},
        "input_config_dir": f"{base}/input/config",
        "input_data_config": {"training": {"TrainingInputMode": "File"}},
        "input_dir": f"{base}/input",
        "instance_groups": [],
        "instance_groups_dict": {},
        "is_hetero": False,
        "is_master": True,
        "is_modelparallel_enabled": False,
        "is_smddpmprun_installed": False,
        "is_smddprun_installed": True,
        "job_name": "job",
        "log_level": 20,
        "master_hostname": "algo-1",
        "model_dir": f"{base}/model",
        "module_dir": "s3://b/job/source/sourcedir.tar.gz",
        "module_name": "train",
        "network_interface_name": "eth0",
        "num_cpus": 4,
        "num_gpus": 2,
        "num_neurons": 1,
        "output_data_dir": f"{base}/output/data",
        "output_dir": f"{base}/output",
        "output_intermediate_dir": f"{base}/output/intermediate",
        "resource_config": TWO_HOSTS,
        "topology": None,
        "user_entry_point": "train.py",
    }


def test_sm_env_vars_are_exactly_the_contract_table(tmp_path):
    env = make_env(
        tmp_path,
        hyperparameters={"epochs": "10", "learning-rate": "0.1"},
        inputdataconfig={"Training-Data.v2": {}},
    )

    names = set(env.sm_env_vars())

    assert names == {
        *SM_VARIABLES,
        "SM_HP_EPOCHS",
        "SM_HP_LEARNING-RATE",
        "SM_CHANNEL_TRAINING-DATA.V2",
    }
    assert "SM_JOB_NAME" not in names
    assert "SM_MASTER_ADDR" not in names
    assert "SM_TOPOLOGY" not in names


def test_mixed_case_channel_name_is_upper_cased_in_the_variable_only(tmp_path):
    env = make_env(tmp_path, inputdataconfig={"Train": {}, "eval": {}})

    variables = env.sm_env_vars()

    assert variables["SM_CHANNELS"] == '["Train","eval"]'
    assert variables["SM_CHANNEL_TRAIN"] == f"{tmp_path}/input/data/Train"
    assert variables["SM_CHANNEL_EVAL"] == f"{tmp_path}/input/data/eval"


def test_topology_is_exported_only_when_present(tmp_path):
    topology = [{"hostName": "algo-1", "capacityUnitId": "u1"}]
    env = make_env(
        tmp_path,
        resourceconfig={"current_host": "algo-1", "hosts": ["algo-1"], "topology": topology},
    )

    assert env.sm_env_vars()["SM_TOPOLOGY"] == '[{"capacityUnitId":"u1","hostName":"algo-1"}]'
    assert env.properties()["topology"] == topology


def test_hyperparameter_values_render_per_section_6(tmp_path):
    env = make_env(
        tmp_path,
        hyperparameters={
            "learning-rate": "0.1",
            "flag": "true",
            "off": "false",
            "name": '"¡ø"',
            "nested": '["1",["2","3",[["6"]]]]',
            "map": '{"a":[1,3,4]}',
            "nothing": "null",
            "": "42",
        },
    )

    variables = env.sm_env_vars()

    assert variables["SM_HP_LEARNING-RATE"] == "0.1"
    assert variables["SM_HP_FLAG"] == "true"
    assert variables["SM_HP_OFF"] == "false"
    assert variables["SM_HP_NAME"] == "¡ø"
    assert variables["SM_HP_NESTED"] == '["1",["2","3",[["6"]]]]'
    assert variables["SM_HP_MAP"] == '{"a":[1,3,4]}'
    assert variables["SM_HP_NOTHING"] == ""
    assert "SM_HP_" not in variables
    assert '"name":"\\u00a1\\u00f8"' in variables["SM_HPS"]
    assert json.loads(variables["SM_USER_ARGS"])[:2] == ["", "42"]


def test_instance_group_variables_of_a_heterogeneous_cluster(tmp_path):
    env = make_env(
        tmp_path,
        hyperparameters={"sagemaker_distribution_instance_groups": '["train2"]'},
        resourceconfig=HETERO,
    )

    variables = env.sm_env_vars()

    assert variables["SM_CURRENT_INSTANCE_GROUP"] == "train1"
    assert variables["SM_CURRENT_INSTANCE_TYPE"] == "ml.c5.xlarge"
    assert variables["SM_CURRENT_INSTANCE_GROUP_HOSTS"] == '["algo-1"]'
    assert variables["SM_INSTANCE_GROUPS"] == '["train1","train2"]'
    assert variables["SM_INSTANCE_GROUPS_DICT"] == (
        '{"train1":{"hosts":["algo-1"],"instance_group_name":"train1",'
        '"instance_type":"ml.c5.xlarge"},'
        '"train2":{"hosts":["algo-2","algo-3"],"instance_group_name":"train2",'
        '"instance_type":"ml.p3.2xlarge"}}'
    )
    assert variables["SM_DISTRIBUTION_INSTANCE_GROUPS"] == '["train2"]'
    assert variables["SM_IS_HETERO"] == "true"
    props = env.properties()
    assert props["distribution_hosts"] == ["algo-2", "algo-3"]
    assert props["master_hostname"] == "algo-2"
    assert props["is_master"] is False


def test_single_instance_group_is_not_hetero(tmp_path):
    resourceconfig = {
        **HETERO,
        "hosts": ["algo-1"],
        "instance_groups": HETERO["instance_groups"][:1],
    }
    env = make_env(tmp_path, resourceconfig=resourceconfig)

    assert env.sm_env_vars()["SM_IS_HETERO"] == "false"
    assert env.sm_env_vars()["SM_INSTANCE_GROUPS"] == '["train1"]'


def test_absent_entry_point_and_module_dir(tmp_path):
    env = make_env(tmp_path, entry_point=None, module_dir=None, framework_module=None)

    variables = env.sm_env_vars()

    assert variables["SM_USER_ENTRY_POINT"] == ""
    assert variables["SM_MODULE_NAME"] == ""
    assert variables["SM_MODULE_DIR"] == f"{tmp_path}/code"
    assert variables["SM_FRAMEWORK_MODULE"] == ""


def test_given_user_hyperparameters_replace_the_decoded_ones(tmp_path):
    env = make_env(
        tmp_path,
        hyperparameters={"model_dir": '"s3://b/m"', "sagemaker_mpi_enabled": "true"},
        user_hyperparameters={"model_dir": "s3://b/m/job/model"},
    )

    assert env.sm_env_vars()["SM_HP_MODEL_DIR"] == "s3://b/m/job/model"
    assert env.user_args == ["--model_dir", "s3://b/m/job/model"]
    assert env.additional_framework_parameters == {"sagemaker_mpi_enabled": True}


# --- resolve_distribution (§4.3) -----------------------------------------------------------------


def resource(current="algo-1", hosts=("algo-1", "algo-2"), group="homogeneousCluster", groups=()):
    return ResourceConfig(
        raw={},
        current_host=current,
        hosts=tuple(hosts),
        current_group_name=group,
        instance_groups=tuple(groups),
    )


GROUPS = (
    InstanceGroup("train1", "ml.c5.xlarge", ("algo-1",)),
    InstanceGroup("train2", "ml.p3.2xlarge", ("algo-2", "algo-3")),
)
ALL = ("algo-1", "algo-2", "algo-3")

DISTRIBUTIONS = [
    pytest.param(
        resource(),
        {},
        Distribution((), ("algo-1", "algo-2"), "algo-1", True, False),
        id="no-groups-no-flag",
    ),
    pytest.param(
        resource(current="algo-2"),
        {"sagemaker_parameter_server_enabled": True},
        Distribution(("homogeneousCluster",), ("algo-1", "algo-2"), "algo-1", False, True),
        id="no-groups-flag-worker",
    ),
    pytest.param(
        resource(),
        {"sagemaker_multi_worker_mirrored_strategy_enabled": "True"},
        Distribution(("homogeneousCluster",), ("algo-1", "algo-2"), "algo-1", True, True),
        id="flag-as-string",
    ),
    pytest.param(
        resource(),
        {"sagemaker_mpi_enabled": False, "sagemaker_distributed_dataparallel_enabled": True},
        Distribution(("homogeneousCluster",), ("algo-1", "algo-2"), "algo-1", True, True),
        id="any-flag",
    ),
    pytest.param(
        resource(),
        {"sagemaker_mpi_enabled": False},
        Distribution((), ("algo-1", "algo-2"), "algo-1", True, False),
        id="false-flag",
    ),
    pytest.param(
        resource(hosts=ALL, group="train1", groups=GROUPS),
        {},
        Distribution((), (), "algo-1", True, False),
        id="groups-no-flag",
    ),
    pytest.param(
        resource(current="algo-2", hosts=ALL, group="train2", groups=GROUPS),
        {"sagemaker_mpi_enabled": True},
        Distribution(("train2",), ("algo-2", "algo-3"), "algo-2", True, True),
        id="groups-flag-current-group",
    ),
    pytest.param(
        resource(hosts=ALL, group="train1", groups=GROUPS),
        {"sagemaker_distribution_instance_groups": ["train2"]},
        Distribution(("train2",), ("algo-2", "algo-3"), "algo-2", False, False),
        id="groups-hp-other-group",
    ),
    pytest.param(
        resource(current="algo-3", hosts=ALL, group="train2", groups=GROUPS),
        {"sagemaker_distribution_instance_groups": ["train2"], "sagemaker_mpi_enabled": False},
        Distribution(("train2",), ("algo-2", "algo-3"), "algo-2", False, True),
        id="groups-hp-own-group",
    ),
    pytest.param(
        resource(hosts=ALL, group="train1", groups=GROUPS),
        {"sagemaker_distribution_instance_groups": ["train1", "train2"]},
        Distribution(("train1", "train2"), ALL, "algo-1", True, True),
        id="groups-hp-both",
    ),
    pytest.param(
        resource(),
        {"sagemaker_distribution_instance_groups": []},
        Distribution((), ("algo-1", "algo-2"), "algo-1", True, False),
        id="empty-hp-wins-over-flag-absence",
    ),
]


@pytest.mark.parametrize(("rc", "params", "expected"), DISTRIBUTIONS)
def test_resolve_distribution(rc, params, expected):
    assert resolve_distribution(rc, params) == expected
