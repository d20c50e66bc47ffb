-- A number that every change to `variables` moves on, in the change's own transaction. An
-- executor reuses the variables it read only while this number is the one it read with them,
-- so a change reaches every execution that starts after it was committed.
CREATE TABLE variables_generation (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    n        bigint NOT NULL
);
INSERT INTO variables_generation (only_row, n) VALUES (true, 0);

CREATE FUNCTION bump_variables_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE variables_generation SET n = n + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER variables_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON variables
    FOR EACH STATEMENT EXECUTE FUNCTION bump_variables_generation();
