-- 0003_assistant (PostgreSQL): the assistant's token accounts, their ledger, and the
-- commands it showed; the same tables as ../sqlite/0003_assistant.sql.
-- The runner wraps this file in one transaction (under its advisory lock) and records it in
-- schema_version.

-- One account per tenant, made on first use. balance is what is left to spend; used is what
-- was spent in the current period [period_start, period_end) (unix seconds, calendar months
-- in UTC); allowance is the plan's monthly tokens when the account was last read.
CREATE TABLE token_accounts (
    client_id    TEXT    NOT NULL PRIMARY KEY REFERENCES clients (id) ON DELETE CASCADE,
    balance      BIGINT  NOT NULL CHECK (balance >= 0),
    allowance    BIGINT  NOT NULL CHECK (allowance >= 0),
    used         BIGINT  NOT NULL CHECK (used >= 0),
    period_start BIGINT  NOT NULL,
    period_end   BIGINT  NOT NULL
);

-- Every change of a balance, with the balance after it: the per-tenant ledger.
-- kind: 'open' (account made), 'period' (monthly renewal), 'plan' (allowance changed),
-- 'usage' (an assistant request), 'credit' (an administrator's credit).
CREATE TABLE token_ledger (
    id        BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id TEXT    NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    time      BIGINT  NOT NULL,
    delta     BIGINT  NOT NULL,
    balance   BIGINT  NOT NULL,
    kind      TEXT    NOT NULL,
    ref       TEXT    NOT NULL DEFAULT '',
    note      TEXT    NOT NULL DEFAULT ''
);
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
    created_at  BIGINT  NOT NULL,
    executed_at BIGINT 
);
CREATE INDEX assistant_commands_client ON assistant_commands (client_id, created_at);
