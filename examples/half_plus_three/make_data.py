"""Write the example's two channels: CSV rows `x,y` with y = 0.5 x + 3 plus a little noise."""

import argparse
import random
from pathlib import Path


def write_channel(directory: Path, rows: int, rng: random.Random) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "data.csv", "w", encoding="utf-8") as f:
        f.write("x,y\n")
        for _ in range(rows):
            x = rng.uniform(-10.0, 10.0)
            f.write(f"{x:.6f},{0.5 * x + 3.0 + rng.gauss(0.0, 0.01):.6f}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("output", type=Path, help="directory to hold training/ and testing/")
    parser.add_argument("--rows", type=int, default=2000)
    args = parser.parse_args()
    rng = random.Random(42)
    write_channel(args.output / "training", args.rows, rng)
    write_channel(args.output / "testing", args.rows // 4, rng)


if __name__ == "__main__":
    main()
