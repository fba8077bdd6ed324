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

-- Assemblies: no fixed seats; participants register for a meeting, staff check them in and
-- out, and each present participant has one vote. Quorum is a minimum count of present
-- participants set on the council.
ALTER TABLE councils ADD COLUMN assembly_quorum BIGINT;

CREATE TABLE assembly_participants (
    id TEXT PRIMARY KEY NOT NULL,
    council_id TEXT NOT NULL REFERENCES councils (id) ON DELETE RESTRICT,
    meeting_id TEXT NOT NULL REFERENCES meetings (id) ON DELETE RESTRICT,
    name TEXT NOT NULL,
    constituency TEXT NOT NULL,
    person_id TEXT REFERENCES people (id) ON DELETE RESTRICT,
    present BOOLEAN NOT NULL,
    checked_in_at TIMESTAMP,
    checked_out_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX assembly_participants_meeting_id_idx ON assembly_participants (meeting_id, id);
-- A person registers once per meeting, whichever instance takes the registration.
CREATE UNIQUE INDEX assembly_participants_person_key ON assembly_participants (meeting_id, person_id) WHERE person_id IS NOT NULL;

CREATE TABLE assembly_motions (
    id TEXT PRIMARY KEY NOT NULL,
    meeting_id TEXT NOT NULL REFERENCES meetings (id) ON DELETE RESTRICT,
    agenda_item_id TEXT NOT NULL REFERENCES agenda_items (id) ON DELETE RESTRICT,
    text TEXT NOT NULL,
    mover_participant_id TEXT NOT NULL REFERENCES assembly_participants (id) ON DELETE RESTRICT,
    threshold TEXT NOT NULL CHECK (threshold IN ('majority', 'two_thirds', 'majority_of_membership')),
    status TEXT NOT NULL CHECK (status IN ('open', 'passed', 'failed')),
    present_at_close BIGINT,
    closed_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL,
    CHECK ((status = 'open') = (closed_at IS NULL))
);
CREATE INDEX assembly_motions_meeting_id_idx ON assembly_motions (meeting_id, id);
CREATE INDEX assembly_motions_item_idx ON assembly_motions (agenda_item_id);

CREATE TABLE assembly_votes (
    id TEXT PRIMARY KEY NOT NULL,
    motion_id TEXT NOT NULL REFERENCES assembly_motions (id) ON DELETE RESTRICT,
    participant_id TEXT NOT NULL REFERENCES assembly_participants (id) ON DELETE RESTRICT,
    choice TEXT NOT NULL CHECK (choice IN ('yes', 'no', 'abstain')),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
-- One vote per participant and motion, whichever instance takes it.
CREATE UNIQUE INDEX assembly_votes_participant_key ON assembly_votes (motion_id, participant_id);
