//! iCalendar (RFC 5545) subscription feeds of published meetings: one VEVENT per meeting with a
//! stable UID, times in UTC, `SEQUENCE` that grows with every change, `STATUS:CANCELLED` kept
//! for cancelled meetings, text escaped and lines folded at 75 octets without splitting a
//! character.

use chrono::{DateTime, Utc};

/// One meeting as a calendar event.
#[derive(Debug, Clone)]
pub struct CalendarEvent {
    /// Stable across every publication of the feed, e.g. `meeting-<id>@cogov`.
    pub uid: String,
    /// Grows whenever the meeting changes (its time, place, status or anything else).
    pub sequence: i64,
    /// When the meeting last changed (DTSTAMP and LAST-MODIFIED).
    pub changed_at: DateTime<Utc>,
    pub starts_at: DateTime<Utc>,
    /// The expected end; without one the event lasts two hours (a meeting has no all-day form).
    pub ends_at: Option<DateTime<Utc>>,
    pub summary: String,
    pub description: Option<String>,
    pub location: Option<String>,
    /// Where the agenda is published.
    pub url: Option<String>,
    pub cancelled: bool,
}

/// The feed as text with CRLF line ends.
pub fn render(name: &str, events: &[CalendarEvent]) -> String {
    let mut out = String::new();
    let mut line = |text: String| {
        fold_into(&mut out, &text);
    };
    line("BEGIN:VCALENDAR".to_owned());
    line("VERSION:2.0".to_owned());
    line("PRODID:-//cogov//meetings//EN".to_owned());
    line("CALSCALE:GREGORIAN".to_owned());
    line(format!("NAME:{}", escape(name)));
    line(format!("X-WR-CALNAME:{}", escape(name)));
    line("REFRESH-INTERVAL;VALUE=DURATION:PT1H".to_owned());
    line("X-PUBLISHED-TTL:PT1H".to_owned());
    for e in events {
        let end = e
            .ends_at
            .filter(|end| *end > e.starts_at)
            .unwrap_or(e.starts_at + chrono::Duration::hours(2));
        line("BEGIN:VEVENT".to_owned());
        line(format!("UID:{}", escape(&e.uid)));
        line(format!("DTSTAMP:{}", utc(e.changed_at)));
        line(format!("LAST-MODIFIED:{}", utc(e.changed_at)));
        line(format!("SEQUENCE:{}", e.sequence.max(0)));
        line(format!("DTSTART:{}", utc(e.starts_at)));
        line(format!("DTEND:{}", utc(end)));
        line(format!("SUMMARY:{}", escape(&e.summary)));
        if let Some(d) = &e.description {
            line(format!("DESCRIPTION:{}", escape(d)));
        }
        if let Some(l) = &e.location {
            line(format!("LOCATION:{}", escape(l)));
        }
        if let Some(u) = &e.url {
            line(format!("URL:{u}"));
        }
        line(format!(
            "STATUS:{}",
            if e.cancelled {
                "CANCELLED"
            } else {
                "CONFIRMED"
            }
        ));
        line("END:VEVENT".to_owned());
    }
    line("END:VCALENDAR".to_owned());
    out
}

fn utc(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// TEXT value escaping (RFC 5545 3.3.11).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends one content line, folded so that no physical line exceeds 75 octets and no UTF-8
/// sequence is cut (RFC 5545 3.1): continuation lines start with one space.
fn fold_into(out: &mut String, line: &str) {
    let mut used = 0;
    for c in line.chars() {
        let width = c.len_utf8();
        if used + width > 75 {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += width;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn event(summary: &str) -> CalendarEvent {
        CalendarEvent {
            uid: "meeting-1@cogov".to_owned(),
            sequence: 2,
            changed_at: Utc.with_ymd_and_hms(2026, 11, 20, 9, 30, 0).unwrap(),
            starts_at: Utc.with_ymd_and_hms(2026, 12, 3, 2, 0, 0).unwrap(),
            ends_at: None,
            summary: summary.to_owned(),
            description: Some("Agenda; items, and more\nline two".to_owned()),
            location: Some("Library, Room 4".to_owned()),
            url: Some("https://cogov.example/api/v1/meetings/1/agenda-items".to_owned()),
            cancelled: true,
        }
    }

    #[test]
    fn lines_end_in_crlf_fold_at_75_octets_and_keep_characters_whole() {
        let text = render("Calendar", &[event(&"Reunión ñandú 会议 ".repeat(12))]);
        assert!(text.ends_with("END:VCALENDAR\r\n"));
        for physical in text.split("\r\n") {
            assert!(
                physical.len() <= 75,
                "{physical:?} is {} octets",
                physical.len()
            );
            assert!(!physical.contains('\n') && !physical.contains('\r'));
        }
        // Unfolding gives back the whole summary.
        let unfolded = text.replace("\r\n ", "");
        assert!(unfolded.contains(&format!("SUMMARY:{}", "Reunión ñandú 会议 ".repeat(12))));
    }

    #[test]
    fn text_is_escaped_and_times_are_utc() {
        let text = render("Calendar", &[event("Budget")]);
        assert!(text.contains("DESCRIPTION:Agenda\\; items\\, and more\\nline two\r\n"));
        assert!(text.contains("LOCATION:Library\\, Room 4\r\n"));
        assert!(text.contains("DTSTART:20261203T020000Z\r\n"));
        assert!(
            text.contains("DTEND:20261203T040000Z\r\n"),
            "two hours by default"
        );
        assert!(text.contains("DTSTAMP:20261120T093000Z\r\n"));
        assert!(text.contains("SEQUENCE:2\r\n"));
        assert!(text.contains("STATUS:CANCELLED\r\n"));
        assert!(!text.contains("METHOD:"));
    }
}
