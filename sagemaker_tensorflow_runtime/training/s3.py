"""The S3 operations a training job may need; boto3 is imported only when one is called.

Endpoint: `S3_ENDPOINT_URL`, then `AWS_ENDPOINT_URL_S3` (botocore also honours the latter);
region: `AWS_REGION`, then the job region.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

CONNECT_TIMEOUT_SECONDS = 10
READ_TIMEOUT_SECONDS = 60


def split_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, key) of `s3://bucket/key`."""
    scheme, sep, rest = uri.partition("://")
    if not sep or scheme != "s3":
        raise ValueError(f"Expecting 's3' scheme, got: {scheme if sep else ''}")
    bucket, _, key = rest.partition("/")
    return bucket, key.lstrip("/")


def s3_client(environ: Mapping[str, str], region: str | None, attempts: int = 3) -> Any:
    import boto3
    from botocore.config import Config

    endpoint = environ.get("S3_ENDPOINT_URL") or environ.get("AWS_ENDPOINT_URL_S3") or None
    config = Config(
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"max_attempts": attempts, "mode": "standard"},
    )
    return boto3.session.Session().client(
        "s3",
        region_name=environ.get("AWS_REGION") or region or None,
        endpoint_url=endpoint,
        config=config,
    )


def download(uri: str, target: Path, environ: Mapping[str, str], region: str | None) -> None:
    bucket, key = split_s3_uri(uri)
    s3_client(environ, region).download_file(bucket, key, str(target))


def bucket_region(uri: str, environ: Mapping[str, str], region: str | None) -> str:
    """The region of the bucket in `uri`; an empty LocationConstraint means us-east-1."""
    bucket, _ = split_s3_uri(uri)
    response = s3_client(environ, region, attempts=1).get_bucket_location(Bucket=bucket)
    return response.get("LocationConstraint") or "us-east-1"
