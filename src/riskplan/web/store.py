"""The web app's own state in one embedded SQLite database in the workspace: users, sessions,
background jobs and the append-only audit log.

The district files stay the single source of truth for the data; this database only holds what
the app needs of its own. Each call opens its own connection (requests and job threads run
concurrently); WAL mode lets readers go on while a job writes its progress.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Roles, from the most to the least trusted. Who may do what is in `security.PERMISSIONS`.
ROLES: tuple[str, ...] = ("admin", "planner", "chief", "inspector", "viewer")
SESSION_DAYS = 7

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, role TEXT NOT NULL,
    password_hash TEXT NOT NULL, lang TEXT, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id),
    csrf TEXT NOT NULL, expires TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY, kind TEXT NOT NULL, district TEXT NOT NULL, quarter TEXT NOT NULL,
    params TEXT NOT NULL, state TEXT NOT NULL, phase TEXT NOT NULL DEFAULT '', steps INTEGER NOT NULL DEFAULT 0,
    placed INTEGER, shortfall INTEGER, error TEXT, cancel INTEGER NOT NULL DEFAULT 0,
    user_name TEXT NOT NULL, created TEXT NOT NULL, finished TEXT);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, user_name TEXT NOT NULL, action TEXT NOT NULL,
    district TEXT, quarter TEXT, detail TEXT NOT NULL DEFAULT '');
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""

#: Job states; a job is `queued` or `running` until it ends in one of the others.
ACTIVE_STATES = ("queued", "running")


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def _token_hash(token: str) -> str:
    """Sessions are stored by the hash of their cookie, so a copy of the database logs no one in."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    lang: str | None


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str


class Store:
    """The database at `path` (created with its tables on first use)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        db.row_factory = sqlite3.Row
        try:
            with db:  # one transaction: committed on success, rolled back on error
                yield db
        finally:
            db.close()

    # ------------------------------------------------------------------ users
    def user_count(self) -> int:
        with self._connect() as db:
            return db.execute("SELECT COUNT(*) FROM users").fetchone()[0]

    def add_user(self, name: str, role: str, password_hash: str) -> User:
        if role not in ROLES:
            raise ValueError(role)
        with self._connect() as db:
            cur = db.execute("INSERT INTO users (name, role, password_hash, created) VALUES (?, ?, ?, ?)",
                             (name, role, password_hash, now()))
            return User(cur.lastrowid, name, role, None)

    def user_by_name(self, name: str) -> tuple[User, str] | None:
        """The user and their password hash."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
        return None if row is None else (User(row["id"], row["name"], row["role"], row["lang"]), row["password_hash"])

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        with self._connect() as db:
            db.execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id))

    def set_lang(self, user_id: int, lang: str) -> None:
        with self._connect() as db:
            db.execute("UPDATE users SET lang = ? WHERE id = ?", (lang, user_id))

    def users(self) -> list[User]:
        with self._connect() as db:
            rows = db.execute("SELECT * FROM users ORDER BY name").fetchall()
        return [User(r["id"], r["name"], r["role"], r["lang"]) for r in rows]

    # --------------------------------------------------------------- sessions
    def new_session(self, user_id: int) -> str:
        """A fresh session for the user; returns the cookie value (kept only as its hash)."""
        token = secrets.token_urlsafe(32)
        expires = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=SESSION_DAYS)).isoformat()
        with self._connect() as db:
            db.execute("DELETE FROM sessions WHERE expires < ?", (now(),))
            db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)",
                       (_token_hash(token), user_id, secrets.token_urlsafe(32), expires))
        return token

    def session(self, token: str | None) -> Session | None:
        if not token:
            return None
        with self._connect() as db:
            row = db.execute("SELECT s.csrf, s.expires, u.* FROM sessions s JOIN users u ON u.id = s.user_id "
                             "WHERE s.token_hash = ?", (_token_hash(token),)).fetchone()
        if row is None or row["expires"] < now():
            return None
        return Session(User(row["id"], row["name"], row["role"], row["lang"]), row["csrf"])

    def end_session(self, token: str | None) -> None:
        if token:
            with self._connect() as db:
                db.execute("DELETE FROM sessions WHERE token_hash = ?", (_token_hash(token),))

    # ------------------------------------------------------------------- jobs
    def add_job(self, kind: str, district: str, quarter: str, params: dict[str, Any], user_name: str) -> int | None:
        """A queued job, or None when a job of that kind for that quarter is still active."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")  # the check and the insert in one write transaction
            busy = db.execute(f"SELECT id FROM jobs WHERE kind = ? AND district = ? AND quarter = ? "
                              f"AND state IN {ACTIVE_STATES}", (kind, district, quarter)).fetchone()
            if busy is not None:
                return None
            cur = db.execute("INSERT INTO jobs (kind, district, quarter, params, state, user_name, created) "
                             "VALUES (?, ?, ?, ?, 'queued', ?, ?)",
                             (kind, district, quarter, json.dumps(params), user_name, now()))
            return cur.lastrowid

    def job(self, job_id: int) -> dict[str, Any] | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else {**dict(row), "params": json.loads(row["params"])}

    def jobs(self, district: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        with self._connect() as db:
            rows = db.execute("SELECT * FROM jobs WHERE (? IS NULL OR district = ?) ORDER BY id DESC LIMIT ?",
                              (district, district, limit)).fetchall()
        return [{**dict(r), "params": json.loads(r["params"])} for r in rows]

    def update_job(self, job_id: int, **fields: Any) -> None:
        allowed = {"state", "phase", "steps", "placed", "shortfall", "error", "finished"}
        if not fields or not set(fields) <= allowed:
            raise ValueError(fields)
        assignments = ", ".join(f"{k} = ?" for k in fields)
        with self._connect() as db:
            db.execute(f"UPDATE jobs SET {assignments} WHERE id = ?", (*fields.values(), job_id))

    def request_cancel(self, job_id: int) -> bool:
        with self._connect() as db:
            cur = db.execute(f"UPDATE jobs SET cancel = 1 WHERE id = ? AND state IN {ACTIVE_STATES}", (job_id,))
            return cur.rowcount == 1

    def cancel_requested(self, job_id: int) -> bool:
        with self._connect() as db:
            return bool(db.execute("SELECT cancel FROM jobs WHERE id = ?", (job_id,)).fetchone()[0])

    def cancel_active_jobs(self) -> None:
        with self._connect() as db:
            db.execute(f"UPDATE jobs SET cancel = 1 WHERE state IN {ACTIVE_STATES}")

    def abandon_active_jobs(self) -> None:
        """Jobs left running by a server that stopped: no thread runs them any more."""
        with self._connect() as db:
            db.execute(f"UPDATE jobs SET state = 'failed', error = 'server stopped', finished = ? "
                       f"WHERE state IN {ACTIVE_STATES}", (now(),))

    # ------------------------------------------------------------------ audit
    def audit(self, user_name: str, action: str, district: str | None = None, quarter: str | None = None,
              detail: str = "") -> None:
        with self._connect() as db:
            db.execute("INSERT INTO audit (at, user_name, action, district, quarter, detail) VALUES (?, ?, ?, ?, ?, ?)",
                       (now(), user_name, action, district, quarter, detail))

    def audit_log(self, limit: int = 200) -> list[dict[str, Any]]:
        with self._connect() as db:
            return [dict(r) for r in db.execute("SELECT * FROM audit ORDER BY id DESC LIMIT ?", (limit,))]
