"""Hyperparameters, channels and the SM_* environment as the user's script receives them."""

import json

from conftest import JobTree

TRICKY_RAW = {
    "epochs": "10",
    "lr": "0.1",
    "flag": "true",
    "off": "false",
    "float": "1.10",
    "learning-rate": "0.01",
    "name": json.dumps("a b"),
    "quote": json.dumps('it\'s "quoted"'),
    "shell": json.dumps("; rm -rf / $(whoami) `id` | && >x"),
    "newline": json.dumps("line1\nline2"),
    "unicode": json.dumps("¡ø 日本"),
    "nested": json.dumps(["1", ["2", "3", [["6"]]]]),
    "map": json.dumps({"b": "x y", "a": [1, 3, 4]}),
    "none": "null",
    "raw": "not json {",
    "x": "1",
    "sagemaker_program": json.dumps("knobs.py"),
    "sagemaker_mpi_custom_mpi_options": json.dumps("-x FOO"),
    "sagemaker_job_name": json.dumps("my-job"),
}

EXPECTED_ARGV = [
    "--epochs", "10",
    "--flag", "True",
    "--float", "1.1",
    "--learning-rate", "0.01",
    "--lr", "0.1",
    "--map", "a=[1, 3, 4],b=x y",
    "--name", "a b",
    "--nested", "['1', ['2', '3', [['6']]]]",
    "--newline", "line1\nline2",
    "--none", "",
    "--off", "False",
    "--quote", "it's \"quoted\"",
    "--raw", "not json {",
    "--shell", "; rm -rf / $(whoami) `id` | && >x",
    "--unicode", "¡ø 日本",
    "-x", "1",
]  # fmt: skip


def test_every_hyperparameter_type_arrives_byte_for_byte(job: JobTree) -> None:
    job.hyperparameters(TRICKY_RAW)
    job.single_host()
    job.add_program()
    run = job.run()
    assert run.returncode == 0, run.stderr
    report = run.report
    assert report["argv"] == EXPECTED_ARGV
    env = report["env"]
    assert json.loads(env["SM_USER_ARGS"]) == EXPECTED_ARGV
    assert env["SM_HP_EPOCHS"] == "10"
    assert env["SM_HP_FLAG"] == "true"
    assert env["SM_HP_OFF"] == "false"
    assert env["SM_HP_LEARNING-RATE"] == "0.01"
    assert env["SM_HP_NONE"] == ""
    assert env["SM_HP_NAME"] == "a b"
    assert env["SM_HP_UNICODE"] == "¡ø 日本"
    assert env["SM_HP_MAP"] == '{"a":[1,3,4],"b":"x y"}'
    assert env["SM_HP_NESTED"] == '["1",["2","3",[["6"]]]]'
    assert '"unicode":"\\u00a1\\u00f8 \\u65e5\\u672c"' in env["SM_HPS"]
    assert "SM_HP_SAGEMAKER_PROGRAM" not in env
    assert json.loads(env["SM_FRAMEWORK_PARAMS"]) == {"sagemaker_mpi_custom_mpi_options": "-x FOO"}
    assert env["SAGEMAKER_JOB_NAME"] == "my-job"
    assert env["SM_USER_ENTRY_POINT"] == "knobs.py"
    assert env["SM_MODULE_NAME"] == "knobs"
    assert "Failed to parse hyperparameter raw value not json { to Json." in run.stderr


def test_two_channels_with_mixed_case_names(job: JobTree) -> None:
    job.sdk_hyperparameters("knobs.py")
    job.channels("Training", "testData")
    job.single_host()
    job.add_program()
    run = job.run()
    assert run.returncode == 0, run.stderr
    env = run.report["env"]
    data = job.base / "input" / "data"
    assert json.loads(env["SM_CHANNELS"]) == ["Training", "testData"]
    assert env["SM_CHANNEL_TRAINING"] == str(data / "Training")
    assert env["SM_CHANNEL_TESTDATA"] == str(data / "testData")
    training_env = json.loads(env["SM_TRAINING_ENV"])
    assert training_env["channel_input_dirs"] == {
        "Training": str(data / "Training"),
        "testData": str(data / "testData"),
    }
    assert json.loads(env["SM_INPUT_DATA_CONFIG"]) == {
        "Training": {"TrainingInputMode": "File"},
        "testData": {"TrainingInputMode": "File"},
    }


def test_environment_contract_and_paths(job: JobTree) -> None:
    job.sdk_hyperparameters("knobs.py", model_dir="s3://bucket/job/model")
    job.write_config(
        "resourceconfig.json",
        {"current_host": "algo-1", "hosts": ["algo-1"], "current_instance_type": "ml.c5.xlarge"},
    )
    job.add_program()
    run = job.run(
        AWS_REGION="eu-west-1", TRAINING_JOB_NAME="job-7", S3_ENDPOINT_URL="http://127.0.0.1:9"
    )
    assert run.returncode == 0, run.stderr
    env = run.report["env"]
    base = job.base
    assert env["SM_MODEL_DIR"] == str(base / "model")
    assert env["SM_OUTPUT_DATA_DIR"] == str(base / "output" / "data")
    assert env["SM_INPUT_CONFIG_DIR"] == str(base / "input" / "config")
    assert env["SM_HOSTS"] == '["algo-1"]'
    assert env["SM_CURRENT_HOST"] == env["CURRENT_HOST"] == "algo-1"
    assert env["SM_CURRENT_INSTANCE_TYPE"] == "ml.c5.xlarge"
    assert env["SM_MODULE_DIR"] == str(base / "code")
    assert env["SAGEMAKER_REGION"] == "eu-west-1"
    assert env["S3_USE_HTTPS"] == "1"
    assert env["TF_CPP_MIN_LOG_LEVEL"] == "1"
    # The bucket lookup cannot reach the (closed) endpoint: the job region is used, with a warning.
    assert env["S3_REGION"] == "eu-west-1"
    assert "Could not look up the region of the bucket" in run.stderr
    assert env["PYTHONPATH"].split(":")[0] == str(base / "code")
    assert run.report["cwd"] == str(base / "code")
    training_env = json.loads(env["SM_TRAINING_ENV"])
    assert len(training_env) == 37
    assert training_env["job_name"] == "job-7"
    assert training_env["hyperparameters"] == {"model_dir": "s3://bucket/job/model"}
    assert "Invoking script with the following command:" in run.stderr
    assert "Reporting training SUCCESS" in run.stderr
    # report.json is all the model dir holds: the job succeeds with the not-servable warning.
    assert "The model artifact was not saved in the TensorFlow SavedModel directory" in run.stderr


def test_tuning_job_appends_job_name_to_model_dir(job: JobTree) -> None:
    raw = {
        "sagemaker_program": json.dumps("knobs.py"),
        "model_dir": json.dumps("s3://bucket/prefix/model"),
        "_tuning_objective_metric": json.dumps("loss"),
    }
    job.hyperparameters(raw)
    job.single_host()
    job.add_program()
    run = job.run(TRAINING_JOB_NAME="tuning-child-001", S3_ENDPOINT_URL="http://127.0.0.1:9")
    assert run.returncode == 0, run.stderr
    expected = "s3://bucket/prefix/model/tuning-child-001/model"
    assert run.report["argv"] == ["--model_dir", expected]
    assert run.report["env"]["SM_HP_MODEL_DIR"] == expected
    assert f"Appending the training job name to model_dir: {expected}" in run.stderr


def test_gpu_count_comes_from_nvidia_smi_or_the_setting(job: JobTree, tmp_path) -> None:
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    smi = fake_bin / "nvidia-smi"
    smi.write_text(
        "#!/bin/sh\n[ \"$1\" = --list-gpus ] || exit 9\n"
        "echo 'GPU 0: NVIDIA A10G (UUID: GPU-1)'\necho 'GPU 1: NVIDIA A10G (UUID: GPU-2)'\n"
        "echo 'MIG 1g.5gb Device 0'\n"
    )
    smi.chmod(0o755)
    job.sdk_hyperparameters("knobs.py")
    job.single_host()
    job.add_program()
    path = f"{fake_bin}:{__import__('os').environ['PATH']}"
    run = job.run(PATH=path)
    assert run.returncode == 0, run.stderr
    assert run.report["env"]["SM_NUM_GPUS"] == "2"
    assert json.loads(run.report["env"]["SM_TRAINING_ENV"])["num_gpus"] == 2

    run = job.run(PATH=path, SAGEMAKER_NUM_GPUS="8")
    assert run.report["env"]["SM_NUM_GPUS"] == "8"
