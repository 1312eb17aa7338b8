-- 0002_containers: what the container lifecycle needs beyond 0001's containers table.
-- The runner wraps this file in BEGIN IMMEDIATE ... COMMIT and records it in schema_version.

-- Small facts about this database itself; today only 'instance_id', which tells this
-- platform's containers from another platform's on a shared Engine.
CREATE TABLE meta (
    key   TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- Quota sums and usage filter on the tenant and then the state.
CREATE INDEX containers_client_state ON containers (client_id, state);
-- Per-tenant lists come back in creation order without a sort.
CREATE INDEX containers_client_created ON containers (client_id, created_at, id);

-- A Docker id names one container: unique once the Engine has given it (rows still
-- "creating" hold NULL, and NULLs never collide). It also serves every lookup by id or id
-- prefix (docker_id = ? and range scans imply docker_id IS NOT NULL), so 0001's plain index
-- on the same column is only write cost now.
CREATE UNIQUE INDEX containers_docker_id_unique ON containers (docker_id)
    WHERE docker_id IS NOT NULL;
DROP INDEX containers_docker_id;

-- The daemon that made a row: several daemons may share one database, and a row still
-- "creating" belongs to a create in flight in its owner; only the owner (after a restart)
-- or anyone, once the row is long stale, may roll it back.
ALTER TABLE containers ADD COLUMN owner TEXT NOT NULL DEFAULT '';
