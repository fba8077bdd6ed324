//! `/api/v1/councils`, a council's composition, and its record of rule overrides.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use super::body::JsonBody;
use super::external_ids::{self as ext, ExternalIdBody};
use super::fields;
use super::paging::{list_response, split_page, PageRequest};
use super::preconditions::{
    created_response, expected, resource_response, updated_response, CACHE_REVALIDATE,
};
use crate::auth::SignedIn;
use crate::commands::councils::{self, CouncilRecord};
use crate::db;
pub use crate::domain::report::{Composition, ConstituencyCount, Quorum, TermEnding};
use crate::domain::{CompositionRule, CouncilKind, QuorumBasis, Regime, RuleOutcome};
use crate::error::ApiError;
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
    "max_seats_per_person": 1, "archived_at": null,
    "external_ids": [{"system": "sis", "value": "SSC-1937234"}],
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
    /// How many seats of this council one person may hold at once.
    pub max_seats_per_person: i64,
    /// Seconds one member of the public may speak on an item; doubled for a speaker who uses
    /// a consecutive interpreter (docs/GOVERNANCE.md).
    pub speaker_seconds: i64,
    /// Assemblies: how many checked-in participants make a quorum (`null`: none set; an
    /// assembly without it cannot vote).
    pub assembly_quorum: Option<i64>,
    /// When the council was archived (read-only, left out of default lists); `null` if active.
    pub archived_at: Option<DateTime<Utc>>,
    /// Ids other systems use for this council, one per system, ordered by system.
    pub external_ids: Vec<ExternalIdBody>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl TryFrom<CouncilRecord> for CouncilResponse {
    type Error = ApiError;

    fn try_from(c: CouncilRecord) -> Result<Self, ApiError> {
        let row = c.row;
        Ok(CouncilResponse {
            id: db::stored_uuid("council id", &row.id)?,
            school_id: row
                .school_id
                .as_deref()
                .map(|s| db::stored_uuid("school id", s))
                .transpose()?,
            kind: c.kind,
            regime: c.regime,
            name: row.name,
            description: row.description,
            quorum_basis: c.quorum_basis,
            regular_notice_hours: row.regular_notice_hours,
            special_notice_hours: row.special_notice_hours,
            composition_rules: c.rules,
            max_seats_per_person: row.max_seats_per_person,
            speaker_seconds: row.speaker_seconds,
            assembly_quorum: row.assembly_quorum,
            archived_at: row.archived_at.map(|t| t.and_utc()),
            external_ids: ext::out_ids(c.external_ids),
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            version: row.version,
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
    /// How many seats of this council one person may hold at once; defaults to 1 (bylaws may
    /// allow more).
    #[validate(range(min = 1, max = 20, message = "must be between 1 and 20"))]
    #[schema(minimum = 1, maximum = 20)]
    pub max_seats_per_person: Option<i64>,
    /// Seconds one member of the public may speak on an item; defaults to 180 (bylaws may set
    /// another limit).
    #[validate(range(min = 30, max = 1800, message = "must be between 30 and 1800"))]
    #[schema(minimum = 30, maximum = 1800)]
    pub speaker_seconds: Option<i64>,
    /// Assemblies: how many checked-in participants make a quorum (bylaws set it).
    #[validate(range(min = 1, max = 100000, message = "must be between 1 and 100000"))]
    #[schema(minimum = 1, maximum = 100000)]
    pub assembly_quorum: Option<i64>,
    /// Ids other systems use for this council (one per system; at most 20).
    #[serde(default)]
    #[validate(nested, length(max = 20))]
    #[schema(max_items = 20)]
    pub external_ids: Vec<ExternalIdBody>,
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
    #[serde(default, deserialize_with = "fields::double_option")]
    #[schema(value_type = CouncilKind, required = false)]
    pub kind: Option<Option<CouncilKind>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[schema(value_type = Regime, required = false)]
    pub regime: Option<Option<Regime>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(custom(function = "fields::name"))]
    #[schema(value_type = String, required = false, min_length = 1, max_length = 200)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(custom(function = "fields::text"))]
    #[schema(value_type = Option<String>, max_length = 4000)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[schema(value_type = QuorumBasis, required = false)]
    pub quorum_basis: Option<Option<QuorumBasis>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[schema(value_type = i64, required = false, minimum = 0, maximum = 720)]
    pub regular_notice_hours: Option<Option<i64>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[schema(value_type = i64, required = false, minimum = 0, maximum = 720)]
    pub special_notice_hours: Option<Option<i64>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(nested, custom(function = "rules_ok"))]
    #[schema(value_type = Vec<CompositionRule>, required = false, max_items = 50)]
    pub composition_rules: Option<Option<Vec<CompositionRule>>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(range(min = 1, max = 20, message = "must be between 1 and 20"))]
    #[schema(value_type = i64, required = false, minimum = 1, maximum = 20)]
    pub max_seats_per_person: Option<Option<i64>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(range(min = 30, max = 1800, message = "must be between 30 and 1800"))]
    #[schema(value_type = i64, required = false, minimum = 30, maximum = 1800)]
    pub speaker_seconds: Option<Option<i64>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(range(min = 1, max = 100000, message = "must be between 1 and 100000"))]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 100000)]
    pub assembly_quorum: Option<Option<i64>>,
    /// Replaces the whole list; `null` or `[]` removes them all.
    #[validate(nested, length(max = 20))]
    #[schema(value_type = Option<Vec<ExternalIdBody>>, max_items = 20)]
    pub external_ids: Option<Option<Vec<ExternalIdBody>>>,
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
    /// `true`: archived councils are listed too (by default they are left out).
    pub include_archived: Option<bool>,
    /// Only the council carrying this external id, written `system:value`.
    #[param(example = "sis:SSC-1937234")]
    pub external_id: Option<String>,
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
        include_archived: params.include_archived.unwrap_or(false),
        external_id: ext::filter(params.external_id)?,
    };
    let rows = councils::list(&state.db, &filter, page.after.as_deref(), page.fetch())?;
    let (rows, next) = split_page(rows, &page, |c| &c.row.id);
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
        (status = 409, response = super::problems::Conflict),
        super::problems::BodyErrors))]
pub async fn create_council(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    body: JsonBody<CreateCouncil>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let input = councils::NewCouncil {
        school_id: body.school_id.map(Into::into),
        kind: body.kind,
        regime: body.regime,
        name: body.name,
        description: body.description,
        quorum_basis: body.quorum_basis,
        regular_notice_hours: body.regular_notice_hours,
        special_notice_hours: body.special_notice_hours,
        composition_rules: body.composition_rules,
        max_seats_per_person: body.max_seats_per_person,
        speaker_seconds: body.speaker_seconds,
        assembly_quorum: body.assembly_quorum,
        external_ids: ext::into_ids(body.external_ids),
    };
    let council = councils::create(&ctx, &state.db, input).await?;
    let version = council.row.version;
    let location = format!("/api/v1/councils/{}", council.row.id);
    Ok(created_response(
        location,
        &CouncilResponse::try_from(council)?,
        version,
        CACHE_REVALIDATE,
    ))
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
    let council = councils::find(&state.db, id.into_inner().into())?;
    let version = council.row.version;
    Ok(resource_response(
        &req,
        &CouncilResponse::try_from(council)?,
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
        (status = 409, response = super::problems::Conflict),
        super::problems::ChangeErrors))]
pub async fn update_council(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: JsonBody<UpdateCouncil>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected(&req)?;
    let body = body.into_inner();
    let changes = councils::CouncilChanges {
        school_id: body.school_id.map(|s| s.map(Into::into)),
        kind: body.kind,
        regime: body.regime,
        name: body.name,
        description: body.description,
        quorum_basis: body.quorum_basis,
        regular_notice_hours: body.regular_notice_hours,
        special_notice_hours: body.special_notice_hours,
        composition_rules: body.composition_rules,
        max_seats_per_person: body.max_seats_per_person,
        speaker_seconds: body.speaker_seconds,
        assembly_quorum: body.assembly_quorum,
        external_ids: ext::patch_ids(body.external_ids),
    };
    let council =
        councils::update(&ctx, &state.db, id.into_inner().into(), expected, changes).await?;
    let version = council.row.version;
    Ok(updated_response(
        &CouncilResponse::try_from(council)?,
        version,
        CACHE_REVALIDATE,
    ))
}

/// Delete a council
///
/// A council without history goes with its seats (none of which was ever held). A council with
/// history (a seat that was held, a recorded rule override) is kept: 409, archive it instead.
#[utoipa::path(delete, path = "/api/v1/councils/{council_id}", tag = "councils",
    params(("council_id" = Uuid, Path, description = "The council's id"),
           ("If-Match" = String, Header, description = "The council's current ETag")),
    responses(
        (status = 204, description = "Deleted."),
        super::problems::DeleteErrors))]
pub async fn delete_council(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected(&req)?;
    councils::delete(&ctx, &state.db, id.into_inner().into(), expected).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Archive a council
///
/// Keeps the council and all its history, read-only (changes to it and its seats are 409
/// `council-archived`), and leaves it out of default lists (`?include_archived=true` lists it).
#[utoipa::path(post, path = "/api/v1/councils/{council_id}/archive", tag = "councils",
    params(("council_id" = Uuid, Path, description = "The council's id"),
           ("If-Match" = String, Header, description = "The council's current ETag")),
    responses(
        (status = 200, description = "The archived council, with its new `ETag`.", body = CouncilResponse),
        super::problems::ChangeErrors))]
pub async fn archive_council(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    set_archived(state, ctx, req, id, true).await
}

/// Restore an archived council
#[utoipa::path(delete, path = "/api/v1/councils/{council_id}/archive", tag = "councils",
    params(("council_id" = Uuid, Path, description = "The council's id"),
           ("If-Match" = String, Header, description = "The council's current ETag")),
    responses(
        (status = 200, description = "The council, active again, with its new `ETag`.", body = CouncilResponse),
        super::problems::ChangeErrors))]
pub async fn restore_council(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    set_archived(state, ctx, req, id, false).await
}

async fn set_archived(
    state: web::Data<AppState>,
    ctx: crate::commands::Context,
    req: HttpRequest,
    id: web::Path<Uuid>,
    archived: bool,
) -> Result<HttpResponse, ApiError> {
    let expected = expected(&req)?;
    let council =
        councils::archive(&ctx, &state.db, id.into_inner().into(), expected, archived).await?;
    let version = council.row.version;
    Ok(updated_response(
        &CouncilResponse::try_from(council)?,
        version,
        CACHE_REVALIDATE,
    ))
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
    let report = councils::composition(&state.db, id.into_inner().into())?;
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
    let id: crate::domain::ids::CouncilId = id.into_inner().into();
    let page = PageRequest::new(params.limit, params.cursor.as_deref())?;
    let rows = councils::list_overrides(&state.db, id, page.after.as_deref(), page.fetch())?;
    let (rows, next) = split_page(rows, &page, |r| &r.id);
    let items = rows
        .into_iter()
        .map(|r| {
            Ok(RuleOverrideResponse {
                id: db::stored_uuid("rule override id", &r.id)?,
                council_id: db::stored_uuid("council id", &r.council_id)?,
                seat_id: r
                    .seat_id
                    .as_deref()
                    .map(|s| db::stored_uuid("seat id", s))
                    .transpose()?,
                change: r.change,
                broken_rules: serde_json::from_str(&r.broken_rules).map_err(|e| {
                    ApiError::Internal(format!("stored broken rules unreadable: {e}"))
                })?,
                created_at: r.created_at.and_utc(),
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(list_response(&req, &items, next))
}
