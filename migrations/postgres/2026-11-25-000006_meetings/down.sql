DROP TABLE votes;
DROP TABLE motions;
DROP TABLE meeting_attendance;
DROP TABLE agenda_items;
DROP TABLE meeting_amendments;
DROP TABLE meeting_events;
DROP TABLE meetings;
