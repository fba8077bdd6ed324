//! The one application factory, used by `cogov serve` and by every test.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpResponse};
use tracing_actix_web::TracingLogger;
use utoipa::OpenApi;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::api::{self, problems};
use crate::auth;
use crate::config::BODY_LIMIT_BYTES;
pub use crate::state::AppState;

/// The OpenAPI document as served and committed.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api::ApiDoc::openapi()
}

pub fn build(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let docs = SwaggerUi::new("/docs/{_:.*}")
        .url("/api/v1/openapi.json", openapi())
        .config(Config::default().validator_url("none"));
    App::new()
        .app_data(state)
        .app_data(web::PayloadConfig::new(BODY_LIMIT_BYTES))
        .app_data(web::QueryConfig::default().error_handler(problems::query_error))
        .app_data(web::PathConfig::default().error_handler(problems::path_error))
        .configure(api::routes)
        .service(docs)
        .service(web::resource("/docs").route(web::get().to(|| async {
            HttpResponse::PermanentRedirect()
                .insert_header(("Location", "/docs/"))
                .finish()
        })))
        .default_service(web::to(problems::no_such_route))
        .wrap(from_fn(api::idempotency::replay_or_record))
        .wrap(from_fn(api::rate_limit::limit))
        .wrap(from_fn(auth::authenticate))
        .wrap(from_fn(api::hygiene::refuse_bad_input))
        .wrap(from_fn(problems::finish_response))
        .wrap(from_fn(api::head::answer_head))
        .wrap(from_fn(api::cors::cors))
        .wrap(from_fn(api::access_log::log_request))
        .wrap(from_fn(api::metrics::measure))
        .wrap(TracingLogger::<api::access_log::RequestSpan>::new())
}
