"""Getting the user's code: s3://, local archives and directories, safe extraction."""

import json
import tarfile
from pathlib import Path

from conftest import JobTree, S3Server, make_tarball

SCRIPT = (
    "import os, sys\nprint('first-line', flush=True)\n"
    "open(os.path.join(os.environ['SM_MODEL_DIR'], 'ran.txt'), 'w').write(os.getcwd())\n"
)


def source_job(job: JobTree, submit_directory: str, entry: str = "train.py") -> None:
    job.hyperparameters(
        {
            "sagemaker_program": json.dumps(entry),
            "sagemaker_submit_directory": json.dumps(submit_directory),
        }
    )
    job.single_host()


def ran(job: JobTree) -> bool:
    return (job.base / "model" / "ran.txt").exists()


def test_s3_sourcedir_is_downloaded_and_extracted(
    job: JobTree, s3_server: S3Server, tmp_path: Path
) -> None:
    s3_server.client.create_bucket(Bucket="code-bucket")
    archive = make_tarball(tmp_path / "sourcedir.tar.gz", {"train.py": SCRIPT, "lib/x.txt": "x"})
    s3_server.client.upload_file(str(archive), "code-bucket", "job/source/sourcedir.tar.gz")
    uri = "s3://code-bucket/job/source/sourcedir.tar.gz"
    source_job(job, uri)
    run = job.run(**s3_server.env())
    assert run.returncode == 0, run.stderr
    assert ran(job)
    assert (job.code_dir / "lib" / "x.txt").read_text() == "x"
    report_env = json.loads((job.base / "input" / "config" / "hyperparameters.json").read_text())
    assert report_env["sagemaker_submit_directory"] == json.dumps(uri)


def test_s3_missing_object_is_a_clear_user_error(job: JobTree, s3_server: S3Server) -> None:
    s3_server.client.create_bucket(Bucket="empty-bucket")
    uri = "s3://empty-bucket/nope/sourcedir.tar.gz"
    source_job(job, uri)
    run = job.run(**s3_server.env())
    assert run.returncode == 1
    assert f"Could not download the source code {uri}" in run.failure
    assert "Traceback" not in run.stderr


def test_model_dir_bucket_region_sets_s3_region(job: JobTree, s3_server: S3Server) -> None:
    s3_server.client.create_bucket(
        Bucket="models-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"}
    )
    job.sdk_hyperparameters("knobs.py", model_dir="s3://models-eu/job/model")
    job.single_host()
    job.add_program()
    run = job.run(**s3_server.env(region="us-west-2"))
    assert run.returncode == 0, run.stderr
    env = run.report["env"]
    assert env["S3_REGION"] == "eu-west-2"
    assert env["SAGEMAKER_REGION"] == "us-west-2"


def test_local_tarball_is_extracted(job: JobTree, tmp_path: Path) -> None:
    archive = make_tarball(tmp_path / "src.tar.gz", {"train.py": SCRIPT})
    source_job(job, str(archive))
    run = job.run()
    assert run.returncode == 0, run.stderr
    assert ran(job)
    assert (job.base / "model" / "ran.txt").read_text() == str(job.code_dir)


def test_network_isolation_path_is_read_under_the_base_dir(job: JobTree) -> None:
    channel = job.base / "input" / "data" / "code"
    channel.mkdir(parents=True)
    make_tarball(channel / "sourcedir.tar.gz", {"train.py": SCRIPT})
    source_job(job, "/opt/ml/input/data/code/sourcedir.tar.gz")
    run = job.run()
    assert run.returncode == 0, run.stderr
    assert ran(job)


def test_local_directory_is_copied(job: JobTree, tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "pkg").mkdir(parents=True)
    (src / "train.py").write_text(SCRIPT)
    (src / "pkg" / "data.txt").write_text("d")
    source_job(job, str(src))
    run = job.run()
    assert run.returncode == 0, run.stderr
    assert ran(job)
    assert (job.code_dir / "pkg" / "data.txt").exists()
    assert (src / "train.py").exists()


def test_code_is_extracted_over_a_non_empty_code_dir_with_a_warning(
    job: JobTree, tmp_path: Path
) -> None:
    job.code_dir.mkdir()
    (job.code_dir / "train.py").write_text("raise SystemExit('stale code ran')\n")
    (job.code_dir / "old.txt").write_text("old")
    archive = make_tarball(tmp_path / "src.tar.gz", {"train.py": SCRIPT})
    source_job(job, str(archive))
    run = job.run()
    assert run.returncode == 0, run.stderr
    assert ran(job)
    assert "is not empty (old.txt, train.py)" in run.stderr
    assert (job.code_dir / "old.txt").exists()


def test_archive_with_parent_member_is_refused(job: JobTree, tmp_path: Path) -> None:
    evil = tarfile.TarInfo("../evil.py")
    evil.size = 4
    archive = make_tarball(tmp_path / "src.tar.gz", {"train.py": SCRIPT}, [evil])
    source_job(job, str(archive))
    run = job.run()
    assert run.returncode == 1
    assert "Refusing to extract" in run.failure
    assert "'../evil.py' would be written outside the code directory" in run.failure
    assert not (job.base / "evil.py").exists()
    assert not (job.code_dir / "train.py").exists()  # nothing extracted at all
    assert not ran(job)


def test_archive_with_absolute_member_and_outside_link_are_refused(
    job: JobTree, tmp_path: Path
) -> None:
    link = tarfile.TarInfo("passwd")
    link.type = tarfile.SYMTYPE
    link.linkname = "../../../etc/passwd"
    archive = make_tarball(tmp_path / "src.tar.gz", {"train.py": SCRIPT}, [link])
    source_job(job, str(archive))
    run = job.run()
    assert run.returncode == 1
    assert "symbolic link 'passwd' -> '../../../etc/passwd' points outside" in run.failure

    absolute = tarfile.TarInfo("/tmp/abs.py")
    absolute.size = 1
    archive = make_tarball(tmp_path / "abs.tar.gz", {"train.py": SCRIPT}, [absolute])
    source_job(job, str(archive))
    run = job.run()
    assert run.returncode == 1
    assert "'/tmp/abs.py' would be written outside" in run.failure


def test_unreadable_archive_is_a_clear_error(job: JobTree, tmp_path: Path) -> None:
    broken = tmp_path / "sourcedir.tar.gz"
    good = make_tarball(tmp_path / "good.tar.gz", {"train.py": SCRIPT * 200})
    broken.write_bytes(good.read_bytes()[:300])
    source_job(job, str(broken))
    run = job.run()
    assert run.returncode == 1
    assert "sourcedir.tar.gz" in run.failure
    assert "Traceback" not in run.stderr


def test_missing_local_source_and_foreign_scheme(job: JobTree) -> None:
    source_job(job, "/nonexistent/sourcedir.tar.gz")
    run = job.run()
    assert run.returncode == 1
    assert "'/nonexistent/sourcedir.tar.gz' does not exist" in run.failure

    source_job(job, "gs://bucket/sourcedir.tar.gz")
    run = job.run()
    assert run.returncode == 1
    assert "Expecting 's3' scheme, got: gs" in run.failure


def test_submit_directory_env_var_is_the_fallback(job: JobTree, tmp_path: Path) -> None:
    archive = make_tarball(tmp_path / "src.tar.gz", {"train.py": SCRIPT})
    job.hyperparameters({"sagemaker_program": json.dumps("train.py")})
    job.single_host()
    run = job.run(SAGEMAKER_SUBMIT_DIRECTORY=str(archive))
    assert run.returncode == 0, run.stderr
    assert ran(job)
