"""Server time of the usage dashboard and the PAT list: 1k versus 1M usage rows.

Builds two accounts with `seed-demo` in a temporary instance (or reuses one given
with --instance), then renders each page through the Flask test client many
times and reports the median per page and the 1M/1k ratio, all in one run.

    .venv/bin/python bench/usage_pages.py [--large 1000000] [--small 1000] [--repeat 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PASSWORD = "benchmark-password"
CLI = str(Path(sys.executable).parent / "pat-manager")


def seed(env: dict, email: str, events: int) -> None:
    subprocess.run(
        [CLI, "create-user", email],
        input=PASSWORD + "\n",
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    subprocess.run(
        [
            CLI,
            "seed-demo",
            email,
            "--events",
            str(events),
            "--days",
            "90",
            "--seed",
            "1",
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )


def page_times(app, email: str, paths: list[str], repeat: int) -> dict[str, float]:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    client.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    results = {}
    for path in paths:
        assert client.get(path).status_code == 200, path  # warm-up, and a check
        samples = []
        for _ in range(repeat):
            start = time.perf_counter()
            response = client.get(path)
            response.get_data()
            samples.append(time.perf_counter() - start)
        results[path] = statistics.median(samples) * 1000
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument(
        "--instance", help="reuse this instance folder (seeded on first use)"
    )
    args = parser.parse_args()

    instance = Path(args.instance or tempfile.mkdtemp(prefix="pat-bench-"))
    env = {
        **os.environ,
        "PAT_MANAGER_INSTANCE_PATH": str(instance),
        "PAT_MANAGER_LOG_LEVEL": "WARNING",
    }
    small, large = "small@bench.example", "large@bench.example"
    if not (instance / "pat_manager.sqlite3").exists():
        print(
            f"seeding {args.small:,} and {args.large:,} usage rows in {instance} ...",
            flush=True,
        )
        seed(env, small, args.small)
        seed(env, large, args.large)

    os.environ.update(env)
    from pat_manager import create_app

    app = create_app()
    paths = ["/usage", "/pats/", "/history/"]
    small_times = page_times(app, small, paths, args.repeat)
    large_times = page_times(app, large, paths, args.repeat)
    print(f"{'page':<10} {args.small:>9,} rows {args.large:>11,} rows   ratio")
    for path in paths:
        ratio = large_times[path] / small_times[path]
        print(
            f"{path:<10} {small_times[path]:>10.1f} ms {large_times[path]:>12.1f} ms   {ratio:.2f}x"
        )


if __name__ == "__main__":
    main()
