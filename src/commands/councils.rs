//! Councils: their settings, composition rules, composition report and rule overrides.

use super::external_ids;
use super::schools::still_referenced;
use super::{
    fields_ok, new_id, patch_optional, patch_required, problems_ok, require, Context, Expected,
    Patch,
};
use crate::auth::policy;
use crate::db::{self, councils::Council, councils::RuleOverride, AnyConnection, Db};
use crate::domain::council::{
    notice_problems, DEFAULT_REGULAR_NOTICE_HOURS, DEFAULT_SPECIAL_NOTICE_HOURS,
};
use crate::domain::external_ids::{ExternalId, ResourceKind};
use crate::domain::ids::{CouncilId, SchoolId};
use crate::domain::participation::SPEAKER_SECONDS_DEFAULT;
use crate::domain::report::{composition_report, Composition, SeatSnapshot};
use crate::domain::{composition, CompositionRule, Constituency, CouncilKind, QuorumBasis, Regime};
use crate::error::ApiError;

pub struct NewCouncil {
    pub school_id: Option<SchoolId>,
    pub kind: CouncilKind,
    pub regime: Option<Regime>,
    pub name: String,
    pub description: Option<String>,
    pub quorum_basis: Option<QuorumBasis>,
    pub regular_notice_hours: Option<i64>,
    pub special_notice_hours: Option<i64>,
    pub composition_rules: Vec<CompositionRule>,
    /// Seats one person may hold at once (default 1).
    pub max_seats_per_person: Option<i64>,
    /// Seconds one member of the public may speak on an item (default 180).
    pub speaker_seconds: Option<i64>,
    /// Assemblies: how many participants must be present for quorum.
    pub assembly_quorum: Option<i64>,
    pub external_ids: Vec<ExternalId>,
}

/// A JSON merge patch of a council. `composition_rules` replaces the whole list.
#[derive(Default)]
pub struct CouncilChanges {
    pub school_id: Patch<SchoolId>,
    pub kind: Patch<CouncilKind>,
    pub regime: Patch<Regime>,
    pub name: Patch<String>,
    pub description: Patch<String>,
    pub quorum_basis: Patch<QuorumBasis>,
    pub regular_notice_hours: Patch<i64>,
    pub special_notice_hours: Patch<i64>,
    pub composition_rules: Patch<Vec<CompositionRule>>,
    pub max_seats_per_person: Patch<i64>,
    pub speaker_seconds: Patch<i64>,
    pub assembly_quorum: Patch<i64>,
    /// Replaces the whole list; `null` clears it.
    pub external_ids: Patch<Vec<ExternalId>>,
}

const KIND: ResourceKind = ResourceKind::Council;

/// A council as stored, with its enums and rules parsed (a stored value cogov cannot read is an
/// error, never a silent default).
#[derive(Debug, Clone)]
pub struct CouncilRecord {
    pub row: Council,
    pub kind: CouncilKind,
    pub regime: Regime,
    pub quorum_basis: QuorumBasis,
    pub rules: Vec<CompositionRule>,
    /// Ids other systems use for the council (filled where a caller is shown them).
    pub external_ids: Vec<ExternalId>,
}

impl TryFrom<Council> for CouncilRecord {
    type Error = ApiError;

    fn try_from(row: Council) -> Result<Self, ApiError> {
        let corrupt = |what: &str, value: &str| {
            ApiError::Internal(format!("stored council {what} {value:?} unknown"))
        };
        Ok(CouncilRecord {
            kind: CouncilKind::parse(&row.kind).ok_or_else(|| corrupt("kind", &row.kind))?,
            regime: Regime::parse(&row.regime).ok_or_else(|| corrupt("regime", &row.regime))?,
            quorum_basis: QuorumBasis::parse(&row.quorum_basis)
                .ok_or_else(|| corrupt("quorum_basis", &row.quorum_basis))?,
            rules: parse_rules(&row.composition_rules)?,
            external_ids: Vec::new(),
            row,
        })
    }
}

fn parse_rules(text: &str) -> Result<Vec<CompositionRule>, ApiError> {
    serde_json::from_str(text)
        .map_err(|e| ApiError::Internal(format!("stored composition rules unreadable: {e}")))
}

fn rules_text(rules: &[CompositionRule]) -> Result<String, ApiError> {
    serde_json::to_string(rules).map_err(|e| ApiError::Internal(e.to_string()))
}

fn check_notice(regime: Regime, regular: i64, special: i64) -> Result<(), ApiError> {
    problems_ok(notice_problems(regime, regular, special))
}

fn school_exists(conn: &mut AnyConnection, school_id: &Option<String>) -> Result<(), ApiError> {
    if let Some(id) = school_id {
        if db::schools::find(conn, id)?.is_none() {
            return Err(ApiError::validation("school_id", "no school with this id"));
        }
    }
    Ok(())
}

pub fn find_council(conn: &mut AnyConnection, id: &str) -> Result<Council, ApiError> {
    db::councils::find(conn, id)?.ok_or_else(|| ApiError::not_found("council", id))
}

pub fn list(
    db: &Db,
    filter: &db::councils::CouncilFilter,
    after: Option<&str>,
    fetch: i64,
) -> Result<Vec<CouncilRecord>, ApiError> {
    let rows = db.read(|conn| {
        let rows = db::councils::list(conn, filter, after, fetch)?;
        external_ids::attach(conn, KIND, rows, |c| &c.id)
    })?;
    rows.into_iter()
        .map(|i| {
            let mut record = CouncilRecord::try_from(i.row)?;
            record.external_ids = i.external_ids;
            Ok(record)
        })
        .collect()
}

pub fn find(db: &Db, id: CouncilId) -> Result<CouncilRecord, ApiError> {
    let id = &id.key();
    let (row, ids) = db
        .read(|conn| Ok::<_, ApiError>(db::councils::find_with_ids(conn, id)?))?
        .ok_or_else(|| ApiError::not_found("council", id))?;
    with_ids(row, ids)
}

fn with_ids(row: Council, ids: Vec<ExternalId>) -> Result<CouncilRecord, ApiError> {
    let mut record = CouncilRecord::try_from(row)?;
    record.external_ids = ids;
    Ok(record)
}

pub async fn create(ctx: &Context, db: &Db, input: NewCouncil) -> Result<CouncilRecord, ApiError> {
    require(policy::district_admin_only(&ctx.caller), "council", "")?;
    let ids = external_ids::checked(input.external_ids)?;
    let regime = input.regime.unwrap_or_else(|| input.kind.default_regime());
    let regular = input
        .regular_notice_hours
        .unwrap_or(DEFAULT_REGULAR_NOTICE_HOURS);
    let special = input
        .special_notice_hours
        .unwrap_or(DEFAULT_SPECIAL_NOTICE_HOURS);
    check_notice(regime, regular, special)?;
    let now = db::now();
    let row = Council {
        id: new_id(),
        school_id: input.school_id.map(|s| s.key()),
        kind: input.kind.as_str().to_owned(),
        regime: regime.as_str().to_owned(),
        name: input.name,
        description: input.description,
        quorum_basis: input
            .quorum_basis
            .unwrap_or(QuorumBasis::FilledVotingSeats)
            .as_str()
            .to_owned(),
        regular_notice_hours: regular,
        special_notice_hours: special,
        composition_rules: rules_text(&input.composition_rules)?,
        created_at: now,
        updated_at: now,
        version: 1,
        archived_at: None,
        max_seats_per_person: input.max_seats_per_person.unwrap_or(1),
        speaker_seconds: input.speaker_seconds.unwrap_or(SPEAKER_SECONDS_DEFAULT),
        assembly_quorum: input.assembly_quorum,
    };
    let row = ctx
        .write(db, "create", Some(row.id.clone()), 201, move |conn| {
            school_exists(conn, &row.school_id)?;
            db::councils::insert(conn, &row)?;
            external_ids::set_new(conn, KIND, &row.id, &ids)?;
            Ok((row, ids))
        })
        .await?;
    with_ids(row.0, row.1)
}

pub async fn update(
    ctx: &Context,
    db: &Db,
    id: CouncilId,
    expected: Expected,
    changes: CouncilChanges,
) -> Result<CouncilRecord, ApiError> {
    let id = id.key();
    require(policy::manage_council(&ctx.caller, &id), "council", &id)?;
    let new_ids = match changes.external_ids {
        None => None,
        Some(list) => Some(external_ids::checked(list.unwrap_or_default())?),
    };
    let row = ctx
        .write(db, "update", Some(id.clone()), 200, move |conn| {
            let mut row = find_council(conn, &id)?;
            expected.check(row.version)?;
            not_archived(&row)?;
            let (mut errors, mut changed) = (Vec::new(), false);
            let before_school = row.school_id.clone();
            patch_optional(
                &mut row.school_id,
                changes.school_id.map(|s| s.map(|s| s.key())),
                &mut changed,
            );
            if row.school_id != before_school {
                school_exists(conn, &row.school_id)?;
            }
            let mut text = |target: &mut String, value: Patch<String>, field: &str| {
                patch_required(target, value, field, &mut errors, &mut changed)
            };
            text(
                &mut row.kind,
                enum_text(changes.kind, CouncilKind::as_str),
                "kind",
            );
            text(
                &mut row.regime,
                enum_text(changes.regime, Regime::as_str),
                "regime",
            );
            text(&mut row.name, changes.name, "name");
            text(
                &mut row.quorum_basis,
                enum_text(changes.quorum_basis, QuorumBasis::as_str),
                "quorum_basis",
            );
            let rules = match changes.composition_rules {
                None => None,
                Some(None) => Some(None),
                Some(Some(rules)) => Some(Some(rules_text(&rules)?)),
            };
            text(&mut row.composition_rules, rules, "composition_rules");
            patch_optional(&mut row.description, changes.description, &mut changed);
            patch_required(
                &mut row.regular_notice_hours,
                changes.regular_notice_hours,
                "regular_notice_hours",
                &mut errors,
                &mut changed,
            );
            patch_required(
                &mut row.special_notice_hours,
                changes.special_notice_hours,
                "special_notice_hours",
                &mut errors,
                &mut changed,
            );
            patch_required(
                &mut row.max_seats_per_person,
                changes.max_seats_per_person,
                "max_seats_per_person",
                &mut errors,
                &mut changed,
            );
            patch_required(
                &mut row.speaker_seconds,
                changes.speaker_seconds,
                "speaker_seconds",
                &mut errors,
                &mut changed,
            );
            patch_optional(
                &mut row.assembly_quorum,
                changes.assembly_quorum,
                &mut changed,
            );
            fields_ok(errors)?;
            let regime = Regime::parse(&row.regime)
                .ok_or_else(|| ApiError::Internal(format!("stored regime {:?}", row.regime)))?;
            check_notice(regime, row.regular_notice_hours, row.special_notice_hours)?;
            let mut ids = external_ids::of(conn, KIND, &id)?;
            if let Some(new_ids) = new_ids {
                if new_ids != ids {
                    external_ids::set(conn, KIND, &id, &new_ids)?;
                    ids = new_ids;
                    changed = true;
                }
            }
            if changed {
                row.version += 1;
                row.updated_at = db::now();
                db::councils::update(conn, &row)?;
            }
            Ok((row, ids))
        })
        .await?;
    with_ids(row.0, row.1)
}

fn enum_text<T>(value: Patch<T>, as_str: fn(T) -> &'static str) -> Patch<String> {
    value.map(|v| v.map(|v| as_str(v).to_owned()))
}

/// Deletes a council that has no history: its seats go with it if none was ever held. A council
/// with history (a seat ever held, a recorded override) is kept: archive it instead.
pub async fn delete(
    ctx: &Context,
    db: &Db,
    id: CouncilId,
    expected: Expected,
) -> Result<(), ApiError> {
    let id = id.key();
    require(policy::district_admin_only(&ctx.caller), "council", &id)?;
    ctx.write(db, "delete", Some(id.clone()), 204, move |conn| {
        let row = find_council(conn, &id)?;
        expected.check(row.version)?;
        let kept = "the council has history (a seat that was held, or a recorded rule override), \
                    which is kept; archive it instead (POST /api/v1/councils/{council_id}/archive)";
        for seat in db::seats::all_of_council(conn, &id)? {
            db::seats::delete(conn, &seat).map_err(|e| still_referenced(e, kept))?;
        }
        db::councils::delete(conn, &row).map_err(|e| still_referenced(e, kept))?;
        db::external_ids::remove_all(conn, KIND, &id)?;
        Ok(())
    })
    .await
}

/// Refuses a change to an archived council (its record is read-only).
pub fn not_archived(council: &Council) -> Result<(), ApiError> {
    match council.archived_at {
        None => Ok(()),
        Some(at) => Err(ApiError::Conflict {
            code: "council-archived",
            detail: format!(
                "the council was archived on {}; it is read-only (restore it with DELETE /api/v1/councils/{}/archive)",
                at.date(),
                council.id
            ),
        }),
    }
}

/// Archives (`archived = true`) or restores a council. An archived council is kept with all its
/// history, read-only, and left out of default lists.
pub async fn archive(
    ctx: &Context,
    db: &Db,
    id: CouncilId,
    expected: Expected,
    archived: bool,
) -> Result<CouncilRecord, ApiError> {
    let id = id.key();
    require(policy::district_admin_only(&ctx.caller), "council", &id)?;
    let action = if archived { "create" } else { "delete" };
    let row = ctx
        .write(db, action, Some(id.clone()), 200, move |conn| {
            let mut row = find_council(conn, &id)?;
            expected.check(row.version)?;
            if row.archived_at.is_some() == archived {
                return Ok(row);
            }
            let now = db::now();
            row.archived_at = archived.then_some(now);
            row.version += 1;
            row.updated_at = now;
            db::councils::update(conn, &row)?;
            Ok(row)
        })
        .await?;
    let ids = db.read(|conn| external_ids::of(conn, KIND, &row.id))?;
    with_ids(row, ids)
}

/// The composition facts of a set of seats, for rule checks.
pub fn seat_facts(seats: &[db::seats::Seat]) -> Result<Vec<composition::SeatFacts>, ApiError> {
    seats
        .iter()
        .map(|s| {
            Ok(composition::SeatFacts {
                constituency: Constituency::parse(&s.constituency).ok_or_else(|| {
                    ApiError::Internal(format!("stored constituency {:?} unknown", s.constituency))
                })?,
                voting: s.voting,
                filled: s.holder_id.is_some(),
            })
        })
        .collect()
}

/// The composition report of a council, computed now.
pub fn composition(db: &Db, id: CouncilId) -> Result<Composition, ApiError> {
    let id = &id.key();
    let (council, seats, holders) = db.read(|conn| {
        let council = find_council(conn, id)?;
        let seats = db::seats::all_of_council(conn, id)?;
        let holder_ids: Vec<String> = seats.iter().filter_map(|s| s.holder_id.clone()).collect();
        let holders = db::people::by_ids(conn, &holder_ids)?;
        let withheld = super::people::withheld_of(conn, &holder_ids)?;
        Ok::<_, ApiError>((council, seats, (holders, withheld)))
    })?;
    let (holders, withheld) = holders;
    let council = CouncilRecord::try_from(council)?;
    let facts = seat_facts(&seats)?;
    let snapshots = seats
        .iter()
        .zip(facts)
        .map(|(s, facts)| {
            Ok(SeatSnapshot {
                seat_id: db::stored_uuid("seat id", &s.id)?,
                title: s.title.clone(),
                facts,
                term_end: s.term_end,
                holder_name: s.holder_id.as_deref().and_then(|h| {
                    holders
                        .iter()
                        .find(|p| p.id == h)
                        .and_then(|p| super::people::public_name(&withheld, p))
                }),
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(composition_report(
        db::stored_uuid("council id", &council.row.id)?,
        &council.rules,
        council.quorum_basis,
        &snapshots,
        db::today(),
    ))
}

pub fn list_overrides(
    db: &Db,
    council_id: CouncilId,
    after: Option<&str>,
    fetch: i64,
) -> Result<Vec<RuleOverride>, ApiError> {
    let council_id = &council_id.key();
    db.read(|conn| {
        find_council(conn, council_id)?;
        Ok(db::councils::list_overrides(
            conn, council_id, after, fetch,
        )?)
    })
}
