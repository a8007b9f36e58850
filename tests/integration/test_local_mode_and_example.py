"""The human-facing local command, the bundled example, and a light launcher."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import LOCAL, PROGRAMS, JobTree

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "half_plus_three"

HEAVY_MODULES_PROBE = """
import json, os, sys
from sagemaker_tensorflow_runtime.training.cli import run
code = run(os.environ)
heavy = sorted({m.split('.')[0] for m in sys.modules} & {'tensorflow', 'boto3', 'botocore'})
print('HEAVY=' + json.dumps(heavy))
sys.exit(code)
"""


def test_train_imports_neither_tensorflow_nor_boto3(job: JobTree) -> None:
    job.sdk_hyperparameters("knobs.py", epochs=1)
    job.channels("training")
    job.single_host()
    job.add_program()
    proc = subprocess.run(
        [sys.executable, "-c", HEAVY_MODULES_PROBE],
        env=job.env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY=[]" in proc.stdout


def test_local_command_builds_the_tree_and_trains(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "knobs.py").write_text((PROGRAMS / "knobs.py").read_text())
    train_data = tmp_path / "train-data"
    train_data.mkdir()
    (train_data / "rows.csv").write_text("1,2\n")
    base = tmp_path / "job"
    proc = subprocess.run(
        [
            str(LOCAL),
            "--source-dir", str(src),
            "--entry-point", "knobs.py",
            "--channel", f"Training={train_data}",
            "--hyperparameter", "epochs=3",
            "--hyperparameter", "name=two words",
            "--base-dir", str(base),
            "--job-name", "local-test",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Training job local-test succeeded" in proc.stderr
    report = json.loads((base / "model" / "report.json").read_text())
    assert report["argv"] == ["--epochs", "3", "--name", "two words"]
    channel = Path(report["env"]["SM_CHANNEL_TRAINING"])
    assert (channel / "rows.csv").read_text() == "1,2\n"
    assert report["env"]["SM_TRAINING_ENV"].count('"job_name":"local-test"') == 1
    assert (base / "output" / "success").exists()
    assert (src / "knobs.py").exists() and not (src / "model").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--source-dir", "/nonexistent", "--entry-point", "x.py"], "is not a directory"),
        (["--source-dir", ".", "--entry-point", "missing.py"], "is not a file"),
        (
            ["--source-dir", str(PROGRAMS), "--entry-point", "knobs.py", "--channel", "x"],
            "must look like name=value",
        ),
    ],
)
def test_local_command_rejects_bad_arguments(args: list[str], message: str) -> None:
    proc = subprocess.run([str(LOCAL), *args], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.tensorflow
def test_bundled_example_leaves_a_servable_saved_model(tmp_path: Path) -> None:
    pytest.importorskip("tensorflow")
    subprocess.run(
        [sys.executable, str(EXAMPLE / "make_data.py"), str(tmp_path / "data"), "--rows", "800"],
        check=True,
        timeout=60,
    )
    base = tmp_path / "job"
    proc = subprocess.run(
        [
            str(LOCAL),
            "--source-dir", str(EXAMPLE / "src"),
            "--entry-point", "train.py",
            "--channel", f"training={tmp_path / 'data' / 'training'}",
            "--channel", f"testing={tmp_path / 'data' / 'testing'}",
            "--hyperparameter", "epochs=25",
            "--hyperparameter", "learning-rate=0.1",
            "--base-dir", str(base),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    export = base / "model" / "half_plus_three" / "1"
    assert (export / "saved_model.pb").exists()
    assert "NOT be servable" not in proc.stderr
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, tensorflow as tf\n"
            "m = tf.saved_model.load(sys.argv[1])\n"
            "y = m.signatures['serving_default'](x=tf.constant([1.0, 2.0, 5.0]))['y']\n"
            "print(','.join(f'{v:.2f}' for v in y.numpy()))\n",
            str(export),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stderr[-2000:]
    assert check.stdout.strip().splitlines()[-1] == "3.50,4.00,5.50"
