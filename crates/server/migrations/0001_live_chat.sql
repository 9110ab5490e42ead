-- Live chat: contacts, sessions, messages and agents.
-- Times are milliseconds since the Unix epoch, UTC. Ids are UUIDs as text.

CREATE TABLE contacts (
    id          TEXT PRIMARY KEY NOT NULL,
    phone       TEXT NOT NULL UNIQUE,      -- E.164; the key of a live-mode contact
    name        TEXT NOT NULL,
    email       TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE agents (
    id             TEXT PRIMARY KEY NOT NULL,
    name           TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,          -- argon2id, PHC string
    created_at     INTEGER NOT NULL
);

CREATE TABLE agent_tokens (
    token_hash  TEXT PRIMARY KEY NOT NULL, -- SHA-256 of the bearer token, hex
    agent_id    TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    expires_at  INTEGER NOT NULL
);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,     -- SHA-256 of the visitor's bearer token, hex
    contact_id   TEXT NOT NULL REFERENCES contacts (id),
    channel      TEXT NOT NULL,
    mode         TEXT NOT NULL,            -- live | persistent
    state        TEXT NOT NULL,            -- queued | active | waiting | ended
    started_at   INTEGER NOT NULL,
    ends_at      INTEGER,                  -- the window's end
    ended_at     INTEGER,
    end_reason   TEXT,                     -- visitor | agent | expired | inactivity
    inactive_at  INTEGER,                  -- closes for inactivity unless someone writes
    regarding    TEXT,
    agent_id     TEXT REFERENCES agents (id),
    joined_at    INTEGER,
    last_seq     INTEGER NOT NULL DEFAULT 0,
    CHECK ((state = 'ended') = (ended_at IS NOT NULL AND end_reason IS NOT NULL))
);
CREATE INDEX sessions_by_contact ON sessions (contact_id, started_at);
CREATE INDEX sessions_by_channel ON sessions (channel, state, started_at);

CREATE TABLE messages (
    id             TEXT PRIMARY KEY NOT NULL,
    session_id     TEXT NOT NULL REFERENCES sessions (id),
    seq            INTEGER NOT NULL,
    author         TEXT NOT NULL,          -- visitor | system | the agent's id
    agent_id       TEXT REFERENCES agents (id),
    client_msg_id  TEXT,
    body           TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    UNIQUE (session_id, seq),
    UNIQUE (session_id, author, client_msg_id)
);
