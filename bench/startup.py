"""Install footprint, cold start of `privet serve` to the first /healthz answer, and resident memory.

Prints a table and ends with one line of JSON. `--quick` measures start-up only on the existing venv
(no fresh install); the full run also installs Privet into a brand-new virtual environment.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _du_mb(path: Path) -> float:
    total = sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    return total / 1e6


def fresh_install() -> dict:
    """Install Privet (default extras: postgres driver) into a new venv; size and package count."""
    with tempfile.TemporaryDirectory() as tmp:
        venv = Path(tmp) / "venv"
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin/pip"), "install", "-q", "--disable-pip-version-check", f"{ROOT}[postgres,demo]"],
            check=True,
            stderr=subprocess.DEVNULL,
        )
        seconds = time.perf_counter() - started
        listing = subprocess.run(
            [str(venv / "bin/pip"), "list", "--format=json"], check=True, capture_output=True, text=True
        ).stdout
        packages = [p["name"] for p in json.loads(listing) if p["name"] not in {"pip", "setuptools", "wheel"}]
        return {
            "install_seconds": round(seconds, 1),
            "install_mb": round(_du_mb(venv), 1),
            "install_packages": len(packages),
        }


def _rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (uvicorn runs in one process here)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cold_start(privet: Path, data_dir: Path) -> tuple[float, float]:
    """Seconds from exec of `privet serve` to a 200 from /healthz, and RSS (MB) right after."""
    port = _free_port()
    env = {
        **os.environ,
        "PRIVET_DATA_DIR": str(data_dir),
        "PRIVET_PORT": str(port),
        "PRIVET_SECRET_KEY": "bench-secret-0123456789abcdef",
        "PRIVET_LOG_LEVEL": "warning",
    }
    env.pop("PRIVET_DATABASE_URL", None)
    started = time.perf_counter()
    proc = subprocess.Popen([str(privet), "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"privet serve exited: {proc.stderr.read().decode()[-500:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                time.sleep(0.02)
        elapsed = time.perf_counter() - started
        time.sleep(0.3)
        return elapsed, _rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def python_start(python: Path) -> float:
    """The floor: starting the interpreter and exiting."""
    started = time.perf_counter()
    subprocess.run([str(python), "-c", "pass"], check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="skip the fresh install; 3 start-ups")
    parser.add_argument("--runs", type=int, default=5, help="start-ups to measure (median reported)")
    args = parser.parse_args()
    venv = ROOT / ".venv"
    privet, python = venv / "bin/privet", venv / "bin/python"
    figures: dict = {}
    if not args.quick:
        figures.update(fresh_install())
    runs = 3 if args.quick else args.runs
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "var"
        env = {**os.environ, "PRIVET_DATA_DIR": str(data_dir), "PRIVET_SECRET_KEY": "bench-secret-0123456789abcdef"}
        env.pop("PRIVET_DATABASE_URL", None)
        subprocess.run([str(privet), "init", "--demo"], env=env, check=True, stdout=subprocess.DEVNULL)
        starts, rss = zip(*(cold_start(privet, data_dir) for _ in range(runs)))
        shutil.rmtree(data_dir, ignore_errors=True)
    floor = statistics.median(python_start(python) for _ in range(runs))
    figures.update(
        {
            "cold_start_s": round(statistics.median(starts), 3),
            "rss_mb": round(statistics.median(rss), 1),
            "python_start_s": round(floor, 3),
            "start_vs_bare_python": round(statistics.median(starts) / floor, 1),
        }
    )
    peer = {"install_mb": 804, "install_packages": 240, "warm_start_s": 13, "rss_mb": 400}
    for key, value in figures.items():
        print(f"{key:>22}: {value}")
    print(f"{'peer (Fides 2.86)':>22}: {peer}")
    print(json.dumps({"bench": "startup", **figures, "peer": peer}))


if __name__ == "__main__":
    main()
