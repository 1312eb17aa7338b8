-- 0001_init (PostgreSQL): tenants, users, revoked tokens, the audit log and containers.
-- The same tables, columns, constraints and indexes as ../sqlite/0001_init.sql, so that a
-- row means the same thing in either backend and `cloudyad migrate-store` can copy rows
-- column by column. Dialect: unix seconds are BIGINT, CPU counts DOUBLE PRECISION (SQLite's
-- REAL), booleans stay 0/1 integers as in SQLite.
-- The runner wraps this file in one transaction, holding an advisory lock so that several
-- daemons starting at once apply it once, and records it in schema_version.

CREATE TABLE schema_version (
    version    INTEGER NOT NULL PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at BIGINT  NOT NULL
);

CREATE TABLE clients (
    id               TEXT             NOT NULL PRIMARY KEY,
    name             TEXT             NOT NULL,
    plan             TEXT             NOT NULL,
    quota_containers INTEGER          NOT NULL CHECK (quota_containers >= 0),
    quota_memory_mb  INTEGER          NOT NULL CHECK (quota_memory_mb >= 0),
    quota_cpus       DOUBLE PRECISION NOT NULL CHECK (quota_cpus >= 0),
    created_at       BIGINT           NOT NULL
);

CREATE TABLE users (
    id            TEXT    NOT NULL PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'client')),
    client_id     TEXT    NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    password_hash TEXT    NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    BIGINT  NOT NULL
);

-- PostgreSQL does not index the referencing side of a foreign key by itself either.
CREATE INDEX users_client_id ON users (client_id);
CREATE INDEX users_role ON users (role);

CREATE TABLE revoked_tokens (
    jti        TEXT   NOT NULL PRIMARY KEY,
    expires_at BIGINT NOT NULL
);

CREATE INDEX revoked_tokens_expires_at ON revoked_tokens (expires_at);

-- Audit rows outlive the users and clients they name, so there are no foreign keys here.
-- An identity column never hands out an id twice, like SQLite's AUTOINCREMENT.
CREATE TABLE audit_log (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time      BIGINT NOT NULL,
    actor     TEXT   NOT NULL DEFAULT '',
    client_id TEXT   NOT NULL DEFAULT '',
    action    TEXT   NOT NULL,
    target    TEXT   NOT NULL DEFAULT '',
    ip        TEXT   NOT NULL DEFAULT '',
    result    TEXT   NOT NULL DEFAULT '',
    detail    TEXT   NOT NULL DEFAULT ''
);

CREATE INDEX audit_log_client_id ON audit_log (client_id, id);
CREATE INDEX audit_log_action ON audit_log (action, id);

-- id sorts byte by byte (COLLATE "C"), as SQLite's BINARY does: lists come back in
-- (created_at, id) order whatever the database's locale.
CREATE TABLE containers (
    id           TEXT COLLATE "C"  NOT NULL PRIMARY KEY,
    client_id    TEXT              NOT NULL REFERENCES clients (id),
    name         TEXT              NOT NULL,
    service_type TEXT              NOT NULL,
    image        TEXT              NOT NULL,
    docker_id    TEXT,
    state        TEXT              NOT NULL CHECK (state IN ('creating', 'created', 'running',
                                                             'stopped', 'exited', 'removing',
                                                             'removed', 'error')),
    host_port    INTEGER,
    url          TEXT,
    memory_mb    INTEGER           NOT NULL,
    cpus         DOUBLE PRECISION  NOT NULL,
    created_at   BIGINT            NOT NULL,
    updated_at   BIGINT            NOT NULL,
    expires_at   BIGINT,
    UNIQUE (client_id, name)
);

CREATE INDEX containers_docker_id ON containers (docker_id);
