//! Agenda items: a meeting's agenda (`/api/v1/meetings/{meeting_id}/agenda-items`), proposals to
//! a council (`/api/v1/councils/{council_id}/agenda-items`), staff decisions on them
//! (`/api/v1/agenda-items/{item_id}/accept|decline|move`), and amendments of published agendas.

use std::collections::BTreeMap;

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use super::body::JsonBody;
use super::fields;
use super::meetings::web_link;
use super::paging::{list_response, split_page, PageRequest};
use super::preconditions::{
    created_response, expected, resource_response, updated_response, CACHE_REVALIDATE,
};
use crate::auth::{Caller, SignedIn};
use crate::commands::agenda::{self, ItemRecord, NewItem};
use crate::db::{self, agenda::Amendment};
use crate::domain::agenda::{Document, ItemKind, ItemStatus, Translation};
use crate::error::ApiError;
use crate::state::AppState;

/// Most documents one item carries.
pub const DOCUMENTS_MAX: usize = 20;
/// Most translations one item carries.
pub const TRANSLATIONS_MAX: usize = 20;
/// Most minutes an item may be given.
pub const MINUTES_MAX: i64 = 600;

fn error(code: &'static str, message: String) -> ValidationError {
    let mut e = ValidationError::new(code);
    e.message = Some(message.into());
    e
}

fn documents(list: &[Document]) -> Result<(), ValidationError> {
    if list.len() > DOCUMENTS_MAX {
        return Err(error(
            "length",
            format!("at most {DOCUMENTS_MAX} documents"),
        ));
    }
    for d in list {
        web_link(&d.url)?;
        fields::name(&d.title)?;
        fields::language(&d.language)?;
    }
    Ok(())
}

fn translations(map: &BTreeMap<String, Translation>) -> Result<(), ValidationError> {
    if map.len() > TRANSLATIONS_MAX {
        return Err(error(
            "length",
            format!("at most {TRANSLATIONS_MAX} translations"),
        ));
    }
    for (tag, t) in map {
        fields::language(tag)?;
        fields::name(&t.title)?;
        if let Some(s) = &t.summary {
            fields::text(s)?;
        }
    }
    Ok(())
}

fn reason(value: &str) -> Result<(), ValidationError> {
    super::meetings::reason(value)
}

/// An item on an agenda, or proposed for one.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936d4e-9200-7000-8000-00000000e001", "council_id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11",
    "meeting_id": "01936d4e-9000-7000-8000-00000000c001", "status": "accepted", "position": "i",
    "kind": "action", "legal_basis": null, "title": "School budget 2027",
    "description": "Review and vote on the proposed budget.", "presenter": "Principal Ana Ruiz",
    "proposed_by_seat_id": "01936d4e-8000-7000-8000-00000000b001", "minutes_allotted": 20,
    "documents": [{"url": "https://docs.example.org/budget-2027.pdf", "title": "Presupuesto 2027", "language": "es"}],
    "translations": {"es": {"title": "Presupuesto escolar 2027", "summary": "Revisión del presupuesto propuesto."}},
    "decline_reason": null, "added_late": false, "amendment_id": null,
    "comment_opened_at": null, "comment_closed_at": null,
    "created_at": "2027-03-01T16:00:00Z", "updated_at": "2027-03-01T16:00:00Z", "version": 1
}))]
pub struct AgendaItemResponse {
    pub id: Uuid,
    pub council_id: Uuid,
    /// `null` while the item is a proposal.
    pub meeting_id: Option<Uuid>,
    pub status: ItemStatus,
    /// Sort key within the meeting's agenda (compare as text); `null` for proposals.
    pub position: Option<String>,
    pub kind: ItemKind,
    /// Closed-session items: the law that allows the closed session.
    pub legal_basis: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub presenter: Option<String>,
    pub proposed_by_seat_id: Option<Uuid>,
    pub minutes_allotted: Option<i64>,
    pub documents: Vec<Document>,
    /// Title and summary by BCP 47 language tag.
    pub translations: BTreeMap<String, Translation>,
    /// Why staff declined the proposal (shown to the proposer).
    pub decline_reason: Option<String>,
    /// Added by amendment after the notice deadline: acting on it needs the findings of
    /// Gov. Code 54954.2(b) / Ed. Code 35147(c)(1).
    pub added_late: bool,
    /// The amendment that added the item to a published agenda.
    pub amendment_id: Option<Uuid>,
    /// When public comment on the item was opened and closed (a motion needs both).
    pub comment_opened_at: Option<DateTime<Utc>>,
    pub comment_closed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

fn uuid_opt(what: &str, v: &Option<String>) -> Result<Option<Uuid>, ApiError> {
    v.as_deref()
        .map(|s| db::stored_uuid(what, s))
        .transpose()
        .map_err(Into::into)
}

impl TryFrom<ItemRecord> for AgendaItemResponse {
    type Error = ApiError;

    fn try_from(r: ItemRecord) -> Result<Self, ApiError> {
        let row = r.row;
        Ok(AgendaItemResponse {
            id: db::stored_uuid("agenda item id", &row.id)?,
            council_id: db::stored_uuid("council id", &row.council_id)?,
            meeting_id: uuid_opt("meeting id", &row.meeting_id)?,
            status: r.status,
            position: row.position,
            kind: r.kind,
            legal_basis: row.legal_basis,
            title: row.title,
            description: row.description,
            presenter: row.presenter,
            proposed_by_seat_id: uuid_opt("seat id", &row.proposed_by_seat_id)?,
            minutes_allotted: row.minutes_allotted,
            documents: r.documents,
            translations: r.translations,
            decline_reason: row.decline_reason,
            added_late: row.added_late,
            amendment_id: uuid_opt("amendment id", &row.amendment_id)?,
            comment_opened_at: row.comment_opened_at.map(|t| t.and_utc()),
            comment_closed_at: row.comment_closed_at.map(|t| t.and_utc()),
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            version: row.version,
        })
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "kind": "action", "title": "School budget 2027", "description": "Review and vote on the proposed budget.",
    "presenter": "Principal Ana Ruiz", "minutes_allotted": 20,
    "documents": [{"url": "https://docs.example.org/budget-2027.pdf", "title": "Presupuesto 2027", "language": "es"}],
    "translations": {"es": {"title": "Presupuesto escolar 2027", "summary": "Revisión del presupuesto propuesto."}}
}))]
pub struct CreateAgendaItem {
    pub kind: ItemKind,
    /// Required for a closed-session item (e.g. `Gov. Code 54957`).
    #[validate(custom(function = "fields::name"))]
    #[schema(min_length = 1, max_length = 200)]
    pub legal_basis: Option<String>,
    #[validate(custom(function = "fields::name"))]
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[validate(custom(function = "fields::text"))]
    #[schema(max_length = 4000)]
    pub description: Option<String>,
    #[validate(custom(function = "fields::name"))]
    #[schema(min_length = 1, max_length = 200)]
    pub presenter: Option<String>,
    /// The seat the proposer holds on this council.
    pub proposed_by_seat_id: Option<Uuid>,
    #[validate(range(min = 1, max = 600))]
    #[schema(minimum = 1, maximum = 600)]
    pub minutes_allotted: Option<i64>,
    #[serde(default)]
    #[validate(custom(function = "documents"))]
    #[schema(max_items = 20)]
    pub documents: Vec<Document>,
    /// Title and summary by BCP 47 language tag (at most 20).
    #[serde(default)]
    #[validate(custom(function = "translations"))]
    pub translations: BTreeMap<String, Translation>,
}

impl From<CreateAgendaItem> for NewItem {
    fn from(b: CreateAgendaItem) -> NewItem {
        NewItem {
            kind: b.kind,
            legal_basis: b.legal_basis,
            title: b.title,
            description: b.description,
            presenter: b.presenter,
            proposed_by_seat_id: b.proposed_by_seat_id.map(|u| u.to_string()),
            minutes_allotted: b.minutes_allotted,
            documents: b.documents,
            translations: b.translations,
        }
    }
}

/// Put a proposal on a draft meeting's agenda (at its end).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"meeting_id": "01936d4e-9000-7000-8000-00000000c001"}))]
pub struct AcceptItem {
    pub meeting_id: Uuid,
}

/// Decline a proposal; the proposer sees the reason.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Outside the council's jurisdiction / Fuera de la competencia del consejo"}))]
pub struct DeclineItem {
    #[validate(custom(function = "reason"))]
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
}

/// Move an item right after another item of the same agenda, or to the top.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"after_item_id": "01936d4e-9200-7000-8000-00000000e002"}))]
pub struct MoveItem {
    /// `null` moves the item to the top of the agenda.
    pub after_item_id: Option<Uuid>,
}

/// Add an item to a published agenda, with the reason for the amendment.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Urgent repair of the playground / Reparación urgente del patio",
    "item": {"kind": "action", "title": "Playground repair"}}))]
pub struct CreateAmendment {
    #[validate(custom(function = "reason"))]
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
    #[validate(nested)]
    pub item: CreateAgendaItem,
}

/// A recorded amendment of a published agenda, with the item it added.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "01936d4e-9300-7000-8000-00000000f001", "meeting_id": "01936d4e-9000-7000-8000-00000000c001",
    "reason": "Urgent repair of the playground / Reparación urgente del patio", "within_notice_window": true,
    "actor": "person:01936d4e-7000-7000-8000-00000000a002", "created_at": "2027-03-15T16:00:00Z",
    "item_id": "01936d4e-9200-7000-8000-00000000e009"}))]
pub struct AmendmentResponse {
    pub id: Uuid,
    pub meeting_id: Uuid,
    pub reason: String,
    /// Made after the notice deadline (the item it added is `added_late`).
    pub within_notice_window: bool,
    pub actor: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The item the amendment added (when listed; see `item` on creation).
    pub item_id: Option<Uuid>,
}

impl TryFrom<(Amendment, Option<String>)> for AmendmentResponse {
    type Error = ApiError;

    fn try_from((a, item): (Amendment, Option<String>)) -> Result<Self, ApiError> {
        Ok(AmendmentResponse {
            id: db::stored_uuid("amendment id", &a.id)?,
            meeting_id: db::stored_uuid("meeting id", &a.meeting_id)?,
            reason: a.reason,
            within_notice_window: a.within_notice_window,
            actor: a.actor,
            created_at: a.created_at.and_utc(),
            item_id: uuid_opt("agenda item id", &item)?,
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct AgendaItemList {
    pub items: Vec<AgendaItemResponse>,
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AmendmentList {
    pub items: Vec<AmendmentResponse>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ItemListParams {
    pub status: Option<ItemStatus>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

fn render(items: Vec<ItemRecord>) -> Result<Vec<AgendaItemResponse>, ApiError> {
    items
        .into_iter()
        .map(AgendaItemResponse::try_from)
        .collect()
}

fn created(item: ItemRecord) -> Result<HttpResponse, ApiError> {
    let version = item.row.version;
    let location = format!("/api/v1/agenda-items/{}", item.row.id);
    Ok(created_response(
        location,
        &AgendaItemResponse::try_from(item)?,
        version,
        CACHE_REVALIDATE,
    ))
}

fn changed(item: ItemRecord) -> Result<HttpResponse, ApiError> {
    let item = AgendaItemResponse::try_from(item)?;
    let version = item.version;
    Ok(updated_response(&item, version, CACHE_REVALIDATE))
}

/// A meeting's agenda
///
/// Every item, in agenda order (one page).
#[utoipa::path(get, path = "/api/v1/meetings/{meeting_id}/agenda-items", tag = "agenda",
    params(("meeting_id" = Uuid, Path, description = "The meeting's id")),
    responses(
        (status = 200, description = "The agenda in order.", body = AgendaItemList),
        super::problems::ReadErrors))]
pub async fn meeting_agenda(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let items = agenda::agenda(&ctx, &state.db, &id.into_inner().to_string())?;
    Ok(list_response(&req, &render(items)?, None))
}

/// Add an item to a draft agenda
///
/// Appended at the end; after the notice is published, add items by amendment.
#[utoipa::path(post, path = "/api/v1/meetings/{meeting_id}/agenda-items", tag = "agenda", request_body = CreateAgendaItem,
    params(("meeting_id" = Uuid, Path, description = "The meeting's id")),
    responses(
        (status = 201, description = "Added; `Location` names the new item.", body = AgendaItemResponse,
            headers(("Location" = String, description = "URL of the new item"), ("ETag" = String, description = "Version tag for If-Match"))),
        (status = 404, response = super::problems::NotFound),
        (status = 409, response = super::problems::Conflict),
        super::problems::BodyErrors))]
pub async fn add_item(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    id: web::Path<Uuid>,
    body: JsonBody<CreateAgendaItem>,
) -> Result<HttpResponse, ApiError> {
    let item = agenda::add_to_meeting(
        &ctx,
        &state.db,
        id.into_inner().to_string(),
        body.into_inner().into(),
    )
    .await?;
    created(item)
}

/// Propose an agenda item
///
/// Seat holders (and staff) propose; staff accept the proposal onto a meeting or decline it.
#[utoipa::path(post, path = "/api/v1/councils/{council_id}/agenda-items", tag = "agenda", request_body = CreateAgendaItem,
    params(("council_id" = Uuid, Path, description = "The council's id")),
    responses(
        (status = 201, description = "Proposed; `Location` names the new item.", body = AgendaItemResponse,
            headers(("Location" = String, description = "URL of the new item"), ("ETag" = String, description = "Version tag for If-Match"))),
        (status = 404, response = super::problems::NotFound),
        (status = 409, response = super::problems::Conflict),
        super::problems::BodyErrors))]
pub async fn propose_item(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    id: web::Path<Uuid>,
    body: JsonBody<CreateAgendaItem>,
) -> Result<HttpResponse, ApiError> {
    let item = agenda::propose(
        &ctx,
        &state.db,
        id.into_inner().to_string(),
        body.into_inner().into(),
    )
    .await?;
    created(item)
}

/// A council's agenda items and proposals
///
/// Staff see every item; other signed-in callers see the items they proposed.
#[utoipa::path(get, path = "/api/v1/councils/{council_id}/agenda-items", tag = "agenda",
    params(("council_id" = Uuid, Path, description = "The council's id"), ItemListParams),
    responses(
        (status = 200, description = "A page of items in creation order.", body = AgendaItemList),
        super::problems::NestedListErrors))]
pub async fn council_items(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    params: web::Query<ItemListParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let page = PageRequest::new(params.limit, params.cursor.as_deref())?;
    let rows = agenda::of_council(
        &ctx,
        &state.db,
        &id.into_inner().to_string(),
        params.status,
        page.after.as_deref(),
        page.fetch(),
    )?;
    let (rows, next) = split_page(rows, &page, |i| &i.row.id);
    Ok(list_response(&req, &render(rows)?, next))
}

/// Get an agenda item
#[utoipa::path(get, path = "/api/v1/agenda-items/{item_id}", tag = "agenda",
    params(("item_id" = Uuid, Path, description = "The item's id"),
           ("If-None-Match" = Option<String>, Header, description = "ETag from an earlier read; 304 if unchanged")),
    responses(
        (status = 200, description = "The item, with its `ETag`.", body = AgendaItemResponse),
        (status = 304, description = "Unchanged since the ETag in `If-None-Match`."),
        super::problems::ReadErrors))]
pub async fn find_item(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let item =
        AgendaItemResponse::try_from(agenda::find(&ctx, &state.db, &id.into_inner().to_string())?)?;
    let version = item.version;
    Ok(resource_response(&req, &item, version, CACHE_REVALIDATE))
}

/// Accept a proposal onto a meeting
#[utoipa::path(post, path = "/api/v1/agenda-items/{item_id}/accept", tag = "agenda", request_body = AcceptItem,
    params(("item_id" = Uuid, Path, description = "The item's id"),
           ("If-Match" = String, Header, description = "The item's current ETag")),
    responses(
        (status = 200, description = "The item on the meeting's agenda, with its new `ETag`.", body = AgendaItemResponse),
        (status = 409, response = super::problems::Conflict),
        super::problems::ChangeErrors))]
pub async fn accept_item(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: JsonBody<AcceptItem>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected(&req)?;
    let item = agenda::accept(
        &ctx,
        &state.db,
        id.into_inner().to_string(),
        expected,
        body.into_inner().meeting_id.to_string(),
    )
    .await?;
    changed(item)
}

/// Decline a proposal
#[utoipa::path(post, path = "/api/v1/agenda-items/{item_id}/decline", tag = "agenda", request_body = DeclineItem,
    params(("item_id" = Uuid, Path, description = "The item's id"),
           ("If-Match" = String, Header, description = "The item's current ETag")),
    responses(
        (status = 200, description = "The declined item, with its new `ETag`.", body = AgendaItemResponse),
        (status = 409, response = super::problems::Conflict),
        super::problems::ChangeErrors))]
pub async fn decline_item(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: JsonBody<DeclineItem>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected(&req)?;
    let item = agenda::decline(
        &ctx,
        &state.db,
        id.into_inner().to_string(),
        expected,
        body.into_inner().reason,
    )
    .await?;
    changed(item)
}

/// Move an item within a draft agenda
///
/// Only the moved item changes; the others keep their positions.
#[utoipa::path(post, path = "/api/v1/agenda-items/{item_id}/move", tag = "agenda", request_body = MoveItem,
    params(("item_id" = Uuid, Path, description = "The item's id"),
           ("If-Match" = String, Header, description = "The item's current ETag")),
    responses(
        (status = 200, description = "The moved item, with its new `ETag`.", body = AgendaItemResponse),
        (status = 409, response = super::problems::Conflict),
        super::problems::ChangeErrors))]
pub async fn move_item(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: JsonBody<MoveItem>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected(&req)?;
    let item = agenda::move_item(
        &ctx,
        &state.db,
        id.into_inner().to_string(),
        expected,
        body.into_inner().after_item_id.map(|u| u.to_string()),
    )
    .await?;
    changed(item)
}

/// Amend a published agenda
///
/// Adds an item with the reason for the change, recorded. An item added after the notice
/// deadline is marked `added_late`. `If-Match` names the meeting's ETag, which the amendment
/// moves on.
#[utoipa::path(post, path = "/api/v1/meetings/{meeting_id}/amendments", tag = "agenda", request_body = CreateAmendment,
    params(("meeting_id" = Uuid, Path, description = "The meeting's id"),
           ("If-Match" = String, Header, description = "The meeting's current ETag")),
    responses(
        (status = 201, description = "Recorded; `Location` names the added item.", body = AmendmentResponse,
            headers(("Location" = String, description = "URL of the added item"), ("ETag" = String, description = "Version tag of the added item"))),
        (status = 409, response = super::problems::Conflict),
        super::problems::ChangeErrors))]
pub async fn amend_agenda(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: JsonBody<CreateAmendment>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected(&req)?;
    let body = body.into_inner();
    let (amendment, item) = agenda::amend(
        &ctx,
        &state.db,
        id.into_inner().to_string(),
        expected,
        body.reason,
        body.item.into(),
    )
    .await?;
    let location = format!("/api/v1/agenda-items/{}", item.row.id);
    let version = item.row.version;
    let body = AmendmentResponse::try_from((amendment, Some(item.row.id)))?;
    Ok(created_response(location, &body, version, CACHE_REVALIDATE))
}

/// A meeting's agenda amendments
#[utoipa::path(get, path = "/api/v1/meetings/{meeting_id}/amendments", tag = "agenda",
    params(("meeting_id" = Uuid, Path, description = "The meeting's id")),
    responses(
        (status = 200, description = "Amendments, oldest first (one page).", body = AmendmentList),
        super::problems::ReadErrors))]
pub async fn list_amendments(
    state: web::Data<AppState>,
    Caller(ctx): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let meeting_id = id.into_inner().to_string();
    let rows = agenda::amendments(&ctx, &state.db, &meeting_id)?;
    let items = agenda::agenda(&ctx, &state.db, &meeting_id)?;
    let out = rows
        .into_iter()
        .map(|a| {
            let item = items
                .iter()
                .find(|i| i.row.amendment_id.as_deref() == Some(a.id.as_str()))
                .map(|i| i.row.id.clone());
            AmendmentResponse::try_from((a, item))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(list_response(&req, &out, None))
}

/// Open public comment on an item
///
/// While the meeting is in session; once per item. A motion on the item needs its comment period
/// opened and closed (Gov. Code 54954.3(a); Ed. Code 35147(c)).
#[utoipa::path(post, path = "/api/v1/agenda-items/{item_id}/comment/open", tag = "agenda",
    params(("item_id" = Uuid, Path, description = "The item's id"),
           ("If-Match" = String, Header, description = "The item's current ETag")),
    responses(
        (status = 200, description = "The item with its comment period open, with its new `ETag`.", body = AgendaItemResponse),
        (status = 409, response = super::problems::Conflict),
        super::problems::ChangeErrors))]
pub async fn open_comment(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected(&req)?;
    changed(
        agenda::comment_period(&ctx, &state.db, id.into_inner().to_string(), expected, true)
            .await?,
    )
}

/// Close public comment on an item
#[utoipa::path(post, path = "/api/v1/agenda-items/{item_id}/comment/close", tag = "agenda",
    params(("item_id" = Uuid, Path, description = "The item's id"),
           ("If-Match" = String, Header, description = "The item's current ETag")),
    responses(
        (status = 200, description = "The item with its comment period closed, with its new `ETag`.", body = AgendaItemResponse),
        (status = 409, response = super::problems::Conflict),
        super::problems::ChangeErrors))]
pub async fn close_comment(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected(&req)?;
    changed(
        agenda::comment_period(
            &ctx,
            &state.db,
            id.into_inner().to_string(),
            expected,
            false,
        )
        .await?,
    )
}
