-- 0001_init: tenants, users, revoked tokens, the audit log and containers.
-- STRICT tables make SQLite refuse values of the wrong type instead of converting them.
-- The runner wraps this file in BEGIN IMMEDIATE ... COMMIT and records it in schema_version.

CREATE TABLE schema_version (
    version    INTEGER NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
) STRICT;

CREATE TABLE clients (
    id               TEXT    NOT NULL PRIMARY KEY,
    name             TEXT    NOT NULL,
    plan             TEXT    NOT NULL,
    quota_containers INTEGER NOT NULL CHECK (quota_containers >= 0),
    quota_memory_mb  INTEGER NOT NULL CHECK (quota_memory_mb >= 0),
    quota_cpus       REAL    NOT NULL CHECK (quota_cpus >= 0),
    created_at       INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
    id            TEXT    NOT NULL PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'client')),
    client_id     TEXT    NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    password_hash TEXT    NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    INTEGER NOT NULL
) STRICT;

-- Foreign keys are checked on the child side: without this index deleting a client scans users.
CREATE INDEX users_client_id ON users (client_id);
CREATE INDEX users_role ON users (role);

CREATE TABLE revoked_tokens (
    jti        TEXT    NOT NULL PRIMARY KEY,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX revoked_tokens_expires_at ON revoked_tokens (expires_at);

-- Audit rows outlive the users and clients they name, so there are no foreign keys here.
CREATE TABLE audit_log (
    id        INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    time      INTEGER NOT NULL,
    actor     TEXT    NOT NULL DEFAULT '',
    client_id TEXT    NOT NULL DEFAULT '',
    action    TEXT    NOT NULL,
    target    TEXT    NOT NULL DEFAULT '',
    ip        TEXT    NOT NULL DEFAULT '',
    result    TEXT    NOT NULL DEFAULT '',
    detail    TEXT    NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX audit_log_client_id ON audit_log (client_id, id);
CREATE INDEX audit_log_action ON audit_log (action, id);

CREATE TABLE containers (
    id           TEXT    NOT NULL PRIMARY KEY,
    client_id    TEXT    NOT NULL REFERENCES clients (id),
    name         TEXT    NOT NULL,
    service_type TEXT    NOT NULL,
    image        TEXT    NOT NULL,
    docker_id    TEXT,
    state        TEXT    NOT NULL CHECK (state IN ('creating', 'created', 'running', 'stopped',
                                                   'exited', 'removing', 'removed', 'error')),
    host_port    INTEGER,
    url          TEXT,
    memory_mb    INTEGER NOT NULL,
    cpus         REAL    NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    UNIQUE (client_id, name)
) STRICT;

CREATE INDEX containers_docker_id ON containers (docker_id);
