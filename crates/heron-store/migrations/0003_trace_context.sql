-- The W3C trace context (traceparent) of the request that created a job,
-- so that the worker's spans join the request's trace.
ALTER TABLE jobs ADD COLUMN trace_context TEXT;
