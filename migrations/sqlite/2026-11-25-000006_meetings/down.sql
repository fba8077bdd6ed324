DROP TABLE meeting_events;
DROP TABLE meetings;
