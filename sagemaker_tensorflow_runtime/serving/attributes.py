"""`X-Amzn-SageMaker-Custom-Attributes`: which model, version and method (serving.md §8)."""

import re
from dataclasses import dataclass
from urllib.parse import quote

from sagemaker_tensorflow_runtime.serving.errors import BadRequest

ATTRIBUTE = re.compile(r"tfs-[a-z\-]+=[^,]+")
METHODS = ("predict", "classify", "regress")
VERSION = re.compile(r"0*[0-9]{1,19}")
MAX_VERSION = 2**63 - 1


@dataclass(frozen=True)
class ModelRequest:
    """The model a request targets, with defaults applied."""

    name: str
    version: int | None = None
    method: str = "predict"

    def path(self, action: bool = True) -> str:
        """`/v1/models/<name>[/versions/<v>][:<method>]` on a backend's REST API."""
        path = f"/v1/models/{quote(self.name, safe='')}"
        if self.version is not None:
            path += f"/versions/{self.version}"
        return path + (f":{self.method}" if action else "")


def parse_custom_attributes(header: str | None, default_model: str) -> ModelRequest:
    values: dict[str, str] = {}
    for match in ATTRIBUTE.findall(header or ""):
        parts = match.split("=")
        if len(parts) == 2:
            values[parts[0].strip()] = parts[1].strip()
    version_text = values.get("tfs-model-version")
    version = None
    if version_text is not None:
        # ASCII digits within int64, as TF Serving's versions (str.isdigit takes "²" too)
        version = int(version_text) if VERSION.fullmatch(version_text) else -1
        if not 0 <= version <= MAX_VERSION:
            raise BadRequest(
                f"tfs-model-version must be an integer from 0 to {MAX_VERSION}, "
                f"got {version_text[:40]!r}"
            )
    method = values.get("tfs-method", "predict")
    if method not in METHODS:
        raise BadRequest(f"tfs-method must be one of {', '.join(METHODS)}, got {method!r}")
    return ModelRequest(values.get("tfs-model-name", default_model), version, method)
