-- Workflows keep one row; every PUT adds an immutable version.
CREATE TABLE workflows (
    id              uuid PRIMARY KEY,
    key             text NOT NULL UNIQUE,
    title           text NOT NULL,
    sync            boolean NOT NULL,
    enabled         boolean NOT NULL,
    current_version integer NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    -- Soft delete: in-flight executions can still load their version; the key stays taken.
    deleted_at      timestamptz
);

CREATE TABLE workflow_versions (
    workflow_id uuid NOT NULL REFERENCES workflows (id),
    version     integer NOT NULL,
    document    jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workflow_id, version)
);

-- Execution ids are UUID v7 assigned by ingress, so ordering by id is ordering by arrival.
CREATE TABLE executions (
    id          uuid PRIMARY KEY,
    workflow_id uuid NOT NULL,
    version     integer NOT NULL,
    status      text NOT NULL,
    context     jsonb NOT NULL,
    response    jsonb,
    error       text,
    attempts    integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL,
    started_at  timestamptz,
    finished_at timestamptz
);
CREATE INDEX executions_by_workflow ON executions (workflow_id, id DESC);
CREATE INDEX executions_by_status ON executions (status, id DESC);

CREATE TABLE jobs (
    execution_id uuid NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    position     integer NOT NULL,
    node_key     text NOT NULL,
    node_type    text NOT NULL,
    status       text NOT NULL,
    result       jsonb,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz,
    PRIMARY KEY (execution_id, position)
);
