-- Queries that do not grow with history, and a change number on sessions.
--
-- Every hot query is served by an index. Open sessions are few and history only grows, so
-- the queue, the sweep, agents' loads and state-filtered inbox pages read partial indexes
-- that hold open sessions alone; the inbox's other pages walk an index in their order and
-- stop after a page.

-- A global change number: every write to a session sets it to one more than the greatest,
-- so a console that fell behind catches up with the sessions changed after the last it saw.
ALTER TABLE sessions ADD COLUMN changed_seq INTEGER NOT NULL DEFAULT 0;
UPDATE sessions SET changed_seq = rowid;
CREATE UNIQUE INDEX sessions_by_change ON sessions (changed_seq);

-- The inbox, newest first (`started_at DESC, rowid DESC`), unfiltered or by channel or
-- agent (`agent_id IS NULL` for sessions nobody holds). These replace the indexes on
-- (channel, state, started_at) and (agent_id, state).
DROP INDEX sessions_by_channel;
DROP INDEX sessions_by_agent;
CREATE INDEX sessions_by_start ON sessions (started_at);
CREATE INDEX sessions_by_channel ON sessions (channel, started_at);
CREATE INDEX sessions_by_agent ON sessions (agent_id, started_at);
-- The inbox by an open state: only open sessions are visited.
CREATE INDEX open_sessions_by_state ON sessions (state, started_at) WHERE state != 'ended';

-- The queue, in the order sessions joined it.
CREATE INDEX queued_sessions ON sessions (queued_at) WHERE state = 'queued';
-- The sweep: open sessions whose window or inactivity deadline has passed.
CREATE INDEX open_sessions_by_deadline ON sessions (ends_at, inactive_at) WHERE state != 'ended';
-- Agents' loads: the active sessions each holds.
CREATE INDEX active_sessions_by_agent ON sessions (agent_id) WHERE state = 'active';
-- Estimated waits: a channel's most recent joins.
CREATE INDEX sessions_by_join ON sessions (channel, joined_at) WHERE joined_at IS NOT NULL;
-- Affinity: the contact's latest session on a channel that an agent held.
CREATE INDEX sessions_by_handler ON sessions (contact_id, channel, started_at)
    WHERE handled_by IS NOT NULL;
