//! Seats on councils and who holds them. Every change that alters who or what sits on a council
//! is checked against the council's composition rules, one change per council at a time.

use chrono::NaiveDate;

use super::councils::{find_council, not_archived, seat_facts, CouncilRecord};
use super::schools::still_referenced;
use super::{fields_ok, new_id, patch_optional, patch_required, require, Context, Expected, Patch};
use crate::auth::policy;
use crate::db::dialect::{lock_row, LockTable};
use crate::db::{self, councils::RuleOverride, seats::Holding, seats::Seat, AnyConnection, Db};
use crate::domain::ids::{CouncilId, PersonId, SeatId};
use crate::domain::{composition, Constituency};
use crate::error::{ApiError, FieldError};

pub struct NewSeat {
    pub constituency: Constituency,
    pub title: String,
    pub voting: bool,
    pub term_start: Option<NaiveDate>,
    pub term_end: Option<NaiveDate>,
}

/// A JSON merge patch of a seat (its holder changes through [`assign_holder`] and [`vacate`]).
#[derive(Default)]
pub struct SeatChanges {
    pub constituency: Patch<Constituency>,
    pub title: Patch<String>,
    pub voting: Patch<bool>,
    pub term_start: Patch<NaiveDate>,
    pub term_end: Patch<NaiveDate>,
}

pub struct Vacate {
    pub ends_on: Option<NaiveDate>,
    pub reason: Option<String>,
}

/// A seat with its holder's public name.
#[derive(Debug, Clone)]
pub struct SeatRecord {
    pub seat: Seat,
    pub constituency: Constituency,
    pub holder_name: Option<String>,
}

fn record(seat: Seat, holder_name: Option<String>) -> Result<SeatRecord, ApiError> {
    let constituency = Constituency::parse(&seat.constituency).ok_or_else(|| {
        ApiError::Internal(format!(
            "stored constituency {:?} unknown",
            seat.constituency
        ))
    })?;
    let holder_name = seat.holder_id.as_ref().and(holder_name);
    Ok(SeatRecord {
        seat,
        constituency,
        holder_name,
    })
}

/// The seat with its holder's name as public views show it (`None` when withheld, FERPA 99.37).
fn with_holder(conn: &mut AnyConnection, seat: Seat) -> Result<SeatRecord, ApiError> {
    let name = match &seat.holder_id {
        Some(id) => {
            let withheld = super::people::withheld_of(conn, std::slice::from_ref(id))?;
            db::people::find(conn, id)?.and_then(|p| super::people::public_name(&withheld, &p))
        }
        None => None,
    };
    record(seat, name)
}

fn term_order(start: Option<NaiveDate>, end: Option<NaiveDate>) -> Result<(), ApiError> {
    match (start, end) {
        (Some(s), Some(e)) if e < s => Err(ApiError::validation(
            "term_end",
            "must not be before term_start",
        )),
        _ => Ok(()),
    }
}

fn find_seat(conn: &mut AnyConnection, id: &str) -> Result<Seat, ApiError> {
    db::seats::find(conn, id)?.ok_or_else(|| ApiError::not_found("seat", id))
}

/// Refuses a change that would break composition rules that hold now, unless the caller allowed
/// it; an allowed violation is recorded. `after` replaces (or, when `None`, removes) the seat
/// with id `seat_id` in the council's current seats.
///
/// The council's row is locked first, so two seat changes on one council run one after the
/// other and each sees the other's effect: two racing changes can never each pass a rule that
/// together they break.
fn guard_composition(
    conn: &mut AnyConnection,
    council_id: &str,
    seat_id: &str,
    after: Option<&Seat>,
    change: &str,
    allow: bool,
) -> Result<(), ApiError> {
    lock_row(conn, LockTable::Councils, council_id)?;
    let council = CouncilRecord::try_from(find_council(conn, council_id)?)?;
    not_archived(&council.row)?;
    if council.rules.is_empty() {
        return Ok(());
    }
    let before = db::seats::all_of_council(conn, council_id)?;
    let mut next: Vec<Seat> = before.iter().filter(|s| s.id != seat_id).cloned().collect();
    if let Some(seat) = after {
        next.push(seat.clone());
    }
    let broken =
        composition::newly_broken(&council.rules, &seat_facts(&before)?, &seat_facts(&next)?);
    if broken.is_empty() {
        return Ok(());
    }
    if !allow {
        let names: Vec<&str> = broken.iter().map(|b| b.name.as_str()).collect();
        return Err(ApiError::RuleViolation {
            detail: format!(
                "this change would break {} composition rule{}: {}; pass allow_rule_violation=true to make it anyway (the override is recorded)",
                broken.len(),
                if broken.len() == 1 { "" } else { "s" },
                names.join(", ")
            ),
            broken,
        });
    }
    let now = db::now();
    db::councils::record_override(
        conn,
        &RuleOverride {
            id: new_id(),
            council_id: council_id.to_owned(),
            seat_id: Some(seat_id.to_owned()),
            change: change.to_owned(),
            broken_rules: serde_json::to_string(&broken)
                .map_err(|e| ApiError::Internal(e.to_string()))?,
            created_at: now,
            updated_at: now,
            version: 1,
        },
    )?;
    Ok(())
}

/// The seat a change is about: it exists, the caller runs its council, and `If-Match` names its
/// current version (checked in that order: 404, then 403, then 412).
fn seat_for_change(
    conn: &mut AnyConnection,
    caller: &crate::auth::Principal,
    id: &str,
    expected: &Expected,
) -> Result<Seat, ApiError> {
    let seat = find_seat(conn, id)?;
    require(policy::manage_council(caller, &seat.council_id), "seat", id)?;
    expected.check(seat.version)?;
    Ok(seat)
}

pub fn list(
    db: &Db,
    council_id: CouncilId,
    filter: &db::seats::SeatFilter,
    after: Option<&str>,
    fetch: i64,
) -> Result<Vec<SeatRecord>, ApiError> {
    let council_id = &council_id.key();
    let (rows, holders) = db.read(|conn| {
        find_council(conn, council_id)?;
        let rows = db::seats::list(conn, council_id, filter, after, fetch)?;
        let ids: Vec<String> = rows.iter().filter_map(|s| s.holder_id.clone()).collect();
        let holders = db::people::by_ids(conn, &ids)?;
        let withheld = super::people::withheld_of(conn, &ids)?;
        Ok::<_, ApiError>((rows, (holders, withheld)))
    })?;
    let (holders, withheld) = holders;
    rows.into_iter()
        .map(|s| {
            let name = s
                .holder_id
                .as_deref()
                .and_then(|h| holders.iter().find(|p| p.id == h))
                .and_then(|p| super::people::public_name(&withheld, p));
            record(s, name)
        })
        .collect()
}

pub fn find(db: &Db, id: SeatId) -> Result<SeatRecord, ApiError> {
    let id = &id.key();
    db.read(|conn| {
        let seat = find_seat(conn, id)?;
        with_holder(conn, seat)
    })
}

pub async fn create(
    ctx: &Context,
    db: &Db,
    council_id: CouncilId,
    input: NewSeat,
    allow_rule_violation: bool,
) -> Result<SeatRecord, ApiError> {
    let council_id = council_id.key();
    require(
        policy::manage_council(&ctx.caller, &council_id),
        "council",
        &council_id,
    )?;
    term_order(input.term_start, input.term_end)?;
    let now = db::now();
    let row = Seat {
        id: new_id(),
        council_id: council_id.clone(),
        constituency: input.constituency.as_str().to_owned(),
        title: input.title,
        voting: input.voting,
        term_start: input.term_start,
        term_end: input.term_end,
        holder_id: None,
        holder_since: None,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let row = ctx
        .write(db, "create", Some(row.id.clone()), 201, move |conn| {
            guard_composition(
                conn,
                &council_id,
                &row.id,
                Some(&row),
                "seat.created",
                allow_rule_violation,
            )?;
            db::seats::insert(conn, &row)?;
            Ok(row)
        })
        .await?;
    record(row, None)
}

pub async fn update(
    ctx: &Context,
    db: &Db,
    id: SeatId,
    expected: Expected,
    changes: SeatChanges,
    allow_rule_violation: bool,
) -> Result<SeatRecord, ApiError> {
    let id = id.key();
    let caller = ctx.caller.clone();
    ctx.write(db, "update", Some(id.clone()), 200, move |conn| {
        let mut row = seat_for_change(conn, &caller, &id, &expected)?;
        let (mut errors, mut changed) = (Vec::new(), false);
        patch_required(
            &mut row.constituency,
            changes
                .constituency
                .map(|c| c.map(|c| c.as_str().to_owned())),
            "constituency",
            &mut errors,
            &mut changed,
        );
        patch_required(
            &mut row.title,
            changes.title,
            "title",
            &mut errors,
            &mut changed,
        );
        patch_required(
            &mut row.voting,
            changes.voting,
            "voting",
            &mut errors,
            &mut changed,
        );
        patch_optional(&mut row.term_start, changes.term_start, &mut changed);
        patch_optional(&mut row.term_end, changes.term_end, &mut changed);
        fields_ok(errors)?;
        term_order(row.term_start, row.term_end)?;
        if !changed {
            return with_holder(conn, row);
        }
        let council_id = row.council_id.clone();
        guard_composition(
            conn,
            &council_id,
            &row.id,
            Some(&row),
            "seat.updated",
            allow_rule_violation,
        )?;
        row.version += 1;
        row.updated_at = db::now();
        db::seats::update(conn, &row)?;
        with_holder(conn, row)
    })
    .await
}

pub async fn delete(
    ctx: &Context,
    db: &Db,
    id: SeatId,
    expected: Expected,
    allow_rule_violation: bool,
) -> Result<(), ApiError> {
    let id = id.key();
    let caller = ctx.caller.clone();
    ctx.write(db, "delete", Some(id.clone()), 204, move |conn| {
        let row = seat_for_change(conn, &caller, &id, &expected)?;
        guard_composition(
            conn,
            &row.council_id,
            &row.id,
            None,
            "seat.deleted",
            allow_rule_violation,
        )?;
        db::seats::delete(conn, &row).map_err(|e| {
            still_referenced(
                e,
                "this seat has been held; its history is kept (vacate it instead)",
            )
        })
    })
    .await
}

/// Seats a person: ends the current holding (if any) the day the new one starts and opens a new
/// one; nothing is overwritten. At most one holding of a seat is open at a time (a unique index).
pub async fn assign_holder(
    ctx: &Context,
    db: &Db,
    id: SeatId,
    expected: Expected,
    person_id: PersonId,
    starts_on: Option<NaiveDate>,
    allow_rule_violation: bool,
) -> Result<SeatRecord, ApiError> {
    let id = id.key();
    let person_id = person_id.key();
    let caller = ctx.caller.clone();
    let today = db::today();
    let starts_on = starts_on.unwrap_or(today);
    if starts_on > today {
        // A holding counts from its first day: seated ahead of time, the person would count
        // for quorum and composition before their term starts.
        return Err(ApiError::validation(
            "starts_on",
            format!(
                "must not be after today ({today}); seat the person on the day their term starts"
            ),
        ));
    }
    ctx.write(db, "update", Some(id.clone()), 200, move |conn| {
        let mut row = seat_for_change(conn, &caller, &id, &expected)?;
        if db::people::find(conn, &person_id)?.is_none() {
            return Err(ApiError::validation("person_id", "no person with this id"));
        }
        if row.holder_id.as_deref() == Some(person_id.as_str()) {
            return Err(ApiError::Conflict {
                code: "already-holder",
                detail: "this person already holds the seat".to_owned(),
            });
        }
        let council = find_council(conn, &row.council_id)?;
        let held = db::seats::held_on_council(conn, &row.council_id, &person_id)?;
        if held >= council.max_seats_per_person {
            return Err(ApiError::Conflict {
                code: "seat-limit",
                detail: format!(
                    "this person already holds {held} seat{} on this council, the most one person may hold (the council's max_seats_per_person)",
                    if held == 1 { "" } else { "s" }
                ),
            });
        }
        row.holder_id = Some(person_id.clone());
        row.holder_since = Some(starts_on);
        let council_id = row.council_id.clone();
        guard_composition(
            conn,
            &council_id,
            &row.id,
            Some(&row),
            "seat.holder_assigned",
            allow_rule_violation,
        )?;
        let now = db::now();
        if let Some(mut current) = db::seats::holdings::current(conn, &id)? {
            if starts_on < current.started_on {
                return Err(ApiError::Validation(vec![FieldError::new(
                    "starts_on",
                    format!(
                        "must not be before the current holding started ({})",
                        current.started_on
                    ),
                )]));
            }
            current.ended_on = Some(starts_on);
            current.end_reason = Some("replaced".to_owned());
            current.version += 1;
            current.updated_at = now;
            db::seats::holdings::update(conn, &current)?;
        }
        db::seats::holdings::insert(
            conn,
            &Holding {
                id: new_id(),
                seat_id: id.clone(),
                person_id: person_id.clone(),
                started_on: starts_on,
                ended_on: None,
                end_reason: None,
                created_at: now,
                updated_at: now,
                version: 1,
            },
        )?;
        row.version += 1;
        row.updated_at = now;
        db::seats::update(conn, &row)?;
        with_holder(conn, row)
    })
    .await
}

/// Ends the current holding; the seat stays, vacant.
pub async fn vacate(
    ctx: &Context,
    db: &Db,
    id: SeatId,
    expected: Expected,
    input: Vacate,
    allow_rule_violation: bool,
) -> Result<SeatRecord, ApiError> {
    let id = id.key();
    let caller = ctx.caller.clone();
    let ends_on = input.ends_on.unwrap_or_else(db::today);
    ctx.write(db, "delete", Some(id.clone()), 200, move |conn| {
        let mut row = seat_for_change(conn, &caller, &id, &expected)?;
        let Some(mut current) = db::seats::holdings::current(conn, &id)? else {
            return Err(ApiError::Conflict {
                code: "seat-vacant",
                detail: "the seat is already vacant".to_owned(),
            });
        };
        if ends_on < current.started_on {
            return Err(ApiError::validation(
                "ends_on",
                format!(
                    "must not be before the holding started ({})",
                    current.started_on
                ),
            ));
        }
        row.holder_id = None;
        row.holder_since = None;
        let council_id = row.council_id.clone();
        guard_composition(
            conn,
            &council_id,
            &row.id,
            Some(&row),
            "seat.holder_removed",
            allow_rule_violation,
        )?;
        let now = db::now();
        current.ended_on = Some(ends_on);
        current.end_reason = Some(input.reason.unwrap_or_else(|| "vacated".to_owned()));
        current.version += 1;
        current.updated_at = now;
        db::seats::holdings::update(conn, &current)?;
        row.version += 1;
        row.updated_at = now;
        db::seats::update(conn, &row)?;
        record(row, None)
    })
    .await
}

pub fn list_holdings(
    db: &Db,
    seat_id: SeatId,
    after: Option<&str>,
    fetch: i64,
) -> Result<Vec<Holding>, ApiError> {
    let seat_id = &seat_id.key();
    db.read(|conn| {
        find_seat(conn, seat_id)?;
        Ok(db::seats::holdings::of_seat(conn, seat_id, after, fetch)?)
    })
}
