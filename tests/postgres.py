"""A throwaway PostgreSQL cluster for the tests, listening on a unix socket only.

It needs the server binaries (Debian/Ubuntu: ``apt-get install postgresql``). As root the
cluster runs as the ``postgres`` system user (or ``nobody``), since initdb refuses root.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
import glob
import itertools
import os
from pathlib import Path
import pwd
import shutil
import subprocess
import tempfile

import psycopg
from psycopg import sql
import pytest

_DATABASES = itertools.count()


def _binaries() -> Path:
    """Return the directory of initdb and pg_ctl: on the PATH, else the newest in /usr/lib."""
    if initdb := shutil.which("initdb"):
        return Path(initdb).parent
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parts[4]),
    )
    if not found:
        pytest.fail("PostgreSQL server binaries not found: apt-get install postgresql")
    return Path(found[-1]).parent


def _unprivileged_user() -> pwd.struct_passwd:
    """Return the user to run the cluster as when the tests run as root."""
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        return pwd.getpwnam("nobody")


@contextmanager
def running_cluster(directory: Path) -> Iterator[Path]:
    """Run a PostgreSQL cluster in directory, made there unless it exists; yield its socket dir.

    The benchmarks keep theirs between runs, the tests' goes with the session.
    """
    binaries = _binaries()
    prefix: list[str] = []
    if os.geteuid() == 0:
        user = _unprivileged_user()
        os.chown(directory, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", user.pw_name, "--"]
    data = directory / "data"
    log = directory / "log"
    initdb: list[str | Path] = [*prefix, binaries / "initdb", "-D", data]
    pg_ctl: list[str | Path] = [*prefix, binaries / "pg_ctl", "-D", data, "-l", log, "-w"]
    if not data.exists():
        subprocess.run([*initdb, "--username=postgres", "--auth=trust", "--no-sync"], check=True)
        with (data / "postgresql.conf").open("a") as conf:
            # No TCP; fast rather than durable: the cluster is thrown away.
            conf.write(
                f"listen_addresses = ''\nunix_socket_directories = '{directory}'\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
            )
    subprocess.run([*pg_ctl, "start"], check=True)
    try:
        yield directory
    finally:
        subprocess.run([*pg_ctl, "-m", "fast", "stop"], check=True)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Path]:
    """Run a PostgreSQL cluster for the session; yield its socket directory."""
    # Not under pytest's tmp_path: its parents are private to the test user. In memory where
    # the machine has it, so that other work's disk traffic does not slow the cluster down.
    shared_memory = Path("/dev/shm")
    directory = Path(
        tempfile.mkdtemp(
            prefix="smartmeter-pg-", dir=shared_memory if shared_memory.is_dir() else None
        )
    )
    try:
        with running_cluster(directory):
            yield directory
    finally:
        shutil.rmtree(directory)


@pytest.fixture
def postgres_url(postgres_cluster: Path) -> str:
    """Create an empty database; return its SQLAlchemy URL."""
    return new_database(postgres_cluster)


def new_database(postgres_cluster: Path) -> str:
    """Create an empty database in the cluster; return its SQLAlchemy URL."""
    name = f"test_{next(_DATABASES)}"
    with psycopg.connect(
        host=str(postgres_cluster), user="postgres", dbname="postgres", autocommit=True
    ) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return f"postgresql+psycopg://postgres@/{name}?host={postgres_cluster}"
