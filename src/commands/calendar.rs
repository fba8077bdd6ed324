//! Calendar feeds of published meetings: per council, per school and for the whole district.

use chrono::{DateTime, Duration, Utc};

use super::require;
use crate::auth::policy;
use crate::db::calendar::{self, Scope};
use crate::db::{self, Db};
use crate::domain::calendar::CalendarEvent;
use crate::domain::ids::{CouncilId, SchoolId};
use crate::error::ApiError;

/// How far back a feed reaches: recent meetings stay in a subscriber's calendar.
const PAST_DAYS: i64 = 90;
/// The most meetings one feed holds.
const MAX_EVENTS: i64 = 1_000;

/// Whose meetings a feed is asked for.
pub enum FeedOf {
    Council(CouncilId),
    School(SchoolId),
    District,
}

/// A feed's title and events.
pub struct Feed {
    pub name: String,
    pub events: Vec<CalendarEvent>,
}

/// The published meetings of a council, a school's councils, or the district, from 90 days ago
/// on. Anyone may read them; an unknown council or school is 404. `agenda_url` turns a meeting
/// id into the URL of its agenda.
pub fn feed(
    db: &Db,
    of: FeedOf,
    now: DateTime<Utc>,
    agenda_url: impl Fn(&str) -> String,
) -> Result<Feed, ApiError> {
    require(policy::read_public(), "calendar", "")?;
    let from = (now - Duration::days(PAST_DAYS)).naive_utc();
    db.read(|conn| {
        let (scope, name) = match of {
            FeedOf::Council(id) => {
                let council = super::councils::find_council(conn, &id.key())?;
                (Scope::Council(id.to_string()), council.name)
            }
            FeedOf::School(id) => {
                let school = db::schools::find(conn, &id.key())?
                    .ok_or_else(|| ApiError::not_found("school", id.key()))?;
                (Scope::School(id.to_string()), school.name)
            }
            FeedOf::District => (Scope::District, "Council meetings".to_owned()),
        };
        let rows = calendar::published(conn, &scope, from, MAX_EVENTS)?;
        let events = rows
            .into_iter()
            .map(|(m, council)| {
                let mut about = vec![format!("{} meeting of {council}", m.meeting_type)];
                if let Some(remote) = &m.remote_url {
                    about.push(format!("Join remotely: {remote}"));
                }
                let languages: Vec<String> =
                    serde_json::from_str(&m.interpretation_languages).unwrap_or_default();
                if !languages.is_empty() {
                    about.push(format!("Interpretation: {}", languages.join(", ")));
                }
                if let Some(reason) = &m.cancel_reason {
                    about.push(format!("Cancelled: {reason}"));
                }
                let url = agenda_url(&m.id);
                about.push(format!("Agenda: {url}"));
                CalendarEvent {
                    uid: format!("meeting-{}@cogov", m.id),
                    sequence: m.version - 1,
                    changed_at: m.updated_at.and_utc(),
                    starts_at: m.starts_at.and_utc(),
                    ends_at: m.ends_at.map(|t| t.and_utc()),
                    summary: format!("{council}: {}", m.title),
                    description: Some(about.join("\n")),
                    location: m.location.clone().or_else(|| m.remote_url.clone()),
                    url: Some(url),
                    cancelled: m.status == "cancelled",
                }
            })
            .collect();
        Ok(Feed { name, events })
    })
}
