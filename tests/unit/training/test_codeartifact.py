"""pip index URLs from CodeArtifact repositories (`CA_REPOSITORY_ARN`, training.md §9)."""

import pytest

from sagemaker_tensorflow_runtime.training.codeartifact import (
    CodeArtifactRepository,
    index_url,
    pip_index_url,
)
from sagemaker_tensorflow_runtime.training.errors import ConfigurationError

ARN = "arn:aws:codeartifact:us-west-2:123456789012:repository/my-domain/my-repo"
ENDPOINT = "https://my-domain-123456789012.d.codeartifact.us-west-2.amazonaws.com/pypi/my-repo/"

ARNS = [
    (ARN, CodeArtifactRepository("us-west-2", "123456789012", "my-domain", "my-repo")),
    (
        "arn:aws-cn:codeartifact:cn-north-1:000000000001:repository/d/r.x_y-z",
        CodeArtifactRepository("cn-north-1", "000000000001", "d", "r.x_y-z"),
    ),
    (f"  {ARN}\n", CodeArtifactRepository("us-west-2", "123456789012", "my-domain", "my-repo")),
]

BAD_ARNS = [
    "",
    "my-repo",
    "arn:aws:codeartifact:us-west-2:123456789012:domain/my-domain",
    "arn:aws:s3:us-west-2:123456789012:repository/my-domain/my-repo",
    "arn:aws:codeartifact:us-west-2:acct:repository/my-domain/my-repo",
    "arn:aws:codeartifact:us-west-2:123456789012:repository/my-domain/my-repo/extra",
]

INDEX_URLS = [
    (
        ENDPOINT,
        "https://aws:TOKEN@my-domain-123456789012.d.codeartifact.us-west-2.amazonaws.com"
        "/pypi/my-repo/simple/",
    ),
    ("https://host/pypi/repo", "https://aws:TOKEN@host/pypi/repo/simple/"),
]


class FakeCodeArtifact:
    """The two CodeArtifact calls pip_index_url makes, recorded."""

    def __init__(self, fail=False):
        self.calls = []
        self.fail = fail

    def get_authorization_token(self, **kwargs):
        self.calls.append(("get_authorization_token", kwargs))
        if self.fail:
            raise RuntimeError("AccessDeniedException")
        return {"authorizationToken": "TOKEN", "expiration": 0}

    def get_repository_endpoint(self, **kwargs):
        self.calls.append(("get_repository_endpoint", kwargs))
        return {"repositoryEndpoint": ENDPOINT}


@pytest.mark.parametrize(("arn", "repository"), ARNS)
def test_from_arn(arn, repository):
    assert CodeArtifactRepository.from_arn(arn) == repository


@pytest.mark.parametrize("arn", BAD_ARNS)
def test_bad_arn_is_a_configuration_error(arn):
    with pytest.raises(ConfigurationError, match="is not a CodeArtifact repository ARN"):
        CodeArtifactRepository.from_arn(arn)


@pytest.mark.parametrize(("endpoint", "url"), INDEX_URLS)
def test_index_url(endpoint, url):
    assert index_url("TOKEN", endpoint) == url


def test_pip_index_url_asks_for_token_and_endpoint():
    client = FakeCodeArtifact()

    url = pip_index_url(ARN, client)

    assert url == (
        "https://aws:TOKEN@my-domain-123456789012.d.codeartifact.us-west-2.amazonaws.com"
        "/pypi/my-repo/simple/"
    )
    assert client.calls == [
        ("get_authorization_token", {"domain": "my-domain", "domainOwner": "123456789012"}),
        (
            "get_repository_endpoint",
            {
                "domain": "my-domain",
                "domainOwner": "123456789012",
                "repository": "my-repo",
                "format": "pypi",
            },
        ),
    ]


def test_pip_index_url_failure_is_a_configuration_error_naming_the_arn():
    with pytest.raises(ConfigurationError) as raised:
        pip_index_url(ARN, FakeCodeArtifact(fail=True))

    message = str(raised.value)
    assert ARN in message
    assert "AccessDeniedException" in message
    assert "codeartifact:GetAuthorizationToken" in message


def test_bad_arn_fails_before_any_call():
    client = FakeCodeArtifact()

    with pytest.raises(ConfigurationError):
        pip_index_url("not-an-arn", client)

    assert client.calls == []
