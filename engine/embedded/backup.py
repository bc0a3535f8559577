"""Backup and restore of an embedded cluster directory with SQLite's online backup API.

A backup copies each database of the cluster (`cluster.db`, `groups.db`, `topics/<id>.db`) in
one read transaction per database, so it is consistent per file while producers, consumers
and the server keep running: each topic is copied as of one moment, with every record
acknowledged before that moment, and then the segment files its copy points into
(`topics/<id>.segments/`, up to the sizes the copy records). Topic metadata is copied first
and decides which topics are in the backup (a topic created during the backup is not; one
deleted during it is dropped from the copy's metadata). The copies are single `.db` files
without a `-wal`, and each topic gets an end-offset file matching its copy.

A restore checks every file of the backup (`PRAGMA quick_check`, and the CRC of every batch
in a segment file), builds the cluster next to
its destination and renames it into place; an existing cluster directory is moved aside, never
deleted. Restore into a cluster no process is using (stop `streamgov up` first).
"""

from __future__ import annotations

import contextlib
import errno
import json
import shutil
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from engine.embedded import log, segments
from engine.embedded.ends import EndOffsets, ends_path
from engine.embedded.sqlite import storage_error
from engine.errors import DamagedFileError, EngineError, StorageError, StorageFullError

_CLUSTER_DB = "cluster.db"
_GROUPS_DB = "groups.db"
_MANIFEST = "streamgov-backup.json"


class BackupError(EngineError):
    """A backup or restore was refused (the message says why and what to do)."""


@dataclass
class BackupReport:
    """What a backup or restore copied."""

    directory: Path
    topics: dict[str, dict[int, int]] = field(default_factory=dict)
    bytes_copied: int = 0


def _open(path: Path, *, readonly: bool) -> sqlite3.Connection:
    mode = "ro" if readonly else "rwc"
    try:
        return sqlite3.connect(f"file:{quote(str(path))}?mode={mode}", uri=True, timeout=30.0)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot open {path}: {exc}") from exc


def _copy_db(source: Path, target: Path, directory: Path) -> int:
    """Copy one database with the online backup API; returns the bytes of the copy."""
    src = _open(source, readonly=True)
    dst = _open(target, readonly=False)
    try:
        # One step: one read transaction (a stepwise copy restarts whenever a writer commits).
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # a self-contained file, no -wal
    except sqlite3.Error as exc:
        raise (storage_error(exc, source, directory) or BackupError(f"{source}: {exc}")) from exc
    finally:
        dst.close()
        src.close()
    return target.stat().st_size


#: Copies of a topic attempted while retention keeps deleting segment files under them.
_TOPIC_ATTEMPTS = 5


def _copy_topic(source: Path, target: Path, directory: Path) -> int:
    """Copy a topic's database, then the segment files the copy points into (each up to the
    size the copy records: segments only grow at their end, so the bytes the copy's snapshot
    points at are there, unless retention deleted the file since, when the copy starts over
    from a newer snapshot). Returns the bytes copied."""
    for _ in range(_TOPIC_ATTEMPTS):
        copied = _copy_db(source, target, directory)
        conn = _open(target, readonly=True)
        try:
            return copied + segments.copy(
                conn, segments.directory(source), segments.directory(target)
            )
        except segments.SegmentGoneError:
            pass  # start over below
        except OSError as exc:
            raise _os_error(exc, directory) from exc
        finally:
            conn.close()
        shutil.rmtree(segments.directory(target), ignore_errors=True)
        target.unlink()
    raise BackupError(f"the segment files of {source} kept being deleted while they were copied")


def _check_segments(db: Path) -> None:
    """Check every batch the backed-up topic database `db` keeps in a segment file: its
    length, base offset and CRC (`DamagedFileError` naming the first wrong one)."""
    conn = _open(db, readonly=True)
    try:
        if not segments.recorded(conn):
            return  # written before segment files existed
        with segments.Reader(segments.directory(db)) as reader:
            damaged = log.damaged_batches(conn, reader, unsynced_only=False)
    finally:
        conn.close()
    for part, (offset, _, problem) in sorted(damaged.items()):
        raise DamagedFileError(
            str(segments.directory(db)),
            f"partition {part}: the batch at offset {offset} is damaged: {problem}",
        )


def _topics(db: Path) -> dict[str, str]:
    """Topic name -> topic id, from a `cluster.db`."""
    conn = _open(db, readonly=True)
    try:
        return {str(n): str(i) for n, i in conn.execute("SELECT name, topic_id FROM topics")}
    except sqlite3.Error as exc:
        raise (storage_error(exc, db, db.parent) or BackupError(f"{db}: {exc}")) from exc
    finally:
        conn.close()


def _ends_of(db: Path) -> dict[int, int]:
    conn = _open(db, readonly=True)
    try:
        return {int(p): int(e) for p, e in conn.execute("SELECT part, next_offset FROM partitions")}
    finally:
        conn.close()


def _write_ends(db: Path, recorded: dict[int, int] | None = None) -> dict[int, int]:
    """Give a copied topic database the end-offset file its copy ends at, or the `recorded`
    ends of its source where those are higher: a source that already lost acknowledged
    records (read before the copy, they never exceed what the copy holds otherwise) keeps
    saying so in the copy."""
    ends = _ends_of(db)
    for part, end in (recorded or {}).items():
        if end > ends.get(part, 0):
            ends[part] = end
    recorder = EndOffsets(ends_path(db), durable=True)
    try:
        if ends:
            recorder.lower_to(ends)
    finally:
        recorder.close()
    return ends


def _empty_or_missing(directory: Path) -> bool:
    return not directory.exists() or (directory.is_dir() and not any(directory.iterdir()))


def backup(cluster_dir: Path, target: Path) -> BackupReport:
    """Copy the cluster in `cluster_dir` into the new or empty directory `target`."""
    if not (cluster_dir / _CLUSTER_DB).is_file():
        raise BackupError(f"{cluster_dir} holds no embedded cluster (no {_CLUSTER_DB})")
    if not _empty_or_missing(target):
        raise BackupError(f"{target} is not empty: back up into a new or empty directory")
    (target / "topics").mkdir(parents=True, exist_ok=True)
    report = BackupReport(target)
    try:
        report.bytes_copied += _copy_db(cluster_dir / _CLUSTER_DB, target / _CLUSTER_DB, target)
        if (cluster_dir / _GROUPS_DB).is_file():
            report.bytes_copied += _copy_db(cluster_dir / _GROUPS_DB, target / _GROUPS_DB, target)
        gone = []
        for name, topic_id in sorted(_topics(target / _CLUSTER_DB).items()):
            source = cluster_dir / "topics" / f"{topic_id}.db"
            if not source.is_file():  # deleted since the metadata was copied
                gone.append(name)
                continue
            copy = target / "topics" / f"{topic_id}.db"
            recorded = EndOffsets(ends_path(source)).read()
            report.bytes_copied += _copy_topic(source, copy, target)
            report.topics[name] = _write_ends(copy, recorded)
        if gone:
            conn = _open(target / _CLUSTER_DB, readonly=False)
            with conn:
                conn.executemany("DELETE FROM topics WHERE name = ?", [(n,) for n in gone])
            conn.close()
        manifest = {
            "format": 1,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "source": str(cluster_dir),
            "topics": {
                name: {str(p): e for p, e in ends.items()} for name, ends in report.topics.items()
            },
        }
        (target / _MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    except OSError as exc:
        raise _os_error(exc, target) from exc
    return report


def _check(db: Path) -> None:
    conn = _open(db, readonly=True)
    try:
        (result,) = conn.execute("PRAGMA quick_check").fetchone()
    except sqlite3.Error as exc:
        raise (storage_error(exc, db, db.parent) or DamagedFileError(str(db), str(exc))) from exc
    finally:
        conn.close()
    if result != "ok":
        raise DamagedFileError(str(db), f"integrity check: {result}")


def restore(
    source: Path, cluster_dir: Path, *, replace: bool = False
) -> tuple[BackupReport, Path | None]:
    """Restore the backup in `source` as the cluster `cluster_dir`. An existing cluster there
    is refused unless `replace`, which moves it aside; returns the report and where the old
    cluster went (None when there was none)."""
    if not (source / _MANIFEST).is_file() or not (source / _CLUSTER_DB).is_file():
        raise BackupError(f"{source} is not a streamgov backup (no {_MANIFEST})")
    if not _empty_or_missing(cluster_dir) and not replace:
        raise BackupError(
            f"{cluster_dir} already holds a cluster: pass --replace to move it aside "
            "(it is kept, renamed) and restore in its place"
        )
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    staging = cluster_dir.with_name(f"{cluster_dir.name}.restoring-{stamp}")
    report = BackupReport(cluster_dir)
    try:
        topics = _topics(source / _CLUSTER_DB)
        files = [source / _CLUSTER_DB]
        if (source / _GROUPS_DB).is_file():
            files.append(source / _GROUPS_DB)
        for name, topic_id in topics.items():
            db = source / "topics" / f"{topic_id}.db"
            if not db.is_file():
                raise BackupError(f"the backup lacks {db}, the log of topic {name!r}")
            files.append(db)
        for db in files:
            _check(db)
            if db.parent.name == "topics":
                _check_segments(db)
        (staging / "topics").mkdir(parents=True)
        for db in files:
            copy = staging / db.relative_to(source)
            if db.parent.name == "topics":
                report.bytes_copied += _copy_topic(db, copy, staging)
            else:
                report.bytes_copied += _copy_db(db, copy, staging)
        for name, topic_id in topics.items():
            recorded = EndOffsets(ends_path(source / "topics" / f"{topic_id}.db")).read()
            report.topics[name] = _write_ends(staging / "topics" / f"{topic_id}.db", recorded)
        moved: Path | None = None
        if cluster_dir.exists():
            if any(cluster_dir.iterdir()):
                moved = cluster_dir.with_name(f"{cluster_dir.name}.before-restore-{stamp}")
                cluster_dir.rename(moved)
            else:
                cluster_dir.rmdir()
        cluster_dir.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(cluster_dir)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            shutil.rmtree(staging)
        if isinstance(exc, OSError):
            raise _os_error(exc, cluster_dir.parent) from exc
        raise
    return report, moved


def _os_error(exc: OSError, directory: Path) -> StorageError:
    if exc.errno == errno.ENOSPC:
        return StorageFullError(str(directory), exc.filename)
    return StorageError(f"{exc.strerror or exc}: {exc.filename or directory}", str(directory))
