DROP INDEX comment_attempts_window_idx;
DROP TABLE comment_attempts;
DROP INDEX public_speakers_meeting_id_idx;
DROP INDEX public_speakers_item_id_idx;
DROP TABLE public_speakers;
DROP INDEX public_comments_meeting_id_idx;
DROP INDEX public_comments_item_id_idx;
DROP TABLE public_comments;
ALTER TABLE councils DROP COLUMN speaker_seconds;
