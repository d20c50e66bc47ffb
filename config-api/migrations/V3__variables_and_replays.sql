-- The `$env` variables. A secret's value is sealed (`sealed:v1:...`, like trigger secrets).
CREATE TABLE variables (
    name       text PRIMARY KEY,
    value      text NOT NULL,
    secret     boolean NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- A replayed execution names the execution whose context it runs again.
ALTER TABLE executions ADD COLUMN replay_of uuid;
