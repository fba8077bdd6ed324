//! Public participation: written public comments, in-person speakers, and the per-address
//! counters that limit comment submissions.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::changes::versioned_writes;
use super::schema::{public_comments, public_speakers};
use super::AnyConnection;

/// A written public comment on an agenda item. Never deleted: staff may hide an abusive one,
/// with a reason.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = public_comments, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct PublicComment {
    pub id: String,
    pub meeting_id: String,
    pub item_id: String,
    /// Voluntary.
    pub author_name: Option<String>,
    /// Voluntary; shown to the council's staff only.
    pub author_email: Option<String>,
    pub body: String,
    pub hidden_at: Option<NaiveDateTime>,
    pub hidden_reason: Option<String>,
    /// Actor key of whoever hid it.
    pub hidden_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

versioned_writes!(public_comments, PublicComment, "public_comment");

/// An item's written comments, in the order they came.
pub fn of_item(
    conn: &mut AnyConnection,
    item_id: &str,
    after: Option<&str>,
    fetch: i64,
) -> QueryResult<Vec<PublicComment>> {
    let mut query = public_comments::table
        .filter(public_comments::item_id.eq(item_id.to_owned()))
        .select(PublicComment::as_select())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(public_comments::id.gt(after.to_owned()));
    }
    query
        .order(public_comments::id.asc())
        .limit(fetch)
        .load(conn)
}

/// A member of the public who spoke in person on an item, with the time they were given.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = public_speakers, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct PublicSpeaker {
    pub id: String,
    pub meeting_id: String,
    pub item_id: String,
    /// Voluntary.
    pub name: Option<String>,
    pub interpretation: String,
    pub seconds_allowed: i64,
    pub recorded_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

pub mod speakers {
    use super::*;
    versioned_writes!(public_speakers, PublicSpeaker, "public_speaker");

    /// An item's speakers, in the order they were called.
    pub fn of_item(conn: &mut AnyConnection, item_id: &str) -> QueryResult<Vec<PublicSpeaker>> {
        public_speakers::table
            .filter(public_speakers::item_id.eq(item_id))
            .order(public_speakers::id.asc())
            .select(PublicSpeaker::as_select())
            .load(conn)
    }
}

/// Per item of a meeting: written comments, of which hidden, and in-person speakers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommentCount {
    pub item_id: String,
    pub written: i64,
    pub hidden: i64,
    pub speakers: i64,
}

/// Comment counts of every item of a meeting that has any comment or speaker, by item id.
pub fn counts(conn: &mut AnyConnection, meeting_id: &str) -> QueryResult<Vec<CommentCount>> {
    use diesel::dsl::count_star;
    let written: Vec<(String, i64)> = public_comments::table
        .filter(public_comments::meeting_id.eq(meeting_id))
        .group_by(public_comments::item_id)
        .select((public_comments::item_id, count_star()))
        .load(conn)?;
    let hidden: Vec<(String, i64)> = public_comments::table
        .filter(public_comments::meeting_id.eq(meeting_id))
        .filter(public_comments::hidden_at.is_not_null())
        .group_by(public_comments::item_id)
        .select((public_comments::item_id, count_star()))
        .load(conn)?;
    let spoken: Vec<(String, i64)> = public_speakers::table
        .filter(public_speakers::meeting_id.eq(meeting_id))
        .group_by(public_speakers::item_id)
        .select((public_speakers::item_id, count_star()))
        .load(conn)?;
    let mut out: std::collections::BTreeMap<String, CommentCount> = Default::default();
    fn entry(
        out: &mut std::collections::BTreeMap<String, CommentCount>,
        item: String,
    ) -> &mut CommentCount {
        out.entry(item.clone()).or_insert_with(|| CommentCount {
            item_id: item,
            ..CommentCount::default()
        })
    }
    for (item, n) in written {
        entry(&mut out, item).written += n;
    }
    for (item, n) in hidden {
        entry(&mut out, item).hidden += n;
    }
    for (item, n) in spoken {
        entry(&mut out, item).speakers += n;
    }
    Ok(out.into_values().collect())
}

pub mod throttle {
    use super::*;
    use diesel::sql_types::{BigInt, Text, Timestamp};

    #[derive(QueryableByName)]
    struct Attempts {
        #[diesel(sql_type = BigInt)]
        #[allow(dead_code)] // only whether a row came back matters
        attempts: i64,
    }

    /// Counts one comment from `subject` (a client address) in the window starting at
    /// `window_start`, unless `limit` are already counted there. One statement: concurrent
    /// callers (threads or cogov instances) can never count past the limit.
    pub fn reserve(
        conn: &mut AnyConnection,
        subject: &str,
        window_start: NaiveDateTime,
        limit: i64,
    ) -> QueryResult<bool> {
        let counted: Vec<Attempts> = diesel::sql_query(
            "INSERT INTO comment_attempts (subject, window_start, attempts) \
             VALUES ($1, $2, 1) \
             ON CONFLICT (subject, window_start) \
             DO UPDATE SET attempts = comment_attempts.attempts + 1 \
             WHERE comment_attempts.attempts < $3 \
             RETURNING attempts",
        )
        .bind::<Text, _>(subject)
        .bind::<Timestamp, _>(window_start)
        .bind::<BigInt, _>(limit)
        .load(conn)?;
        Ok(!counted.is_empty())
    }

    /// Removes the counters of windows that started before `before`.
    pub fn forget_before(conn: &mut AnyConnection, before: NaiveDateTime) -> QueryResult<usize> {
        diesel::sql_query("DELETE FROM comment_attempts WHERE window_start < $1")
            .bind::<Timestamp, _>(before)
            .execute(conn)
    }
}

/// What an agenda report needs of one item: the constituency of the seat it was proposed
/// from (`None`: staff), whether it reached a meeting's agenda, whether a vote closed on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemSource {
    pub constituency: Option<String>,
    pub accepted: bool,
    pub voted_on: bool,
}

/// The items of a council created in `[from, to)`, with their sources.
pub fn item_sources(
    conn: &mut AnyConnection,
    council_id: &str,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<ItemSource>> {
    use super::schema::{agenda_items, assembly_motions, motions, seats};
    let items: Vec<(String, Option<String>, Option<String>)> = agenda_items::table
        .filter(agenda_items::council_id.eq(council_id))
        .filter(agenda_items::created_at.ge(from))
        .filter(agenda_items::created_at.lt(to))
        .select((
            agenda_items::id,
            agenda_items::proposed_by_seat_id,
            agenda_items::meeting_id,
        ))
        .load(conn)?;
    let constituencies: std::collections::HashMap<String, String> = seats::table
        .filter(seats::council_id.eq(council_id))
        .select((seats::id, seats::constituency))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect();
    let mut voted: std::collections::HashSet<String> = Default::default();
    let ids: Vec<String> = items.iter().map(|(id, _, _)| id.clone()).collect();
    for chunk in ids.chunks(500) {
        voted.extend(
            motions::table
                .filter(motions::agenda_item_id.eq_any(chunk))
                .filter(motions::status.ne("open"))
                .select(motions::agenda_item_id)
                .load::<Option<String>>(conn)?
                .into_iter()
                .flatten(),
        );
        voted.extend(
            assembly_motions::table
                .filter(assembly_motions::agenda_item_id.eq_any(chunk))
                .filter(assembly_motions::status.ne("open"))
                .select(assembly_motions::agenda_item_id)
                .load::<String>(conn)?,
        );
    }
    Ok(items
        .into_iter()
        .map(|(id, seat, meeting)| ItemSource {
            constituency: seat.and_then(|s| constituencies.get(&s).cloned()),
            accepted: meeting.is_some(),
            voted_on: voted.contains(&id),
        })
        .collect())
}
