-- The iteration path of a job that ran inside loop nodes (outer loop first); NULL outside loops.
ALTER TABLE jobs ADD COLUMN iteration integer[];
