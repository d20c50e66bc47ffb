-- The first execution of each idempotency key (trigger setting `idempotencyKey`). Keys are
-- stored as their SHA-256 so that a key taken from a large body still fits the index. A key
-- whose window has ended is taken over by the next execution that carries it.
CREATE TABLE idempotency_keys (
    workflow_id  uuid NOT NULL,
    key_hash     bytea NOT NULL,
    execution_id uuid NOT NULL,
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (workflow_id, key_hash)
);
-- Lets the executor purge expired keys without scanning the table.
CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (expires_at);
