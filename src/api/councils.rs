//! `/api/v1/councils`, a council's composition, and its record of rule overrides.

use std::collections::BTreeMap;

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use super::body::JsonBody;
use super::fields::{self, patch, patch_nullable};
use super::paging::{list_response, split_page, PageRequest};
use super::preconditions::{
    created_response, resource_response, updated_response, IfMatch, CACHE_REVALIDATE,
};
use super::schools::still_referenced;
use crate::auth::{policy, require, SignedIn};
use crate::db::{self, councils::Council, AnyConnection};
use crate::domain::council::{
    quorum_required, DEFAULT_REGULAR_NOTICE_HOURS, DEFAULT_SPECIAL_NOTICE_HOURS,
};
use crate::domain::{
    composition, terms, CompositionRule, Constituency, CouncilKind, QuorumBasis, Regime,
    RuleOutcome,
};
use crate::error::{ApiError, FieldError};
use crate::state::AppState;

/// A council: the body that governs a community school (or, without a school, a district body).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11", "school_id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a00",
    "kind": "community_school_steering_committee", "regime": "brown",
    "name": "Roosevelt Community School Steering Committee", "description": "Sets priorities for wraparound services.",
    "quorum_basis": "filled_voting_seats", "regular_notice_hours": 72, "special_notice_hours": 24,
    "composition_rules": [
        {"type": "balance", "name": "community parity", "left": ["families", "students", "community_organizations"],
         "relation": "at_least", "right": ["district", "administrators", "teachers", "classified_staff"], "count": "seats"},
        {"type": "at_least", "constituency": "students", "min": 2, "count": "seats"}],
    "created_at": "2026-11-25T08:41:42.123456Z", "updated_at": "2026-11-25T08:41:42.123456Z", "version": 1
}))]
pub struct CouncilResponse {
    pub id: Uuid,
    /// The school the council governs; `null` for a district-level body.
    pub school_id: Option<Uuid>,
    pub kind: CouncilKind,
    /// The open-meeting law that applies.
    pub regime: Regime,
    pub name: String,
    pub description: Option<String>,
    pub quorum_basis: QuorumBasis,
    /// Hours before a regular meeting by which its agenda must be posted.
    pub regular_notice_hours: i64,
    /// Hours before a special meeting by which its notice must be posted.
    pub special_notice_hours: i64,
    pub composition_rules: Vec<CompositionRule>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

fn parse_rules(text: &str) -> Result<Vec<CompositionRule>, ApiError> {
    serde_json::from_str(text)
        .map_err(|e| ApiError::Internal(format!("stored composition rules unreadable: {e}")))
}

impl TryFrom<Council> for CouncilResponse {
    type Error = ApiError;

    fn try_from(c: Council) -> Result<Self, ApiError> {
        let corrupt = |what: &str, value: &str| {
            ApiError::Internal(format!("stored council {what} {value:?} unknown"))
        };
        Ok(CouncilResponse {
            id: Uuid::parse_str(&c.id).unwrap_or_default(),
            school_id: c.school_id.as_deref().and_then(|s| Uuid::parse_str(s).ok()),
            kind: CouncilKind::parse(&c.kind).ok_or_else(|| corrupt("kind", &c.kind))?,
            regime: Regime::parse(&c.regime).ok_or_else(|| corrupt("regime", &c.regime))?,
            name: c.name,
            description: c.description,
            quorum_basis: QuorumBasis::parse(&c.quorum_basis)
                .ok_or_else(|| corrupt("quorum_basis", &c.quorum_basis))?,
            regular_notice_hours: c.regular_notice_hours,
            special_notice_hours: c.special_notice_hours,
            composition_rules: parse_rules(&c.composition_rules)?,
            created_at: c.created_at.and_utc(),
            updated_at: c.updated_at.and_utc(),
            version: c.version,
        })
    }
}

fn rules_ok(rules: &[CompositionRule]) -> Result<(), ValidationError> {
    if rules.len() > MAX_RULES {
        let mut e = ValidationError::new("length");
        e.message = Some(format!("at most {MAX_RULES} rules").into());
        return Err(e);
    }
    Ok(())
}

const MAX_RULES: usize = 50;
const MAX_NOTICE_HOURS: i64 = 720;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "school_id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a00", "kind": "community_school_steering_committee",
    "name": "Roosevelt Community School Steering Committee",
    "composition_rules": [{"type": "balance", "name": "community parity",
        "left": ["families", "students", "community_organizations"], "relation": "at_least",
        "right": ["district", "administrators", "teachers", "classified_staff"]}]
}))]
pub struct CreateCouncil {
    /// Omit for a district-level body.
    pub school_id: Option<Uuid>,
    pub kind: CouncilKind,
    /// Defaults from `kind`: `greene` for school site councils and district advisory
    /// committees, `brown` otherwise.
    pub regime: Option<Regime>,
    #[validate(custom(function = "fields::name"))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[validate(custom(function = "fields::text"))]
    #[schema(max_length = 4000)]
    pub description: Option<String>,
    /// Defaults to `filled_voting_seats`.
    pub quorum_basis: Option<QuorumBasis>,
    /// Defaults to 72; at least 72 under the Brown and Greene Acts; at most 720.
    #[schema(minimum = 0, maximum = 720)]
    pub regular_notice_hours: Option<i64>,
    /// Defaults to 24; at least 24 under the Brown and Greene Acts; at most 720.
    #[schema(minimum = 0, maximum = 720)]
    pub special_notice_hours: Option<i64>,
    /// Checked whenever seats change; see docs/API.md. At most 50.
    #[serde(default)]
    #[validate(nested, custom(function = "rules_ok"))]
    #[schema(max_items = 50)]
    pub composition_rules: Vec<CompositionRule>,
}

/// Only the fields sent are changed; `null` clears an optional field. `composition_rules`
/// replaces the whole list; changing rules never blocks (the composition report shows which
/// rules fail).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Roosevelt Steering Committee", "regular_notice_hours": 96}))]
pub struct UpdateCouncil {
    #[serde(default, deserialize_with = "fields::double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub school_id: Option<Option<Uuid>>,
    pub kind: Option<CouncilKind>,
    pub regime: Option<Regime>,
    #[validate(custom(function = "fields::name"))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(custom(function = "fields::text"))]
    #[schema(value_type = Option<String>, max_length = 4000)]
    pub description: Option<Option<String>>,
    pub quorum_basis: Option<QuorumBasis>,
    #[schema(minimum = 0, maximum = 720)]
    pub regular_notice_hours: Option<i64>,
    #[schema(minimum = 0, maximum = 720)]
    pub special_notice_hours: Option<i64>,
    #[validate(nested, custom(function = "rules_ok"))]
    #[schema(max_items = 50)]
    pub composition_rules: Option<Vec<CompositionRule>>,
}

/// Rules that need more than one field: notice floors set by open-meeting law.
fn check_notice(regime: Regime, regular: i64, special: i64) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    let legal = matches!(regime, Regime::Brown | Regime::Greene);
    for (field, value, floor) in [
        (
            "regular_notice_hours",
            regular,
            DEFAULT_REGULAR_NOTICE_HOURS,
        ),
        (
            "special_notice_hours",
            special,
            DEFAULT_SPECIAL_NOTICE_HOURS,
        ),
    ] {
        if !(0..=MAX_NOTICE_HOURS).contains(&value) {
            errors.push(FieldError::new(
                field,
                format!("must be between 0 and {MAX_NOTICE_HOURS}"),
            ));
        } else if legal && value < floor {
            errors.push(FieldError::new(
                field,
                format!(
                    "must be at least {floor} hours for a council under the {} Act",
                    if regime == Regime::Brown {
                        "Brown"
                    } else {
                        "Greene"
                    }
                ),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

fn school_exists(conn: &mut AnyConnection, school_id: &Option<String>) -> Result<(), ApiError> {
    if let Some(id) = school_id {
        if db::schools::find(conn, id)?.is_none() {
            return Err(ApiError::validation("school_id", "no school with this id"));
        }
    }
    Ok(())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CouncilListParams {
    /// Only councils of this school.
    pub school_id: Option<Uuid>,
    /// `true`: only district-level councils (no school).
    pub district_only: Option<bool>,
    pub kind: Option<CouncilKind>,
    /// Only councils whose name contains this text (case-insensitive).
    pub q: Option<String>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CouncilList {
    pub items: Vec<CouncilResponse>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// List councils
#[utoipa::path(get, path = "/api/v1/councils", tag = "councils", params(CouncilListParams),
    responses(
        (status = 200, description = "A page of councils in creation order; `Link: <…>; rel=\"next\"` when there are more.", body = CouncilList),
        super::problems::ListErrors))]
pub async fn list_councils(
    state: web::Data<AppState>,
    req: HttpRequest,
    params: web::Query<CouncilListParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let page = PageRequest::new(params.limit, params.cursor.as_deref())?;
    let filter = db::councils::CouncilFilter {
        school_id: params.school_id.map(|u| u.to_string()),
        district_only: params.district_only.unwrap_or(false),
        kind: params.kind.map(|k| k.as_str().to_owned()),
        name_contains: params.q,
    };
    let rows = state.db.read(|conn| {
        db::councils::list(conn, &filter, page.after.as_deref(), page.fetch())
            .map_err(ApiError::from)
    })?;
    let (rows, next) = split_page(rows, &page, |c| &c.id);
    let items = rows
        .into_iter()
        .map(CouncilResponse::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(list_response(&req, &items, next))
}

/// Create a council
#[utoipa::path(post, path = "/api/v1/councils", tag = "councils", request_body = CreateCouncil,
    responses(
        (status = 201, description = "Created; `Location` names the new council.", body = CouncilResponse,
            headers(("Location" = String, description = "URL of the new council"), ("ETag" = String, description = "Version tag for If-Match"))),
        super::problems::BodyErrors))]
pub async fn create_council(
    state: web::Data<AppState>,
    SignedIn(caller): SignedIn,
    body: JsonBody<CreateCouncil>,
) -> Result<HttpResponse, ApiError> {
    require(policy::district_admin_only(&caller), "council", "")?;
    let body = body.into_inner();
    let regime = body.regime.unwrap_or_else(|| body.kind.default_regime());
    let regular = body
        .regular_notice_hours
        .unwrap_or(DEFAULT_REGULAR_NOTICE_HOURS);
    let special = body
        .special_notice_hours
        .unwrap_or(DEFAULT_SPECIAL_NOTICE_HOURS);
    check_notice(regime, regular, special)?;
    let now = db::now();
    let row = Council {
        id: Uuid::now_v7().to_string(),
        school_id: body.school_id.map(|u| u.to_string()),
        kind: body.kind.as_str().to_owned(),
        regime: regime.as_str().to_owned(),
        name: body.name,
        description: body.description,
        quorum_basis: body
            .quorum_basis
            .unwrap_or(QuorumBasis::FilledVotingSeats)
            .as_str()
            .to_owned(),
        regular_notice_hours: regular,
        special_notice_hours: special,
        composition_rules: serde_json::to_string(&body.composition_rules)
            .map_err(|e| ApiError::Internal(e.to_string()))?,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let row = state
        .db
        .write(move |conn| {
            school_exists(conn, &row.school_id)?;
            db::councils::insert(conn, &row)?;
            Ok::<_, ApiError>(row)
        })
        .await?;
    let version = row.version;
    let location = format!("/api/v1/councils/{}", row.id);
    Ok(created_response(
        location,
        &CouncilResponse::try_from(row)?,
        version,
        CACHE_REVALIDATE,
    ))
}

fn find_council(conn: &mut AnyConnection, id: &str) -> Result<Council, ApiError> {
    db::councils::find(conn, id)?.ok_or_else(|| ApiError::not_found("council", id))
}

/// Get a council
#[utoipa::path(get, path = "/api/v1/councils/{council_id}", tag = "councils",
    params(("council_id" = Uuid, Path, description = "The council's id"),
           ("If-None-Match" = Option<String>, Header, description = "ETag from an earlier read; 304 if unchanged")),
    responses(
        (status = 200, description = "The council, with its `ETag`.", body = CouncilResponse),
        (status = 304, description = "Unchanged since the ETag in `If-None-Match`."),
        super::problems::ReadErrors))]
pub async fn find_council_by_id(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().to_string();
    let row = state.db.read(|conn| find_council(conn, &id))?;
    let version = row.version;
    Ok(resource_response(
        &req,
        &CouncilResponse::try_from(row)?,
        version,
        CACHE_REVALIDATE,
    ))
}

/// Change a council
#[utoipa::path(patch, path = "/api/v1/councils/{council_id}", tag = "councils", request_body = UpdateCouncil,
    params(("council_id" = Uuid, Path, description = "The council's id"),
           ("If-Match" = String, Header, description = "The council's current ETag")),
    responses(
        (status = 200, description = "The changed council, with the new `ETag`.", body = CouncilResponse),
        super::problems::ChangeErrors))]
pub async fn update_council(
    state: web::Data<AppState>,
    SignedIn(caller): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: JsonBody<UpdateCouncil>,
) -> Result<HttpResponse, ApiError> {
    require(
        policy::manage_council(&caller, &id.to_string()),
        "council",
        &id.to_string(),
    )?;
    let if_match = IfMatch::required(&req)?;
    let id = id.into_inner().to_string();
    let body = body.into_inner();
    let row = state
        .db
        .write(move |conn| {
            let mut row = find_council(conn, &id)?;
            if_match.check(row.version)?;
            if let Some(school) = &body.school_id {
                row.school_id = school.map(|u| u.to_string());
                school_exists(conn, &row.school_id)?;
            }
            if let Some(kind) = body.kind {
                row.kind = kind.as_str().to_owned();
            }
            if let Some(regime) = body.regime {
                row.regime = regime.as_str().to_owned();
            }
            patch(&mut row.name, &body.name);
            patch_nullable(&mut row.description, &body.description);
            if let Some(basis) = body.quorum_basis {
                row.quorum_basis = basis.as_str().to_owned();
            }
            patch(&mut row.regular_notice_hours, &body.regular_notice_hours);
            patch(&mut row.special_notice_hours, &body.special_notice_hours);
            let regime = Regime::parse(&row.regime).unwrap_or(Regime::Brown);
            check_notice(regime, row.regular_notice_hours, row.special_notice_hours)?;
            if let Some(rules) = &body.composition_rules {
                row.composition_rules =
                    serde_json::to_string(rules).map_err(|e| ApiError::Internal(e.to_string()))?;
            }
            row.version += 1;
            row.updated_at = db::now();
            db::councils::update(conn, &row)?;
            Ok::<_, ApiError>(row)
        })
        .await?;
    let version = row.version;
    Ok(updated_response(
        &CouncilResponse::try_from(row)?,
        version,
        CACHE_REVALIDATE,
    ))
}

/// Delete a council
///
/// Refused with 409 while the council has seats or recorded rule overrides.
#[utoipa::path(delete, path = "/api/v1/councils/{council_id}", tag = "councils",
    params(("council_id" = Uuid, Path, description = "The council's id"),
           ("If-Match" = String, Header, description = "The council's current ETag")),
    responses(
        (status = 204, description = "Deleted."),
        super::problems::DeleteErrors))]
pub async fn delete_council(
    state: web::Data<AppState>,
    SignedIn(caller): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    require(policy::district_admin_only(&caller), "council", "")?;
    let if_match = IfMatch::required(&req)?;
    let id = id.into_inner().to_string();
    state
        .db
        .write(move |conn| {
            let row = find_council(conn, &id)?;
            if_match.check(row.version)?;
            db::councils::delete(conn, &row).map_err(|e| {
                still_referenced(
                    e,
                    "the council still has seats or recorded rule overrides; its record is kept",
                )
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Seats of one constituency.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct ConstituencyCount {
    pub constituency: Option<Constituency>,
    /// Every seat, voting and advisory.
    pub seats: u32,
    pub voting_seats: u32,
    pub filled: u32,
    pub vacant: u32,
}

/// A seat whose term ends within 60 days.
#[derive(Debug, Serialize, ToSchema)]
pub struct TermEnding {
    pub seat_id: Uuid,
    pub title: String,
    pub constituency: Constituency,
    pub term_end: NaiveDate,
    pub days_left: i64,
    /// Current holder's name, if the seat is filled.
    pub holder_name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Quorum {
    pub basis: QuorumBasis,
    /// Members needed: a majority of the counted voting seats.
    pub required: u32,
}

/// Who sits on a council and whether its composition rules hold.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "council_id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11", "as_of": "2026-11-25",
    "by_constituency": [
        {"constituency": "teachers", "seats": 3, "voting_seats": 3, "filled": 3, "vacant": 0},
        {"constituency": "families", "seats": 3, "voting_seats": 3, "filled": 2, "vacant": 1},
        {"constituency": "students", "seats": 2, "voting_seats": 2, "filled": 1, "vacant": 1}],
    "totals": {"constituency": null, "seats": 8, "voting_seats": 8, "filled": 6, "vacant": 2},
    "terms_ending_soon": [{"seat_id": "01936d4e-8000-7000-8000-00000000b001", "title": "Student representative",
        "constituency": "students", "term_end": "2027-01-15", "days_left": 51, "holder_name": "Ana Ruiz"}],
    "rules": [{"index": 0, "name": "community parity", "passed": true,
        "explanation": "families + students + community_organizations = 5 ≥ district + administrators + teachers + classified_staff = 3 (voting seats; required ≥)"}],
    "all_rules_pass": true,
    "quorum": {"basis": "filled_voting_seats", "required": 4}
}))]
pub struct Composition {
    pub council_id: Uuid,
    /// The date (UTC) the report was computed for.
    pub as_of: NaiveDate,
    /// One entry per constituency that has seats, in the order of the constituency list.
    pub by_constituency: Vec<ConstituencyCount>,
    /// All seats together (`constituency` is null).
    pub totals: ConstituencyCount,
    pub terms_ending_soon: Vec<TermEnding>,
    pub rules: Vec<RuleOutcome>,
    pub all_rules_pass: bool,
    pub quorum: Quorum,
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

/// The rules of a council, as stored.
pub fn council_rules(council: &Council) -> Result<Vec<CompositionRule>, ApiError> {
    parse_rules(&council.composition_rules)
}

/// Council composition
///
/// Filled and vacant seats per constituency, terms ending within 60 days, each composition rule
/// with pass/fail and the counts behind it, and the current quorum.
#[utoipa::path(get, path = "/api/v1/councils/{council_id}/composition", tag = "councils",
    params(("council_id" = Uuid, Path, description = "The council's id")),
    responses(
        (status = 200, description = "The composition report.", body = Composition),
        super::problems::ReadErrors))]
pub async fn council_composition(
    state: web::Data<AppState>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().to_string();
    let (council, seats, holders) = state.db.read(|conn| {
        let council = find_council(conn, &id)?;
        let seats = db::seats::all_of_council(conn, &id)?;
        let holder_ids: Vec<String> = seats.iter().filter_map(|s| s.holder_id.clone()).collect();
        let holders = db::people::by_ids(conn, &holder_ids)?;
        Ok::<_, ApiError>((council, seats, holders))
    })?;
    let today = Utc::now().date_naive();
    let rules = council_rules(&council)?;
    let facts = seat_facts(&seats)?;

    let mut groups: BTreeMap<Constituency, ConstituencyCount> = BTreeMap::new();
    let mut totals = ConstituencyCount::default();
    for f in &facts {
        let entry = groups
            .entry(f.constituency)
            .or_insert_with(|| ConstituencyCount {
                constituency: Some(f.constituency),
                ..Default::default()
            });
        for c in [&mut *entry, &mut totals] {
            c.seats += 1;
            c.voting_seats += u32::from(f.voting);
            c.filled += u32::from(f.filled);
            c.vacant += u32::from(!f.filled);
        }
    }
    let names: BTreeMap<&str, &str> = holders
        .iter()
        .map(|p| (p.id.as_str(), p.display_name.as_str()))
        .collect();
    let mut ending: Vec<TermEnding> = seats
        .iter()
        .zip(&facts)
        .filter_map(|(s, f)| {
            let end = s.term_end?;
            let days_left = terms::days_until_end(end, today, terms::ENDING_SOON_DAYS)?;
            Some(TermEnding {
                seat_id: Uuid::parse_str(&s.id).unwrap_or_default(),
                title: s.title.clone(),
                constituency: f.constituency,
                term_end: end,
                days_left,
                holder_name: s
                    .holder_id
                    .as_deref()
                    .and_then(|h| names.get(h))
                    .map(|n| n.to_string()),
            })
        })
        .collect();
    ending.sort_by_key(|t| (t.days_left, t.seat_id));

    let outcomes = composition::evaluate(&rules, &facts);
    let basis = QuorumBasis::parse(&council.quorum_basis).unwrap_or(QuorumBasis::FilledVotingSeats);
    let filled_voting = facts.iter().filter(|f| f.voting && f.filled).count() as u32;
    let report = Composition {
        council_id: Uuid::parse_str(&council.id).unwrap_or_default(),
        as_of: today,
        by_constituency: groups.into_values().collect(),
        totals,
        terms_ending_soon: ending,
        all_rules_pass: outcomes.iter().all(|o| o.passed),
        rules: outcomes,
        quorum: Quorum {
            basis,
            required: quorum_required(
                basis,
                filled_voting,
                facts.iter().filter(|f| f.voting).count() as u32,
            ),
        },
    };
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", CACHE_REVALIDATE))
        .json(report))
}

/// A seat change made although it broke composition rules.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01936d4e-9000-7000-8000-00000000c001", "council_id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11",
    "seat_id": "01936d4e-8000-7000-8000-00000000b001", "change": "seat.created",
    "broken_rules": [{"index": 0, "name": "community parity", "passed": false,
        "explanation": "families + students + community_organizations = 3 does not satisfy district + administrators + teachers + classified_staff = 4 (voting seats; required ≥)"}],
    "created_at": "2026-11-25T08:41:42.123456Z"}))]
pub struct RuleOverrideResponse {
    pub id: Uuid,
    pub council_id: Uuid,
    pub seat_id: Option<Uuid>,
    /// `seat.created`, `seat.updated`, `seat.deleted`, `seat.holder_assigned` or `seat.holder_removed`.
    pub change: String,
    pub broken_rules: Vec<RuleOutcome>,
    pub created_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct RuleOverrideList {
    pub items: Vec<RuleOverrideResponse>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// List a council's rule overrides
#[utoipa::path(get, path = "/api/v1/councils/{council_id}/rule-overrides", tag = "councils",
    params(("council_id" = Uuid, Path, description = "The council's id"), PageParams),
    responses(
        (status = 200, description = "Overrides, oldest first.", body = RuleOverrideList),
        super::problems::NestedListErrors))]
pub async fn list_rule_overrides(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<Uuid>,
    params: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().to_string();
    let page = PageRequest::new(params.limit, params.cursor.as_deref())?;
    let rows = state.db.read(|conn| {
        find_council(conn, &id)?;
        Ok::<_, ApiError>(db::councils::list_overrides(
            conn,
            &id,
            page.after.as_deref(),
            page.fetch(),
        )?)
    })?;
    let (rows, next) = split_page(rows, &page, |r| &r.id);
    let items = rows
        .into_iter()
        .map(|r| {
            Ok(RuleOverrideResponse {
                id: Uuid::parse_str(&r.id).unwrap_or_default(),
                council_id: Uuid::parse_str(&r.council_id).unwrap_or_default(),
                seat_id: r.seat_id.as_deref().and_then(|s| Uuid::parse_str(s).ok()),
                change: r.change,
                broken_rules: serde_json::from_str(&r.broken_rules)
                    .map_err(|e| ApiError::Internal(e.to_string()))?,
                created_at: r.created_at.and_utc(),
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(list_response(&req, &items, next))
}
