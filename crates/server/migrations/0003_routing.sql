-- Routing: how many sessions each agent holds at most, when a session joined the queue (a
-- waiting conversation that its visitor brings back queues afresh), and which agent last held
-- a session, so that a returning contact goes to them first (agent affinity).
ALTER TABLE agents ADD COLUMN capacity INTEGER NOT NULL DEFAULT 3 CHECK (capacity >= 1);

ALTER TABLE sessions ADD COLUMN queued_at INTEGER;
UPDATE sessions SET queued_at = started_at;

ALTER TABLE sessions ADD COLUMN handled_by TEXT REFERENCES agents (id);
UPDATE sessions SET handled_by = agent_id;

-- An agent's load: the sessions they hold, by state.
CREATE INDEX sessions_by_agent ON sessions (agent_id, state);
