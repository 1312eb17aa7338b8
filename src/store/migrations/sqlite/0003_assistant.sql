-- 0003_assistant: the assistant's token accounts, their ledger, and the commands it showed.
-- The runner wraps this file in BEGIN IMMEDIATE ... COMMIT and records it in schema_version.

-- One account per tenant, made on first use. balance is what is left to spend; used is what
-- was spent in the current period [period_start, period_end) (unix seconds, calendar months
-- in UTC); allowance is the plan's monthly tokens when the account was last read.
CREATE TABLE token_accounts (
    client_id    TEXT    NOT NULL PRIMARY KEY REFERENCES clients (id) ON DELETE CASCADE,
    balance      INTEGER NOT NULL CHECK (balance >= 0),
    allowance    INTEGER NOT NULL CHECK (allowance >= 0),
    used         INTEGER NOT NULL CHECK (used >= 0),
    period_start INTEGER NOT NULL,
    period_end   INTEGER NOT NULL
) STRICT;

-- Every change of a balance, with the balance after it: the per-tenant ledger.
-- kind: 'open' (account made), 'period' (monthly renewal), 'plan' (allowance changed),
-- 'usage' (an assistant request), 'credit' (an administrator's credit).
CREATE TABLE token_ledger (
    id        INTEGER NOT NULL PRIMARY KEY,
    client_id TEXT    NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    time      INTEGER NOT NULL,
    delta     INTEGER NOT NULL,
    balance   INTEGER NOT NULL,
    kind      TEXT    NOT NULL,
    ref       TEXT    NOT NULL DEFAULT '',
    note      TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX token_ledger_client ON token_ledger (client_id, id);

-- What the assistant showed: a supervised run executes the stored action of one of these,
-- never text sent with the run. executed_at is NULL until it ran (once).
CREATE TABLE assistant_commands (
    id          TEXT    NOT NULL PRIMARY KEY,
    client_id   TEXT    NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    user_id     TEXT    NOT NULL,
    request     TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    risk        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    executed_at INTEGER
) STRICT;
CREATE INDEX assistant_commands_client ON assistant_commands (client_id, created_at);
