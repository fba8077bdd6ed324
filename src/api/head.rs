//! `HEAD` wherever `GET` is served (RFC 9110 §9.3.2): the request is routed as a `GET`, and the
//! response keeps every header of the `GET` (`Content-Length` included) without the body.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::web::Bytes;

/// A body that declares the size of the `GET` body it replaces and sends nothing.
pub struct HeadBody(BodySize);

impl MessageBody for HeadBody {
    type Error = Infallible;

    fn size(&self) -> BodySize {
        self.0
    }

    fn poll_next(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Poll::Ready(None)
    }
}

pub async fn answer_head<B: MessageBody + 'static>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B, HeadBody>>, actix_web::Error> {
    if req.method() != Method::HEAD {
        let mut res = next.call(req).await?;
        add_head_to_allow(&mut res);
        return Ok(res.map_into_left_body());
    }
    req.head_mut().method = Method::GET;
    let mut res = next.call(req).await?;
    add_head_to_allow(&mut res);
    Ok(res.map_body(|_, body| {
        let size = match body.size() {
            BodySize::Stream => BodySize::None,
            size => size,
        };
        EitherBody::right(HeadBody(size))
    }))
}

/// A 405's `Allow` lists `HEAD` wherever it lists `GET`.
fn add_head_to_allow<B>(res: &mut ServiceResponse<B>) {
    let Some(allow) = res
        .headers()
        .get(header::ALLOW)
        .and_then(|v| v.to_str().ok())
    else {
        return;
    };
    let methods: Vec<&str> = allow.split(',').map(str::trim).collect();
    if methods.contains(&"GET") && !methods.contains(&"HEAD") {
        let mut with_head: Vec<&str> = methods.clone();
        with_head.push("HEAD");
        with_head.sort_unstable();
        if let Ok(value) = header::HeaderValue::from_str(&with_head.join(", ")) {
            res.headers_mut().insert(header::ALLOW, value);
        }
    }
}
