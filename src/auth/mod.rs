//! Identity and access: bearer tokens, who the caller is, what they may do, and the audit trail
//! of every write and every read of protected records.

pub mod policy;
pub mod secrets;
pub mod throttle;
pub mod tokens;

use std::future::{ready, Ready};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, HttpResponse};
use tracing_actix_web::RequestId;

pub use crate::commands::{audit_event, require, Context, RequestFacts};
use crate::db::{self, AnyConnection};
use crate::error::ApiError;
use crate::state::AppState;
pub use policy::{Actor, Decision, Grant, Principal, Role};
pub use tokens::IdentityClaim;

/// The principal [`authenticate`] established for this request (anonymous when none).
fn principal_of(req: &HttpRequest) -> Principal {
    req.extensions()
        .get::<Principal>()
        .cloned()
        .unwrap_or_else(Principal::anonymous)
}

/// Shared between the middleware and the request's [`Context`]: set when a command committed
/// the request's audit event together with its write.
#[derive(Clone)]
struct AuditMark(Arc<AtomicBool>);

/// The command context of a request: the caller, the facts an audit event records, and the
/// matched route as the operation's name (never the raw path text).
fn context_of(req: &HttpRequest) -> Context {
    let mark = req
        .extensions()
        .get::<AuditMark>()
        .map(|m| m.0.clone())
        .unwrap_or_default();
    let operation =
        crate::route::pattern(req).map_or_else(|| req.path().to_owned(), |p| p.to_string());
    Context::with_mark(principal_of(req), RequestFacts::of(req), operation, mark)
}

/// The caller of this request, as established by [`authenticate`]; anonymous callers too.
pub struct Caller(pub Context);

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Caller, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Caller(context_of(req))))
    }
}

/// A caller that must be signed in: anonymous requests stop here with 401, before the body is
/// read (every write needs a signed-in caller).
pub struct SignedIn(pub Context);

impl FromRequest for SignedIn {
    type Error = ApiError;
    type Future = Ready<Result<SignedIn, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let ctx = context_of(req);
        ready(if ctx.caller.is_authenticated() {
            Ok(SignedIn(ctx))
        } else {
            Err(ApiError::Unauthorized(
                "this needs a bearer token (Authorization: Bearer <token>)".to_owned(),
            ))
        })
    }
}

impl RequestFacts {
    pub fn of(req: &HttpRequest) -> RequestFacts {
        RequestFacts {
            request_id: req.extensions().get::<RequestId>().map(|id| id.to_string()),
            client_address: req.peer_addr().map(|a| a.ip().to_string()),
            user_agent: req
                .headers()
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.chars().take(200).collect()),
        }
    }
}

fn bearer(req: &ServiceRequest) -> Option<Result<String, ApiError>> {
    let value = req.headers().get(header::AUTHORIZATION)?;
    let text = match value.to_str() {
        Ok(t) => t,
        Err(_) => {
            return Some(Err(ApiError::Unauthorized(
                "the Authorization header is not valid text".to_owned(),
            )))
        }
    };
    let mut parts = text.splitn(2, ' ');
    let scheme = parts.next().unwrap_or("");
    let token = parts.next().unwrap_or("").trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Some(Err(ApiError::Unauthorized(
            "use Authorization: Bearer <token>".to_owned(),
        )));
    }
    Some(Ok(token.to_owned()))
}

/// The district identity provider's subject in `token`, for linking it to an account (a family
/// taking up an invitation). Only a token from a configured provider counts: a token cogov
/// issued itself names no provider identity. A refused token is a 422 on `field`.
pub fn provider_subject(state: &AppState, token: &str, field: &str) -> Result<String, ApiError> {
    match state.tokens.verify(token) {
        Ok((claims, false)) => Ok(claims.sub),
        Ok((_, true)) => Err(ApiError::validation(
            field,
            "must be a token from the district's identity provider, not one cogov issued",
        )),
        Err(e) => Err(ApiError::validation(
            field,
            format!("is not a valid identity provider token: {e}"),
        )),
    }
}

/// Who a verified token speaks for.
fn resolve(state: &AppState, token: &str) -> Result<Principal, ApiError> {
    let (claims, local) = state
        .tokens
        .verify(token)
        .map_err(|e| ApiError::Unauthorized(e.to_string()))?;
    let identity_claim = state.identity_claim;
    state.db.read(|conn| {
        let unknown =
            || ApiError::Unauthorized("the token's subject is not a cogov user".to_owned());
        let client = if local {
            claims.sub.strip_prefix("client:")
        } else {
            None
        };
        if let (true, Some(grant_id)) = (local, claims.grant.as_deref()) {
            return app_principal(conn, &claims, grant_id);
        }
        if let Some(client_id) = client {
            let row = db::access::client::by_client_id(conn, client_id)?.ok_or_else(unknown)?;
            if row.disabled {
                return Err(unknown());
            }
            return principal_for(conn, Actor::Client(row.client_id));
        }
        let person_id = match (local, claims.sub.strip_prefix("person:"), identity_claim) {
            (true, Some(id), _) => {
                let account = db::access::account::by_person(conn, id)?.ok_or_else(unknown)?;
                if account.disabled {
                    return Err(unknown());
                }
                account.person_id
            }
            (true, None, _) => return Err(unknown()),
            (false, _, IdentityClaim::Sub) => {
                let account = db::access::account::by_external_subject(conn, &claims.sub)?
                    .ok_or_else(unknown)?;
                if account.disabled {
                    return Err(unknown());
                }
                account.person_id
            }
            (false, _, IdentityClaim::Email) => {
                // Once bound, only the provider's subject counts: a later edit of anyone's
                // email (staff may edit people's records, people their own) changes nothing.
                if let Some(account) = db::access::account::by_external_subject(conn, &claims.sub)?
                {
                    if account.disabled {
                        return Err(unknown());
                    }
                    account.person_id
                } else {
                    let email = claims
                        .email
                        .as_deref()
                        .filter(|_| claims.email_verified != Some(false))
                        .ok_or_else(unknown)?;
                    bind_by_email(state, conn, &claims.sub, email)?.ok_or_else(unknown)?
                }
            }
        };
        principal_for(conn, Actor::Person(person_id))
    })
}

/// First sign-in of a provider subject under `jwt_identity_claim = email`: binds the subject to
/// the one account whose person has this email, and returns that person. Nothing is bound (and
/// the caller is unknown) when no account or several have the email, when that account is bound
/// already (to another subject), is disabled, or holds a privileged role (`district_admin`,
/// `council_staff`): emails are editable by staff and by people themselves, so a privileged
/// account is linked only by an operator (`cogov admin link-identity`).
fn bind_by_email(
    state: &AppState,
    conn: &mut AnyConnection,
    subject: &str,
    email: &str,
) -> Result<Option<String>, ApiError> {
    let accounts = db::access::account::by_person_email(conn, email)?;
    let [account] = accounts.as_slice() else {
        return Ok(None);
    };
    if account.disabled || account.external_subject.is_some() {
        return Ok(None);
    }
    let privileged = db::access::grant::of_subject(conn, "person", &account.person_id)?
        .iter()
        .any(|g| matches!(g.role.as_str(), "district_admin" | "council_staff"));
    if privileged {
        return Ok(None);
    }
    let account_id = account.id.clone();
    let owned_subject = subject.to_owned();
    // The binding is conditional on the account being unbound, and a subject can be bound to one
    // account only (unique index): of concurrent first sign-ins, at most one binds.
    let bound =
        state.db.write_blocking(|conn| {
            match db::access::account::bind_external_subject(
                conn,
                &account_id,
                &owned_subject,
                db::now(),
            ) {
                Ok(bound) => Ok(bound),
                Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                )) => Ok(false),
                Err(e) => Err(ApiError::from(e)),
            }
        })?;
    if !bound {
        // Another request may have bound this very subject a moment ago.
        return Ok(db::access::account::by_external_subject(conn, subject)?
            .filter(|a| a.id == account.id && !a.disabled)
            .map(|a| a.person_id));
    }
    tracing::info!(account = %account.id, "identity provider subject bound to an account by email");
    Ok(Some(account.person_id.clone()))
}

/// The caller of a token cogov issued to a third-party app: the family member, with at most the
/// `family` role (whatever else they hold), no seats, and the app's scopes; refused at once when
/// the family revoked the grant, the app is suspended or the account disabled.
fn app_principal(
    conn: &mut AnyConnection,
    claims: &tokens::Claims,
    grant_id: &str,
) -> Result<Principal, ApiError> {
    let refused = |why: &str| ApiError::Unauthorized(format!("the app's access {why}"));
    let grant = db::apps::grant::find(conn, grant_id)?.ok_or_else(|| refused("is unknown"))?;
    if grant.revoked_at.is_some() {
        return Err(refused("was revoked"));
    }
    let person_id = claims
        .sub
        .strip_prefix("person:")
        .filter(|id| *id == grant.person_id)
        .ok_or_else(|| refused("does not match the token"))?;
    let app = db::apps::app::find(conn, &grant.app_id)?.ok_or_else(|| refused("is unknown"))?;
    if app.status != "active" || claims.client_id.as_deref() != Some(app.client_id.as_str()) {
        return Err(refused("is suspended"));
    }
    let account = db::access::account::by_person(conn, person_id)?;
    if account.is_none_or(|a| a.disabled) {
        return Err(refused("belongs to a disabled account"));
    }
    let allowed = crate::domain::apps::parse_scopes(&grant.scopes).unwrap_or_default();
    let scopes = crate::domain::apps::parse_scopes(claims.scope.as_deref().unwrap_or(""))
        .unwrap_or_default()
        .into_iter()
        .filter(|s| allowed.contains(s))
        .collect();
    let mut principal = principal_for(conn, Actor::Person(person_id.to_owned()))?;
    principal.grants.retain(|g| g.role == Role::Family);
    principal.seated_on.clear();
    principal.app = Some(policy::AppAccess {
        client_id: app.client_id,
        grant_id: grant.id,
        scopes,
    });
    Ok(principal)
}

fn principal_for(conn: &mut AnyConnection, actor: Actor) -> Result<Principal, ApiError> {
    let (kind, id) = match &actor {
        Actor::Person(id) => ("person", id.as_str()),
        Actor::Client(id) => ("client", id.as_str()),
        Actor::Anonymous => return Ok(Principal::anonymous()),
    };
    let grants = db::access::grant::of_subject(conn, kind, id)?
        .into_iter()
        .filter_map(|g| {
            Role::parse(&g.role).map(|role| Grant {
                role,
                council_id: g.council_id,
            })
        })
        .collect();
    let seated_on = match &actor {
        Actor::Person(id) => db::access::seated_now(conn, id)?,
        _ => Vec::new(),
    };
    Ok(Principal {
        actor,
        grants,
        seated_on,
        app: None,
    })
}

/// Requests the audit trail records, by method and **matched route template** (never the raw
/// path, which may be spelt with percent-escapes): every write, and every read of protected
/// records (people, grants, accounts, API clients, the audit trail itself, `/me`). Sign-ins are
/// recorded by the token endpoint itself.
fn audited(method: &Method, route: Option<&str>) -> bool {
    let Some(route) = route else { return false };
    if !route.starts_with("/api/v1/") || route == TOKEN_ROUTE {
        return false;
    }
    if !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    [
        "/api/v1/people",
        "/api/v1/grants",
        "/api/v1/accounts",
        "/api/v1/api-clients",
        "/api/v1/audit-events",
        "/api/v1/me",
        "/api/v1/apps",
        "/api/v1/service-requests",
        "/api/v1/partner-organizations/{partner_id}/members",
    ]
    .iter()
    .any(|prefix| {
        route
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

const TOKEN_ROUTE: &str = "/api/v1/auth/token";

/// The route template a request will be routed to, found before routing: the path is decoded
/// the way the router decodes it, so `/%61pi/v1/grants` is `/api/v1/grants` here too.
fn route_before_routing(req: &ServiceRequest) -> Option<String> {
    let url = actix_router::Url::new(req.uri().clone());
    req.request().resource_map().match_pattern(url.path())
}

fn action_of(method: &Method, pattern: &str) -> &'static str {
    match *method {
        Method::GET | Method::HEAD if pattern.ends_with('}') => "read",
        Method::GET | Method::HEAD => "list",
        Method::POST => "create",
        Method::DELETE => "delete",
        _ => "update",
    }
}

/// Audit events of refused tokens one instance writes per second. A flood of bad tokens must
/// not fill the write queue that real changes wait in; beyond this budget refusals are counted
/// in the log instead, and the next recorded one says how many were skipped.
const BAD_TOKEN_EVENTS_PER_SECOND: u32 = 50;

static BAD_TOKEN_BUDGET: Mutex<Option<(Instant, u32, u64)>> = Mutex::new(None);

/// Takes one unit of the bad-token audit budget; returns how many were skipped before it.
fn take_bad_token_budget() -> Option<u64> {
    let mut guard = BAD_TOKEN_BUDGET.lock().ok()?;
    let now = Instant::now();
    let (start, used, skipped) = guard.get_or_insert((now, 0, 0));
    if now.duration_since(*start).as_secs() >= 1 {
        *start = now;
        *used = 0;
    }
    if *used < BAD_TOKEN_EVENTS_PER_SECOND {
        *used += 1;
        Some(std::mem::take(skipped))
    } else {
        *skipped += 1;
        None
    }
}

/// Establishes the caller (401 for a bad token), runs the request, and makes sure it is in the
/// audit trail when it is a write or a read of protected records. A successful write's event was
/// already committed with the write by its command; refusals, failures and protected reads are
/// recorded here. A protected read whose audit record cannot be written is not served (503): no
/// disclosure goes unrecorded.
pub async fn authenticate<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    // The route is worked out before routing only when a credential is sent (most public reads
    // send none): the token endpoint reads its own Authorization header (HTTP Basic client
    // credentials), `/metrics` takes a scraper's token (not a JWT), and a refused token is
    // audited by route.
    let route = if req.headers().contains_key(header::AUTHORIZATION) {
        route_before_routing(&req)
    } else {
        None
    };
    let credentials = if matches!(
        route.as_deref(),
        Some(TOKEN_ROUTE | "/metrics" | "/oauth/revoke")
    ) {
        None
    } else {
        bearer(&req)
    };
    let principal = match credentials {
        None => Ok(Principal::anonymous()),
        Some(Err(e)) => Err(e),
        Some(Ok(token)) => resolve(&state, &token),
    };
    let principal = match principal {
        Ok(p) => p,
        Err(err) => {
            let (http_req, _) = req.into_parts();
            if audited(http_req.method(), route.as_deref()) {
                if let Some(skipped) = take_bad_token_budget() {
                    if skipped > 0 {
                        tracing::warn!(
                            skipped,
                            "refused tokens not written to the audit trail (over budget)"
                        );
                    }
                    let event = audit_event(
                        &Principal::anonymous(),
                        &RequestFacts::of(&http_req),
                        "authenticate",
                        route.as_deref().unwrap_or_default(),
                        None,
                        401,
                    );
                    let _ = state
                        .db
                        .write(move |conn| {
                            db::access::audit::record(conn, &event).map_err(ApiError::from)
                        })
                        .await;
                }
            }
            let res = HttpResponse::from_error(err);
            return Ok(ServiceResponse::new(http_req, res).map_into_right_body());
        }
    };
    let mark = AuditMark(Arc::new(AtomicBool::new(false)));
    req.extensions_mut().insert(principal.clone());
    req.extensions_mut().insert(mark.clone());
    let method = req.method().clone();
    let res = next.call(req).await?;
    let request = res.request();
    let pattern = crate::route::pattern(request);
    if !audited(&method, pattern.as_deref()) || mark.0.load(Ordering::Acquire) {
        return Ok(res.map_into_left_body());
    }
    let pattern = pattern.map(|p| p.to_string()).unwrap_or_default();
    let resource_id = request
        .match_info()
        .iter()
        .next()
        .map(|(_, v)| v.to_owned());
    let status = res.status().as_u16();
    let event = audit_event(
        &principal,
        &RequestFacts::of(request),
        if res
            .headers()
            .contains_key(crate::commands::idempotency::REPLAYED_HEADER)
        {
            // A retry answered with the first response: nothing was done again.
            "replay"
        } else {
            action_of(&method, &pattern)
        },
        &pattern,
        resource_id,
        status,
    );
    // An app's read is the app acting for the family too: the family's list of apps shows it.
    let app_grant = principal.app.as_ref().map(|app| app.grant_id.clone());
    let recorded = state
        .db
        .write(move |conn| {
            if let Some(grant) = &app_grant {
                db::apps::grant::touch(conn, grant, event.occurred_at)?;
            }
            db::access::audit::record(conn, &event).map_err(ApiError::from)
        })
        .await;
    match recorded {
        Ok(()) => Ok(res.map_into_left_body()),
        Err(err) if method == Method::GET || method == Method::HEAD => {
            tracing::error!(error = %err, "audit record failed; the read is refused");
            let (http_req, _) = res.into_parts();
            let res = HttpResponse::from_error(ApiError::Unavailable(
                "the audit trail cannot be written".to_owned(),
            ));
            Ok(ServiceResponse::new(http_req, res).map_into_right_body())
        }
        Err(err) => {
            // The request changed nothing (a successful write records its event itself).
            tracing::error!(error = %err, "audit record of a refused write failed");
            Ok(res.map_into_left_body())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_audited() {
        let a = |m: &Method, r: &str| audited(m, Some(r));
        assert!(a(&Method::POST, "/api/v1/councils"));
        assert!(a(&Method::DELETE, "/api/v1/seats/{seat_id}/holder"));
        assert!(a(&Method::GET, "/api/v1/people"));
        assert!(a(&Method::GET, "/api/v1/people/{person_id}"));
        assert!(a(&Method::GET, "/api/v1/audit-events"));
        assert!(a(&Method::GET, "/api/v1/accounts/{account_id}"));
        assert!(a(&Method::GET, "/api/v1/api-clients"));
        assert!(!a(&Method::GET, "/api/v1/councils/{council_id}"));
        assert!(!a(&Method::GET, "/api/v1/peoplex"));
        assert!(!a(&Method::POST, "/api/v1/auth/token"));
        assert!(!a(&Method::GET, "/health/live"));
        assert!(!audited(&Method::POST, None));
    }
}
