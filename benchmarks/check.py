"""Benchmark: `streamgov check --against git:main` on 1,000 schemas with 10 versions each.

Builds a repository in a temporary directory: 1,000 Avro schema files, each changed in 10
commits (every version adds an optional field), then changes every file once more in the
working tree. Times the whole command as a subprocess, at BACKWARD (latest version only) and
at BACKWARD_TRANSITIVE (all 10 versions from git history), against the anchor: the goal of
10 seconds on a 2-core machine.

Run: python benchmarks/check.py [--files N] [--versions N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ANCHOR_SECONDS = 10.0
#: The command line through the Python running the benchmark (not whatever is on PATH).
_COMMAND = [sys.executable, "-m", "streamgov"]


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def _schema(index: int, version: int) -> str:
    """A realistic event: 15 base fields, a nested record, an enum; each version adds one."""
    status = {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID", "SHIPPED", "DONE"]}
    address = {
        "type": "record",
        "name": "Address",
        "fields": [{"name": name, "type": "string"} for name in ("street", "city", "zip")],
    }
    fields = [
        {"name": "id", "type": "string"},
        {"name": "amount", "type": "long"},
        {"name": "status", "type": status},
        {"name": "address", "type": address},
        *({"name": f"attr_{n}", "type": ["null", "string"], "default": None} for n in range(11)),
        *(
            {"name": f"extra_{n}", "type": ["null", "string"], "default": None}
            for n in range(version)
        ),
    ]
    record = {
        "type": "record",
        "name": f"Event{index}",
        "namespace": "com.acme.bench",
        "fields": fields,
    }
    return json.dumps(record, indent=2) + "\n"


def _path(index: int) -> str:
    return f"schemas/event{index:04d}-value.avsc"


def _init(root: Path) -> None:
    root.mkdir(parents=True)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "user.email", "bench@example.com")
    _git(root, "config", "user.name", "bench")


def _fast_import(root: Path, commits: list[list[tuple[str, str]]]) -> None:
    """Write `commits` (each a list of (path, text)) onto main with one `git fast-import`."""
    stream: list[bytes] = []
    for number, changes in enumerate(commits, start=1):
        message = f"commit {number}".encode()
        stream.append(b"commit refs/heads/main\n")
        stream.append(f"mark :{number}\n".encode())
        stream.append(
            f"committer bench <bench@example.com> {1_700_000_000 + number} +0000\n".encode()
        )
        stream.append(f"data {len(message)}\n".encode() + message + b"\n")
        if number > 1:
            stream.append(f"from :{number - 1}\n".encode())
        for path, text in changes:
            data = text.encode()
            stream.append(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")
    subprocess.run(
        ["git", "-C", str(root), "fast-import", "--quiet"],
        input=b"".join(stream),
        check=True,
        capture_output=True,
    )
    _git(root, "checkout", "-q", "-f", "main")


def build(root: Path, files: int, versions: int, deep: bool) -> None:
    """A repository whose main branch holds `versions` versions of `files` schema files.

    Wide: one commit per version touching every file. Deep: one commit per file version
    (files * versions commits), the shape of a long-lived repository.
    """
    _init(root)
    if deep:
        commits = [
            [(_path(index), _schema(index, version))]
            for version in range(versions)
            for index in range(files)
        ]
    else:
        commits = [
            [(_path(index), _schema(index, version)) for index in range(files)]
            for version in range(versions)
        ]
    _fast_import(root, commits)
    for index in range(files):
        (root / _path(index)).write_text(_schema(index, versions))


def _configure(root: Path, level: str) -> None:
    (root / "streamgov.yaml").write_text(
        "schemas:\n"
        f"  compatibility: {level}\n"
        "  files:\n"
        "    - {glob: 'schemas/*-value.avsc', strategy: TopicNameStrategy, "
        "topic: '{stem}'}\n"
    )


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_check(root: Path, jobs: int | None = None) -> tuple[float, float, dict[str, int]]:
    """Wall time and CPU time (all processes) of the whole command, and its summary counts."""
    cpu = _child_cpu()
    started = time.perf_counter()
    done = subprocess.run(
        [
            *_COMMAND,
            "check",
            "--against",
            "git:main",
            "--format",
            "json",
            *(["--jobs", str(jobs)] if jobs else []),
        ],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    cpu = _child_cpu() - cpu
    if done.returncode != 0:
        raise SystemExit(f"check failed ({done.returncode}): {done.stderr or done.stdout[:2000]}")
    summary: dict[str, int] = json.loads(done.stdout)["summary"]
    return elapsed, cpu, summary


def main() -> None:
    """Build the repositories, time the check at both levels, print figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1_000)
    parser.add_argument("--versions", type=int, default=10)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="streamgov-check-bench-"))
    print(f"anchor: goal of {ANCHOR_SECONDS:.0f} s for the whole command ({os.cpu_count()} CPUs)")
    try:
        for deep in (False, True):
            shape = "deep" if deep else "wide"
            root = workdir / shape
            started = time.perf_counter()
            build(root, args.files, args.versions, deep)
            commits = args.files * args.versions if deep else args.versions
            print(
                f"{shape}: {args.files} schemas x {args.versions} versions in {commits} commits "
                f"(built in {time.perf_counter() - started:.1f} s); every file changed"
            )
            runs = [("BACKWARD", None), ("BACKWARD_TRANSITIVE", 1), ("BACKWARD_TRANSITIVE", None)]
            for level, jobs in runs:
                _configure(root, level)
                elapsed, cpu, summary = time_check(root, jobs)
                checked = summary["compatible"] + summary["incompatible"]
                name = f"{level} --jobs {jobs or os.cpu_count()}"
                print(
                    f"  {name:<30} {elapsed:6.2f} s wall, {cpu:6.2f} s CPU, {checked} checked; "
                    f"ratio to anchor {elapsed / ANCHOR_SECONDS:.2f}x "
                    f"({'within' if elapsed <= ANCHOR_SECONDS else 'OVER'} the goal; "
                    f"load average {os.getloadavg()[0]:.1f})"
                )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
