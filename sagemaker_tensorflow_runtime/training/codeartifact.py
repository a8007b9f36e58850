"""pip index URLs for AWS CodeArtifact repositories (`CA_REPOSITORY_ARN`, training.md §9)."""

import re
from dataclasses import dataclass
from typing import Any

from sagemaker_tensorflow_runtime.training.errors import ConfigurationError

ARN_PATTERN = re.compile(
    r"arn:(?P<partition>[^:]+):codeartifact:(?P<region>[^:]+):(?P<account>\d+):"
    r"repository/(?P<domain>[^/]+)/(?P<repository>[^/]+)"
)


@dataclass(frozen=True)
class CodeArtifactRepository:
    """The parts of a CodeArtifact repository ARN."""

    region: str
    account: str
    domain: str
    repository: str

    @classmethod
    def from_arn(cls, arn: str) -> "CodeArtifactRepository":
        match = ARN_PATTERN.fullmatch(arn.strip())
        if match is None:
            raise ConfigurationError(
                f"CA_REPOSITORY_ARN {arn!r} is not a CodeArtifact repository ARN; expected "
                "arn:<partition>:codeartifact:<region>:<account>:repository/<domain>/<repository>"
            )
        return cls(
            region=match["region"],
            account=match["account"],
            domain=match["domain"],
            repository=match["repository"],
        )


def index_url(token: str, endpoint: str) -> str:
    """`https://aws:<token>@<endpoint host/path>/simple/` as pip's `-i` expects."""
    host_path = endpoint.removeprefix("https://").rstrip("/")
    return f"https://aws:{token}@{host_path}/simple/"


def pip_index_url(arn: str, client: Any = None) -> str:
    """Ask CodeArtifact for a token and the repository endpoint; boto3 only when called."""
    repo = CodeArtifactRepository.from_arn(arn)
    if client is None:
        import boto3

        client = boto3.client("codeartifact", region_name=repo.region)
    try:
        token = client.get_authorization_token(domain=repo.domain, domainOwner=repo.account)[
            "authorizationToken"
        ]
        endpoint = client.get_repository_endpoint(
            domain=repo.domain,
            domainOwner=repo.account,
            repository=repo.repository,
            format="pypi",
        )["repositoryEndpoint"]
    except Exception as exc:  # botocore's error classes are generated at run time
        raise ConfigurationError(
            f"Could not get a pip index from CodeArtifact repository {arn}: {exc}. "
            "Check the ARN and that the job's role may call codeartifact:GetAuthorizationToken "
            "and codeartifact:GetRepositoryEndpoint (and sts:GetServiceBearerToken)."
        ) from None
    return index_url(token, endpoint)
