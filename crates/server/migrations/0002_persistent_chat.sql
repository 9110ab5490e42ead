-- Persistent mode: contacts known by the user id their site signs (so a contact's phone is
-- now optional), persistent sessions reached through identity tokens instead of a token of
-- their own, and at most one open persistent conversation per contact and channel.
--
-- SQLite cannot change a column's constraints in place, and this runs in one transaction
-- with foreign keys on, so contacts, sessions and messages are rebuilt together: the new
-- tables reference each other, are filled parent first, the old ones are dropped child
-- first (so no reference ever dangles), and the renames carry the references along.

CREATE TABLE contacts_new (
    id          TEXT PRIMARY KEY NOT NULL,
    phone       TEXT,                      -- E.164; the key of a live-mode contact
    realm       TEXT,                      -- the persistent channel whose key verified user_id
    user_id     TEXT,                      -- the `sub` that channel's site signed
    name        TEXT NOT NULL,
    email       TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    CHECK ((realm IS NULL) = (user_id IS NULL)),
    CHECK (phone IS NOT NULL OR user_id IS NOT NULL)
);
INSERT INTO contacts_new (id, phone, name, email, created_at, updated_at)
    SELECT id, phone, name, email, created_at, updated_at FROM contacts;

CREATE TABLE sessions_new (
    id           TEXT PRIMARY KEY NOT NULL,
    token_hash   TEXT UNIQUE,              -- SHA-256 of a live visitor's bearer token, hex
    contact_id   TEXT NOT NULL REFERENCES contacts_new (id),
    channel      TEXT NOT NULL,
    mode         TEXT NOT NULL,            -- live | persistent
    state        TEXT NOT NULL,            -- queued | active | waiting | ended
    started_at   INTEGER NOT NULL,
    ends_at      INTEGER,                  -- the window's end (live mode)
    ended_at     INTEGER,
    end_reason   TEXT,                     -- visitor | agent | expired | inactivity
    inactive_at  INTEGER,                  -- closes for inactivity unless someone writes
    regarding    TEXT,
    agent_id     TEXT REFERENCES agents (id),
    joined_at    INTEGER,
    last_seq     INTEGER NOT NULL DEFAULT 0,
    CHECK ((state = 'ended') = (ended_at IS NOT NULL AND end_reason IS NOT NULL)),
    CHECK ((mode = 'live') = (token_hash IS NOT NULL))
);
INSERT INTO sessions_new
    SELECT id, token_hash, contact_id, channel, mode, state, started_at, ends_at, ended_at,
           end_reason, inactive_at, regarding, agent_id, joined_at, last_seq FROM sessions;

CREATE TABLE messages_new (
    id             TEXT PRIMARY KEY NOT NULL,
    session_id     TEXT NOT NULL REFERENCES sessions_new (id),
    seq            INTEGER NOT NULL,
    author         TEXT NOT NULL,          -- visitor | system | the agent's id
    agent_id       TEXT REFERENCES agents (id),
    client_msg_id  TEXT,
    body           TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    UNIQUE (session_id, seq),
    UNIQUE (session_id, author, client_msg_id)
);
INSERT INTO messages_new
    SELECT id, session_id, seq, author, agent_id, client_msg_id, body, created_at FROM messages;

DROP TABLE messages;
DROP TABLE sessions;
DROP TABLE contacts;
ALTER TABLE contacts_new RENAME TO contacts;
ALTER TABLE sessions_new RENAME TO sessions;
ALTER TABLE messages_new RENAME TO messages;

-- Typing a number proves nothing, so live contacts never merge with verified ones.
CREATE UNIQUE INDEX contacts_by_phone ON contacts (phone) WHERE user_id IS NULL;
CREATE UNIQUE INDEX contacts_by_user ON contacts (realm, user_id) WHERE user_id IS NOT NULL;
CREATE INDEX sessions_by_contact ON sessions (contact_id, started_at);
CREATE INDEX sessions_by_channel ON sessions (channel, state, started_at);
-- Persistent mode rule 2: one open conversation per contact and channel, even when two tabs
-- or two devices start one at the same moment.
CREATE UNIQUE INDEX one_open_conversation ON sessions (contact_id, channel)
    WHERE mode = 'persistent' AND state != 'ended';

-- What a verified visitor's bearer token opens: their conversations on one channel, until
-- the identity token it was exchanged for expires.
CREATE TABLE identity_tokens (
    token_hash  TEXT PRIMARY KEY NOT NULL, -- SHA-256 of the bearer token, hex
    contact_id  TEXT NOT NULL REFERENCES contacts (id),
    channel     TEXT NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX identity_tokens_by_expiry ON identity_tokens (expires_at);
