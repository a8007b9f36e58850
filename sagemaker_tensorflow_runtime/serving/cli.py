"""`serve`: the hosting command; the name is reserved here and built by the serving issues."""

import sys
from collections.abc import Sequence

EXIT_NOT_AVAILABLE = 2


def main(argv: Sequence[str] | None = None) -> None:
    print(
        "serve: hosting is not part of this runtime version yet; only `train` is available.",
        file=sys.stderr,
    )
    sys.exit(EXIT_NOT_AVAILABLE)
