"""Create Zkteco's demo customer databases without running Privet: `python examples/zkteco/generate.py --url URL`.

Deterministic: the same --seed and --customers give the same rows. Works with SQLite, PostgreSQL
(postgresql+psycopg://...) and MariaDB (mysql+pymysql://...); tables that already hold data are left alone.
"""

import sys
from pathlib import Path

try:
    from privet.demo.script import main
except ImportError:  # a plain checkout: use the package next to this file
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))
    from privet.demo.script import main

if __name__ == "__main__":
    main("zkteco")
