"""Create Zkteco's demo customer databases without running Privet: `python examples/zkteco/generate.py --url URL`.

Deterministic: the same --seed and --customers give the same rows. Works with SQLite, PostgreSQL
(postgresql+psycopg://...) and MariaDB (mysql+pymysql://...); tables that already hold data are left alone.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

try:
    from privet.demo.generator import generate
except ImportError:  # a plain checkout: use the package next to this file
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))
    from privet.demo.generator import generate
from privet.kit.errors import PrivetError


def main() -> None:
    """Parse the arguments, generate, print rows per table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="sqlite:///zkteco-demo.sqlite",
                        help="SQLAlchemy URL of the database for all datastores (default: %(default)s)")
    parser.add_argument("--customers", type=int, default=200, help="number of customers (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default: %(default)s)")
    parser.add_argument("--reset", action="store_true", help="drop and regenerate tables that hold data")
    args = parser.parse_args()
    try:
        counts = generate("zkteco", args.url, customers=args.customers, seed=args.seed, reset=args.reset)
    except PrivetError as exc:
        print(f"error: {exc.render()}", file=sys.stderr)
        sys.exit(2)
    for table, rows in counts.items():
        print(f"{table:<24} {rows:>8}")
    print(f"{'total':<24} {sum(counts.values()):>8}")


if __name__ == "__main__":
    main()
