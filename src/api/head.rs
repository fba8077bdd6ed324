//! `HEAD` wherever `GET` is served (RFC 9110 §9.3.2): the request is routed as a `GET`, and the
//! response keeps every header of the `GET` (`Content-Length` included) without the body.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
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
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    req.head_mut().method = Method::GET;
    let res = next.call(req).await?;
    Ok(res.map_body(|_, body| {
        let size = match body.size() {
            BodySize::Stream => BodySize::None,
            size => size,
        };
        EitherBody::right(HeadBody(size))
    }))
}
