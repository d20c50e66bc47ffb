-- The SHA-256 of the request (query string and body) that first used each idempotency key, so
-- that a repeat of the key with another request is a conflict rather than an answer to it.
-- Rows from before have none and match any request.
ALTER TABLE idempotency_keys ADD COLUMN request_digest bytea;
