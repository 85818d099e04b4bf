-- Reuse of results: a finished task records a key naming everything its
-- result depends on besides the file's bytes (model, taxonomy, settings,
-- file name), so an identical later upload reuses the stored result.
ALTER TABLE tasks ADD COLUMN result_key TEXT;
CREATE INDEX tasks_reusable ON tasks (sha256, result_key) WHERE state = 'done';
