"""What the supervisor tells the front's workers: backends, default model, handler module.

Passed as JSON in one environment variable of the gunicorn process (an explicit env dict, no
files to race on); read once per worker when the app is created.
"""

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass

ENV_VAR = "SAGEMAKER_SERVING_FRONT_CONFIG"


@dataclass(frozen=True)
class FrontConfig:
    """The front's view of the endpoint."""

    backends: tuple[tuple[int, int], ...]  # (gRPC port, REST port) per instance
    default_model: str
    inference_module: str | None
    read_timeout_seconds: float
    handler_timeout_seconds: float = 30.0
    legacy_module: str | None = None
    default_accept: str = "application/json"

    def to_env(self) -> dict[str, str]:
        return {ENV_VAR: json.dumps(asdict(self))}

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "FrontConfig":
        raw = json.loads(environ[ENV_VAR])
        return cls(
            backends=tuple((int(g), int(r)) for g, r in raw["backends"]),
            default_model=raw["default_model"],
            inference_module=raw["inference_module"],
            read_timeout_seconds=float(raw["read_timeout_seconds"]),
            handler_timeout_seconds=float(raw.get("handler_timeout_seconds", 30.0)),
            legacy_module=raw.get("legacy_module"),
            default_accept=raw.get("default_accept", "application/json"),
        )
