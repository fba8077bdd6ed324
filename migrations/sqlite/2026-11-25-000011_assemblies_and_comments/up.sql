-- Public participation: written public comment on agenda items, in-person speakers with their
-- time, the per-address counters that limit comment submissions, and the council settings
-- these use. Keep this file column-for-column identical in meaning to the same migration of
-- the other backend.

-- Seconds one public speaker may speak on an item (bylaws may set; 180 = 3 minutes).
ALTER TABLE councils ADD COLUMN speaker_seconds BIGINT NOT NULL DEFAULT 180;

CREATE TABLE public_comments (
    id TEXT PRIMARY KEY NOT NULL,
    meeting_id TEXT NOT NULL REFERENCES meetings (id) ON DELETE RESTRICT,
    item_id TEXT NOT NULL REFERENCES agenda_items (id) ON DELETE RESTRICT,
    author_name TEXT,
    author_email TEXT,
    body TEXT NOT NULL,
    hidden_at TIMESTAMP,
    hidden_reason TEXT,
    hidden_by TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL,
    CHECK ((hidden_at IS NULL) = (hidden_reason IS NULL))
);
CREATE INDEX public_comments_item_id_idx ON public_comments (item_id, id);
CREATE INDEX public_comments_meeting_id_idx ON public_comments (meeting_id, item_id);

CREATE TABLE public_speakers (
    id TEXT PRIMARY KEY NOT NULL,
    meeting_id TEXT NOT NULL REFERENCES meetings (id) ON DELETE RESTRICT,
    item_id TEXT NOT NULL REFERENCES agenda_items (id) ON DELETE RESTRICT,
    name TEXT,
    interpretation TEXT NOT NULL CHECK (interpretation IN ('none', 'consecutive', 'simultaneous')),
    seconds_allowed BIGINT NOT NULL,
    recorded_by TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX public_speakers_item_id_idx ON public_speakers (item_id, id);
CREATE INDEX public_speakers_meeting_id_idx ON public_speakers (meeting_id, item_id);

-- Comments counted per client address and fixed window (see docs/GOVERNANCE.md).
CREATE TABLE comment_attempts (
    subject TEXT NOT NULL,
    window_start TIMESTAMP NOT NULL,
    attempts BIGINT NOT NULL,
    PRIMARY KEY (subject, window_start)
);
CREATE INDEX comment_attempts_window_idx ON comment_attempts (window_start);
