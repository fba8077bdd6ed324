//! `/api/v1/webhooks`: subscriptions to signed change notifications, their delivery log and
//! manual redelivery. See docs/WEBHOOKS.md.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::body::JsonBody;
use super::fields;
use super::paging::{private_list_response, split_page, PageRequest};
use super::preconditions::{
    created_response, expected, resource_response, updated_response, CACHE_NONE,
};
use crate::auth::SignedIn;
use crate::commands::{webhooks, Expected};
use crate::db::{self, webhooks::Attempt, webhooks::Delivery, webhooks::Webhook};
use crate::error::ApiError;
use crate::state::AppState;

/// A webhook subscription. `secret` appears only in the answers to create and to secret rotation.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11", "url": "https://sis.district.example/hooks/cogov",
    "description": "Roster sync / Sincronización de listas", "event_types": ["council.*", "seat.updated"],
    "active": true, "disabled_reason": null, "disabled_at": null, "previous_secret_valid_until": null,
    "created_at": "2026-11-25T08:41:42.123456Z", "updated_at": "2026-11-25T08:41:42.123456Z", "version": 1
}))]
pub struct WebhookResponse {
    pub id: Uuid,
    /// Where events are POSTed.
    pub url: String,
    pub description: Option<String>,
    /// Event type patterns: `<resource>.<action>` where either may be `*`, or `*` alone.
    pub event_types: Vec<String>,
    /// False while disabled; `disabled_reason` says why (by an admin, or automatically after
    /// deliveries kept failing or the receiver answered 410).
    pub active: bool,
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<DateTime<Utc>>,
    /// After a rotation, the previous secret also signs deliveries until this time.
    pub previous_secret_valid_until: Option<DateTime<Utc>>,
    /// The signing secret (`whsec_<base64>`), shown once: in the answer to create and to rotate.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^whsec_[A-Za-z0-9+/]+={0,2}$")]
    pub secret: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Increases with every change; the `ETag` is this number in quotes.
    pub version: i64,
}

impl WebhookResponse {
    fn of(w: Webhook, show_secret: bool) -> Result<Self, ApiError> {
        Ok(WebhookResponse {
            id: db::stored_uuid("webhook id", &w.id)?,
            url: w.url,
            description: w.description,
            event_types: w.event_types.split(' ').map(str::to_owned).collect(),
            active: w.active,
            disabled_reason: w.disabled_reason,
            disabled_at: w.disabled_at.map(|t| t.and_utc()),
            previous_secret_valid_until: w
                .previous_secret_expires_at
                .filter(|_| w.previous_secret.is_some())
                .map(|t| t.and_utc()),
            secret: show_secret.then_some(w.secret),
            created_at: w.created_at.and_utc(),
            updated_at: w.updated_at.and_utc(),
            version: w.version,
        })
    }
}

fn event_type_list(value: &[String]) -> Result<(), validator::ValidationError> {
    if value.is_empty() || value.len() > crate::domain::webhooks::MAX_EVENT_TYPES {
        return Err(validator::ValidationError::new("count")
            .with_message("must name between 1 and 50 event types".into()));
    }
    Ok(())
}

fn webhook_url(value: &str) -> Result<(), validator::ValidationError> {
    if value.is_empty() || value.len() > crate::domain::webhooks::URL_MAX {
        return Err(validator::ValidationError::new("length")
            .with_message("must be between 1 and 2000 characters".into()));
    }
    Ok(())
}

/// An event type pattern: `<resource>.<action>` where either part may be `*`, or `*` alone
/// (documentation only: the lists hold plain strings).
pub struct EventTypePattern;

impl utoipa::PartialSchema for EventTypePattern {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "`<resource>.<action>` where either part may be `*`, or `*` alone",
            ))
            .pattern(Some(crate::domain::webhooks::EVENT_TYPE_PATTERN))
            .min_length(Some(1))
            .max_length(Some(crate::domain::webhooks::EVENT_TYPE_MAX))
            .examples([serde_json::json!("meeting.*")])
            .into()
    }
}

impl ToSchema for EventTypePattern {}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://sis.district.example/hooks/cogov",
    "description": "Roster sync / Sincronización de listas", "event_types": ["council.*", "seat.updated"]}))]
pub struct CreateWebhook {
    /// An https URL on a public address (cogov refuses private, loopback and other internal
    /// addresses unless its configuration allows them).
    #[validate(custom(function = "webhook_url"))]
    #[schema(min_length = 1, max_length = 2000)]
    pub url: String,
    #[validate(custom(function = "fields::text"))]
    #[schema(min_length = 1, max_length = 4000)]
    pub description: Option<String>,
    /// Which events to receive, e.g. `council.updated`, `meeting.*`, `*.deleted`, `*`.
    #[validate(custom(function = "event_type_list"))]
    #[schema(value_type = Vec<EventTypePattern>, min_items = 1, max_items = 50)]
    pub event_types: Vec<String>,
    /// Start disabled (default: active).
    pub active: Option<bool>,
}

/// Only the fields sent are changed. `active: true` re-enables a disabled subscription (clearing
/// its `disabled_reason`); its queued events are then delivered.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"active": true, "event_types": ["*"]}))]
pub struct UpdateWebhook {
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(custom(function = "webhook_url"))]
    #[schema(value_type = String, required = false, min_length = 1, max_length = 2000)]
    pub url: Option<Option<String>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(custom(function = "fields::text"))]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 4000)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[validate(custom(function = "event_type_list"))]
    #[schema(value_type = Vec<EventTypePattern>, required = false, min_items = 1, max_items = 50)]
    pub event_types: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "fields::double_option")]
    #[schema(value_type = bool, required = false)]
    pub active: Option<Option<bool>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WebhookListParams {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200, example = 50)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookList {
    pub items: Vec<WebhookResponse>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// One attempt to deliver an event.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptResponse {
    /// 1 for the first attempt.
    pub attempt: i64,
    pub attempted_at: DateTime<Utc>,
    /// The receiver's HTTP status; absent when no answer came (refused, timed out, address
    /// refused by the SSRF guard).
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
}

/// One event queued for a subscription. Its `id` is the `webhook-id` header of every attempt.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "01936d4e-7a10-7cc2-9a4f-2b8f0f3e9a12", "event_type": "council.updated", "state": "delivered",
    "payload": {"type": "council.updated", "timestamp": "2026-11-25T08:41:42.123456Z",
        "data": {"id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11", "resource": "council", "action": "updated", "version": 3}},
    "next_attempt_at": null, "created_at": "2026-11-25T08:41:42.523456Z", "delivered_at": "2026-11-25T08:41:43.001234Z",
    "attempts": [{"attempt": 1, "attempted_at": "2026-11-25T08:41:42.600000Z", "status_code": 503, "latency_ms": 41, "error": null},
                 {"attempt": 2, "attempted_at": "2026-11-25T08:41:47.900000Z", "status_code": 204, "latency_ms": 38, "error": null}]
}))]
pub struct DeliveryResponse {
    pub id: Uuid,
    pub event_type: String,
    /// `pending` (waiting for its first or next attempt), `delivered`, or `failed` (retries
    /// exhausted or 410; redeliver to try again).
    #[schema(pattern = "^(pending|delivered|failed)$")]
    pub state: String,
    /// The exact body POSTed (see the `WebhookEvent` schema).
    #[schema(value_type = WebhookEvent)]
    pub payload: serde_json::Value,
    /// When a pending delivery is next tried.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub attempts: Vec<AttemptResponse>,
}

impl DeliveryResponse {
    fn of(d: Delivery, attempts: Vec<Attempt>) -> Result<Self, ApiError> {
        Ok(DeliveryResponse {
            id: db::stored_uuid("delivery id", &d.id)?,
            payload: serde_json::from_str(&d.payload)
                .map_err(|e| ApiError::Internal(format!("stored webhook payload: {e}")))?,
            next_attempt_at: (d.state == "pending").then(|| d.next_attempt_at.and_utc()),
            event_type: d.event_type,
            state: d.state,
            created_at: d.created_at.and_utc(),
            delivered_at: d.delivered_at.map(|t| t.and_utc()),
            attempts: attempts
                .into_iter()
                .map(|a| AttemptResponse {
                    attempt: a.attempt,
                    attempted_at: a.attempted_at.and_utc(),
                    status_code: a.status_code,
                    latency_ms: a.latency_ms,
                    error: a.error,
                })
                .collect(),
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryList {
    pub items: Vec<DeliveryResponse>,
    /// Pass as `cursor` to get the next (older) page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// What cogov POSTs to a subscription's URL (Standard Webhooks 1.0). Thin on purpose: fetch the
/// resource for its data. Headers: `webhook-id` (the delivery's id, the same on every retry:
/// dedupe by it), `webhook-timestamp` (Unix seconds of this attempt), `webhook-signature`
/// (`v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}">` keyed with the
/// base64-decoded part of the secret after `whsec_`; two space-separated signatures while a
/// secret rotates).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"type": "council.updated", "timestamp": "2026-11-25T08:41:42.123456Z",
    "data": {"id": "01936d4e-5c1a-7cc2-9a4f-2b8f0f3e9a11", "resource": "council", "action": "updated", "version": 3}}))]
pub struct WebhookEvent {
    /// `<resource>.<action>`, e.g. `council.updated`, `seat.deleted`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When the change was committed (RFC 3339, UTC).
    pub timestamp: DateTime<Utc>,
    pub data: WebhookEventData,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEventData {
    /// The resource's id.
    pub id: Uuid,
    pub resource: String,
    #[schema(pattern = "^(created|updated|deleted)$")]
    pub action: String,
    /// The resource's version after the change (its ETag).
    pub version: i64,
}

fn location(id: &str) -> String {
    format!("/api/v1/webhooks/{id}")
}

/// List webhook subscriptions
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", security(("bearer" = [])), params(WebhookListParams),
    responses(
        (status = 200, description = "A page of subscriptions in creation order (no secrets); `Link: <…>; rel=\"next\"` when there are more.", body = WebhookList),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        super::problems::ListErrors))]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    params: web::Query<WebhookListParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let page = PageRequest::new(params.limit, params.cursor.as_deref())?;
    let rows = webhooks::list(&ctx, &state.db, page.after.as_deref(), page.fetch())?;
    let (rows, next) = split_page(rows, &page, |w| &w.id);
    let items = rows
        .into_iter()
        .map(|w| WebhookResponse::of(w, false))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(private_list_response(&req, &items, next))
}

/// Subscribe to events
///
/// The answer holds the signing secret once; store it. The URL must be https on a public
/// address: names are resolved and every address checked (private, loopback, link-local,
/// multicast, CGNAT, unique-local and IPv4-mapped addresses are refused with 422). The
/// subscription receives events from now on, of the kinds its owner may read.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", security(("bearer" = [])), request_body = CreateWebhook,
    responses(
        (status = 201, description = "Created; `Location` names the new subscription. `secret` is not shown again.", body = WebhookResponse,
            headers(("Location" = String, description = "URL of the new subscription"), ("ETag" = String, description = "Version tag for If-Match"))),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        super::problems::BodyErrors))]
pub async fn create_webhook(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    body: JsonBody<CreateWebhook>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let input = webhooks::NewWebhook {
        url: body.url,
        description: body.description,
        event_types: body.event_types,
        active: body.active.unwrap_or(true),
    };
    let row = webhooks::create(&ctx, &state.db, &state.protection.webhook_addresses, input).await?;
    let (version, loc) = (row.version, location(&row.id));
    Ok(created_response(
        loc,
        &WebhookResponse::of(row, true)?,
        version,
        CACHE_NONE,
    ))
}

/// Get a webhook subscription
#[utoipa::path(get, path = "/api/v1/webhooks/{webhook_id}", tag = "webhooks", security(("bearer" = [])),
    params(("webhook_id" = Uuid, Path, description = "The subscription's id"),
           ("If-None-Match" = Option<String>, Header, description = "ETag from an earlier read; 304 if unchanged")),
    responses(
        (status = 200, description = "The subscription (without its secret), with its `ETag`.", body = WebhookResponse),
        (status = 304, description = "Unchanged since the ETag in `If-None-Match`."),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        super::problems::ReadErrors))]
pub async fn find_webhook(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let row = webhooks::find(&ctx, &state.db, id.into_inner().into())?;
    let version = row.version;
    Ok(resource_response(
        &req,
        &WebhookResponse::of(row, false)?,
        version,
        CACHE_NONE,
    ))
}

/// Change a webhook subscription
///
/// Also how a subscription is disabled (`active: false`) and enabled again (`active: true`).
/// A new URL is checked as on create (422).
#[utoipa::path(patch, path = "/api/v1/webhooks/{webhook_id}", tag = "webhooks", security(("bearer" = [])), request_body = UpdateWebhook,
    params(("webhook_id" = Uuid, Path, description = "The subscription's id"),
           ("If-Match" = String, Header, description = "The subscription's current ETag")),
    responses(
        (status = 200, description = "The changed subscription, with its new `ETag`.", body = WebhookResponse),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        super::problems::ChangeErrors))]
pub async fn update_webhook(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: JsonBody<UpdateWebhook>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected(&req)?;
    let body = body.into_inner();
    let changes = webhooks::WebhookChanges {
        url: body.url,
        description: body.description,
        event_types: body.event_types,
        active: body.active,
    };
    let row = webhooks::update(
        &ctx,
        &state.db,
        &state.protection.webhook_addresses,
        id.into_inner().into(),
        expected,
        changes,
    )
    .await?;
    let version = row.version;
    Ok(updated_response(
        &WebhookResponse::of(row, false)?,
        version,
        CACHE_NONE,
    ))
}

/// Delete a webhook subscription
///
/// Its queued events and delivery log go with it.
#[utoipa::path(delete, path = "/api/v1/webhooks/{webhook_id}", tag = "webhooks", security(("bearer" = [])),
    params(("webhook_id" = Uuid, Path, description = "The subscription's id"),
           ("If-Match" = String, Header, description = "The subscription's current ETag")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        super::problems::DeleteErrors))]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected(&req)?;
    webhooks::delete(&ctx, &state.db, id.into_inner().into(), expected).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rotate a subscription's signing secret
///
/// Makes a new secret and returns it once. For 24 hours the previous secret signs every delivery
/// too (two signatures in `webhook-signature`), so the receiver can switch without missing an
/// event. `If-Match` is optional: with it, a rotation based on a stale read is refused (412).
#[utoipa::path(post, path = "/api/v1/webhooks/{webhook_id}/secret", tag = "webhooks", security(("bearer" = [])),
    params(("webhook_id" = Uuid, Path, description = "The subscription's id"),
           ("If-Match" = Option<String>, Header, description = "The subscription's current ETag (optional)")),
    responses(
        (status = 200, description = "The subscription with its new `secret` and `ETag`. The secret is not shown again.", body = WebhookResponse),
        (status = 400, response = super::problems::BadRequest),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        (status = 404, response = super::problems::NotFound),
        (status = 412, response = super::problems::PreconditionFailed),
        (status = 503, response = super::problems::Unavailable)))]
pub async fn rotate_webhook_secret(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let expected = if req.headers().contains_key(header::IF_MATCH) {
        expected(&req)?
    } else {
        Expected::Any
    };
    let row = webhooks::rotate_secret(&ctx, &state.db, id.into_inner().into(), expected).await?;
    let version = row.version;
    Ok(updated_response(
        &WebhookResponse::of(row, true)?,
        version,
        CACHE_NONE,
    ))
}

/// A subscription's delivery log
///
/// Every event queued for the subscription, newest first, with each attempt's status code,
/// latency and error.
#[utoipa::path(get, path = "/api/v1/webhooks/{webhook_id}/deliveries", tag = "webhooks", security(("bearer" = [])),
    params(("webhook_id" = Uuid, Path, description = "The subscription's id"), WebhookListParams),
    responses(
        (status = 200, description = "A page of deliveries, newest first; `Link: <…>; rel=\"next\"` when there are more.", body = DeliveryList),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        super::problems::NestedListErrors))]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    req: HttpRequest,
    id: web::Path<Uuid>,
    params: web::Query<WebhookListParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let page = PageRequest::new(params.limit, params.cursor.as_deref())?;
    let rows = webhooks::deliveries(
        &ctx,
        &state.db,
        id.into_inner().into(),
        page.after.as_deref(),
        page.fetch(),
    )?;
    let (rows, next) = split_page(rows, &page, |(d, _)| &d.id);
    let items = rows
        .into_iter()
        .map(|(d, a)| DeliveryResponse::of(d, a))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(private_list_response(&req, &items, next))
}

/// Deliver an event again
///
/// Puts the delivery back at the head of its subscription's queue, due now, with a fresh retry
/// schedule; it is sent with the same `webhook-id`. (A disabled subscription sends it once it is
/// enabled again.)
#[utoipa::path(post, path = "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", tag = "webhooks", security(("bearer" = [])),
    params(("webhook_id" = Uuid, Path, description = "The subscription's id"),
           ("delivery_id" = Uuid, Path, description = "The delivery's id (its `webhook-id`)")),
    responses(
        (status = 202, description = "Queued for delivery.", body = DeliveryResponse),
        (status = 401, response = super::problems::Unauthorized),
        (status = 403, response = super::problems::Forbidden),
        (status = 404, response = super::problems::NotFound),
        (status = 503, response = super::problems::Unavailable)))]
pub async fn redeliver(
    state: web::Data<AppState>,
    SignedIn(ctx): SignedIn,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (id, delivery) = path.into_inner();
    let row = webhooks::redeliver(&ctx, &state.db, id.into(), delivery.into()).await?;
    Ok(HttpResponse::Accepted()
        .insert_header((header::CACHE_CONTROL, CACHE_NONE))
        .json(DeliveryResponse::of(row, Vec::new())?))
}
