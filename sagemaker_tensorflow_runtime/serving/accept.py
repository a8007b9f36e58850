"""Content-Type matching and Accept negotiation (serving.md §7.1, §7.4)."""

from dataclasses import dataclass

JSON = "application/json"
JSONLINES = "application/jsonlines"
CSV = "text/csv"
RESPONSE_TYPES = (JSON, JSONLINES, CSV)


def media_type(header: str | None) -> str:
    """`application/json; charset=utf-8` → `application/json` (case-insensitive)."""
    return (header or "").split(";", 1)[0].strip().lower()


@dataclass(frozen=True)
class Negotiated:
    """The response type chosen and whether the client asked for it explicitly."""

    content_type: str
    explicit: bool


def negotiate(accept: str | None, supported: tuple[str, ...] = RESPONSE_TYPES) -> Negotiated | None:
    """The first supported type of the Accept list (by q, then order); None if none fits."""
    if accept is None or not accept.strip():
        return Negotiated(JSON, explicit=False)
    ranked = []
    for position, item in enumerate(accept.split(",")):
        parts = [p.strip() for p in item.split(";")]
        kind = parts[0].lower()
        quality = 1.0
        for param in parts[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if kind and quality > 0:
            ranked.append((-quality, position, kind))
    for _, _, kind in sorted(ranked):
        if kind in ("*/*", "application/*"):
            return Negotiated(JSON, explicit=False)
        if kind == "text/*":
            return Negotiated(CSV, explicit=True)
        if kind in supported:
            return Negotiated(kind, explicit=True)
    return None
