//! `Idempotency-Key` on POST: the middleware that reads the key and the body, asks the
//! idempotency command whether this request was answered before, and records the first answer.
//! A retried POST with the same key and body gets the first response again (with
//! `Idempotent-Replayed: true`); the same key with another body is 422; the same request still
//! in progress is 409 with `Retry-After: 1`.

use actix_web::body::{to_bytes, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, HttpResponse};
use futures_util::StreamExt;

use crate::auth::{Principal, RequestFacts};
use crate::commands::idempotency::{self, Claim};
use crate::commands::Context;
use crate::config::BODY_LIMIT_BYTES;
use crate::error::{ApiError, PROBLEM_JSON};
use crate::state::AppState;

pub const HEADER: &str = "idempotency-key";

/// Response headers a replay repeats.
const KEPT_HEADERS: &[header::HeaderName] = &[
    header::CONTENT_TYPE,
    header::LOCATION,
    header::ETAG,
    header::CACHE_CONTROL,
];

fn fail(req: ServiceRequest, err: ApiError) -> ServiceResponse<BoxBody> {
    req.error_response(err).map_into_boxed_body()
}

/// A stored problem document, with the path and id of the request it now answers.
fn restamp(body: &str, req: &actix_web::HttpRequest) -> String {
    let Ok(mut problem) = serde_json::from_str::<serde_json::Value>(body) else {
        return body.to_owned();
    };
    if let Some(map) = problem.as_object_mut() {
        map.insert("instance".to_owned(), req.path().into());
        if let Some(id) = req.extensions().get::<tracing_actix_web::RequestId>() {
            map.insert("request_id".to_owned(), id.to_string().into());
        }
    }
    problem.to_string()
}

pub async fn replay_or_record<B: MessageBody + 'static>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if req.method() != Method::POST {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    let path = actix_router::Url::new(req.uri().clone()).path().to_owned();
    if !req.headers().contains_key(HEADER) {
        if idempotency::KEY_REQUIRED.contains(&path.as_str()) {
            let err = ApiError::BadRequest {
                code: "idempotency-key-required",
                detail: "send an Idempotency-Key with this request (any unique value of yours, \
                         e.g. a UUID), so that a retry cannot file it twice"
                    .to_owned(),
            };
            return Ok(fail(req, err));
        }
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    if path == "/api/v1/auth/token" || path == "/api/v1/imports" {
        // Exchanging credentials is not a change to replay; an import upload is larger than
        // the bodies kept for replay, and running an import again changes nothing anyway.
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    let key = match req.headers().get(HEADER).map(|v| v.to_str()) {
        Some(Ok(text)) => match idempotency::parse_key(text.trim()) {
            Ok(key) => key.to_owned(),
            Err(e) => return Ok(fail(req, e)),
        },
        _ => {
            let err = idempotency::parse_key("").unwrap_err();
            return Ok(fail(req, err));
        }
    };
    // The body is part of what makes a retry "the same request": read it (within the same size
    // and time limits the JSON extractor applies), then hand it on.
    let timeout = state.protection.body_read_timeout;
    let mut payload = req.take_payload();
    let read = async {
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| ApiError::BadRequest {
                code: "unreadable-body",
                detail: format!("cannot read the request body: {e}"),
            })?;
            if body.len() + chunk.len() > BODY_LIMIT_BYTES {
                return Err(ApiError::PayloadTooLarge(BODY_LIMIT_BYTES));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    };
    let body = match actix_web::rt::time::timeout(timeout, read).await {
        Ok(Ok(body)) => body,
        Ok(Err(e)) => return Ok(fail(req, e)),
        Err(_) => return Ok(fail(req, ApiError::body_timeout(timeout.as_secs()))),
    };
    let principal = req
        .extensions()
        .get::<Principal>()
        .cloned()
        .unwrap_or_else(Principal::anonymous);
    let ctx = Context::new(principal, RequestFacts::of(req.request()), path.clone());
    let fingerprint = idempotency::fingerprint("POST", &path, &body);
    let claim_id = match idempotency::claim(&ctx, &state.db, &key, fingerprint).await {
        Ok(Claim::New(id)) => id,
        Ok(Claim::Replay {
            status,
            headers,
            body,
        }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let mut res = HttpResponse::build(status);
            let mut problem = false;
            for (name, value) in headers {
                problem |= name == "content-type" && value == PROBLEM_JSON;
                res.insert_header((name, value));
            }
            res.insert_header((idempotency::REPLAYED_HEADER, "true"));
            // A refusal is replayed as the same problem, about this request.
            let body = if problem {
                restamp(&body, req.request())
            } else {
                body
            };
            let (http_req, _) = req.into_parts();
            return Ok(ServiceResponse::new(http_req, res.body(body)));
        }
        Err(err) => {
            let retry = matches!(err, ApiError::Conflict { .. });
            let mut res = fail(req, err);
            if retry {
                res.headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
            }
            return Ok(res);
        }
    };
    let (_, mut replay) = actix_http::h1::Payload::create(true);
    replay.unread_data(body);
    req.set_payload(replay.into());

    let res = next.call(req).await?;
    let status = res.status();
    if let Some(err) = res.response().error() {
        // An error response is rendered into a full problem document further out (with the
        // request's path and id): keep it as it is, and store the problem it says.
        let problem = match err.as_error::<ApiError>() {
            Some(api) => api.problem(),
            None => ApiError::Other {
                status,
                detail: err.to_string(),
            }
            .problem(),
        };
        let stored = if status.is_server_error() {
            idempotency::release(&state.db, claim_id).await
        } else {
            let body = serde_json::to_string(&problem).unwrap_or_default();
            let headers = vec![("content-type".to_owned(), PROBLEM_JSON.to_owned())];
            idempotency::complete(&state.db, claim_id, status.as_u16(), headers, body).await
        };
        if let Err(err) = stored {
            tracing::error!(error = %err, "the answer to an Idempotency-Key could not be stored");
        }
        return Ok(res.map_into_boxed_body());
    }
    let (http_req, res) = res.into_parts();
    let kept: Vec<(String, String)> = KEPT_HEADERS
        .iter()
        .filter_map(|name| {
            res.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| (name.as_str().to_owned(), v.to_owned()))
        })
        .collect();
    let mut rebuilt = HttpResponse::build(status);
    for (name, value) in res.headers() {
        rebuilt.append_header((name.clone(), value.clone()));
    }
    let bytes = match to_bytes(res.into_body()).await {
        Ok(bytes) => bytes,
        Err(_) => {
            let _ = idempotency::release(&state.db, claim_id).await;
            let err = ApiError::Internal("the response could not be read".to_owned());
            return Ok(ServiceResponse::new(
                http_req,
                HttpResponse::from_error(err),
            ));
        }
    };
    // A fault of the server may go away: let a retry try again. Everything else (created, or
    // refused for what the request says) is the answer to this key.
    let stored = if status.is_server_error() {
        idempotency::release(&state.db, claim_id).await
    } else {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        idempotency::complete(&state.db, claim_id, status.as_u16(), kept, text).await
    };
    if let Err(err) = stored {
        tracing::error!(error = %err, "the answer to an Idempotency-Key could not be stored");
    }
    Ok(ServiceResponse::new(http_req, rebuilt.body(bytes)))
}
