-- Governance reports at district scale (docs/PERFORMANCE.md, "Governance reports at scale"):
-- attendance is counted by seat and status, agenda items by council, proposing seat and status,
-- public comments by meeting and item, each from an index holding every column the count
-- reads. The comments index starts with the columns of public_comments_meeting_id_idx, which
-- it replaces. Keep this file identical in meaning to the other backend's.
CREATE INDEX meeting_attendance_seat_status_idx ON meeting_attendance (seat_id, status, meeting_id);
CREATE INDEX agenda_items_council_source_idx ON agenda_items (council_id, proposed_by_seat_id, status, meeting_id);
CREATE INDEX public_comments_meeting_item_hidden_idx ON public_comments (meeting_id, item_id, hidden_at);
DROP INDEX public_comments_meeting_id_idx;
