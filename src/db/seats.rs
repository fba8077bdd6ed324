//! Seats and who held them when.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::changes::versioned_writes;
use super::schema::{seat_holdings, seats};
use super::AnyConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = seats, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Seat {
    pub id: String,
    pub council_id: String,
    pub constituency: String,
    pub title: String,
    pub voting: bool,
    pub term_start: Option<NaiveDate>,
    pub term_end: Option<NaiveDate>,
    pub holder_id: Option<String>,
    pub holder_since: Option<NaiveDate>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

versioned_writes!(seats, Seat, "seat");

#[derive(Debug, Default)]
pub struct SeatFilter {
    pub constituency: Option<String>,
    pub voting: Option<bool>,
    /// `Some(true)`: only vacant seats; `Some(false)`: only filled ones.
    pub vacant: Option<bool>,
    pub holder_id: Option<String>,
}

pub fn list(
    conn: &mut AnyConnection,
    council_id: &str,
    filter: &SeatFilter,
    after: Option<&str>,
    fetch: i64,
) -> QueryResult<Vec<Seat>> {
    let mut query = seats::table
        .filter(seats::council_id.eq(council_id.to_owned()))
        .select(Seat::as_select())
        .into_boxed();
    if let Some(c) = &filter.constituency {
        query = query.filter(seats::constituency.eq(c.clone()));
    }
    if let Some(voting) = filter.voting {
        query = query.filter(seats::voting.eq(voting));
    }
    match filter.vacant {
        Some(true) => query = query.filter(seats::holder_id.is_null()),
        Some(false) => query = query.filter(seats::holder_id.is_not_null()),
        None => {}
    }
    if let Some(holder) = &filter.holder_id {
        query = query.filter(seats::holder_id.eq(holder.clone()));
    }
    if let Some(after) = after {
        query = query.filter(seats::id.gt(after.to_owned()));
    }
    query.order(seats::id.asc()).limit(fetch).load(conn)
}

/// Every seat of a council (composition is computed over all of them).
pub fn all_of_council(conn: &mut AnyConnection, council_id: &str) -> QueryResult<Vec<Seat>> {
    seats::table
        .filter(seats::council_id.eq(council_id))
        .order(seats::id.asc())
        .select(Seat::as_select())
        .load(conn)
}

/// How many seats of a council a person holds now.
pub fn held_on_council(
    conn: &mut AnyConnection,
    council_id: &str,
    person_id: &str,
) -> QueryResult<i64> {
    seats::table
        .filter(seats::council_id.eq(council_id))
        .filter(seats::holder_id.eq(person_id))
        .count()
        .get_result(conn)
}

pub fn count_of_council(conn: &mut AnyConnection, council_id: &str) -> QueryResult<i64> {
    seats::table
        .filter(seats::council_id.eq(council_id))
        .count()
        .get_result(conn)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = seat_holdings, treat_none_as_null = true, treat_none_as_default_value = false)]
pub struct Holding {
    pub id: String,
    pub seat_id: String,
    pub person_id: String,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    pub end_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i64,
}

pub mod holdings {
    use super::*;
    versioned_writes!(seat_holdings, Holding, "seat_holding");

    /// The open holding of a seat (no end date), if any.
    pub fn current(conn: &mut AnyConnection, seat_id: &str) -> QueryResult<Option<Holding>> {
        seat_holdings::table
            .filter(seat_holdings::seat_id.eq(seat_id))
            .filter(seat_holdings::ended_on.is_null())
            .select(Holding::as_select())
            .load(conn)
            .map(|rows| rows.into_iter().next())
    }

    /// Every holding of a person, on any council, with its seat; oldest first.
    pub fn of_person(
        conn: &mut AnyConnection,
        person_id: &str,
    ) -> QueryResult<Vec<(Holding, Seat)>> {
        seat_holdings::table
            .inner_join(seats::table)
            .filter(seat_holdings::person_id.eq(person_id))
            .order(seat_holdings::id.asc())
            .select((Holding::as_select(), Seat::as_select()))
            .load(conn)
    }

    /// A seat's holdings, oldest first.
    pub fn of_seat(
        conn: &mut AnyConnection,
        seat_id: &str,
        after: Option<&str>,
        fetch: i64,
    ) -> QueryResult<Vec<Holding>> {
        let mut query = seat_holdings::table
            .filter(seat_holdings::seat_id.eq(seat_id.to_owned()))
            .select(Holding::as_select())
            .into_boxed();
        if let Some(after) = after {
            query = query.filter(seat_holdings::id.gt(after.to_owned()));
        }
        query.order(seat_holdings::id.asc()).limit(fetch).load(conn)
    }
}
