"""The command line of `examples/<company>/generate.py`: demo databases without running Privet."""

from __future__ import annotations

import argparse
import sys

from privet.demo.generator import generate
from privet.kit.errors import PrivetError


def main(company: str) -> None:
    """Parse the arguments, generate the company's demo databases, print rows per table."""
    parser = argparse.ArgumentParser(description=f"Create {company}'s demo customer databases (deterministic).")
    parser.add_argument(
        "--url",
        default=f"sqlite:///{company}-demo.sqlite",
        help="SQLAlchemy URL of the database for all datastores (default: %(default)s)",
    )
    parser.add_argument("--customers", type=int, default=200, help="number of customers (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default: %(default)s)")
    parser.add_argument("--reset", action="store_true", help="drop and regenerate tables that hold data")
    args = parser.parse_args()
    try:
        counts = generate(company, args.url, customers=args.customers, seed=args.seed, reset=args.reset)
    except PrivetError as exc:
        print(f"error: {exc.render()}", file=sys.stderr)
        sys.exit(2)
    for table, rows in counts.items():
        print(f"{table:<24} {rows:>8}")
    print(f"{'total':<24} {sum(counts.values()):>8}")
