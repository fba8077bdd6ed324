//! The HTTP API: routes, request/response types, and the OpenAPI document built from them.

pub mod body;
pub mod councils;
pub mod fields;
pub mod health;
pub mod paging;
pub mod people;
pub mod preconditions;
pub mod problems;
pub mod schools;
pub mod seats;

use actix_web::web;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "cogov API",
        description = "The open REST API community schools use to govern themselves together: councils, stakeholder seats and their terms, meetings, votes and minutes, and wraparound service requests.\n\nConventions (errors, pagination, ETags) are in docs/API.md.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    paths(
        health::live, health::ready,
        schools::list_schools, schools::create_school, schools::find_school, schools::update_school, schools::delete_school,
        people::list_people, people::create_person, people::find_person, people::update_person, people::delete_person,
        councils::list_councils, councils::create_council, councils::find_council_by_id, councils::update_council,
        councils::delete_council, councils::council_composition, councils::list_rule_overrides,
        seats::list_seats, seats::create_seat, seats::find_seat_by_id, seats::update_seat, seats::delete_seat,
        seats::assign_holder, seats::vacate_seat, seats::list_holdings,
    ),
    components(responses(
        problems::BadRequest, problems::NotFound, problems::Conflict, problems::PreconditionFailed,
        problems::PreconditionRequired, problems::PayloadTooLarge, problems::UnsupportedMediaType,
        problems::Unprocessable, problems::Unavailable,
    )),
    tags(
        (name = "schools", description = "Schools of the district."),
        (name = "people", description = "People: council members, family members, staff. Contact details are never cached."),
        (name = "councils", description = "Councils, their composition rules and composition report."),
        (name = "seats", description = "Seats on councils, who holds them, and seat history."),
        (name = "operations", description = "Health checks."),
    )
)]
pub struct ApiDoc;

/// Registers every route. Each path is one resource, so a method it does not serve gets 405.
/// Resources are grouped in scopes by their first segment, so the router compares few patterns.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/health/live").route(web::get().to(health::live)))
        .service(web::resource("/health/ready").route(web::get().to(health::ready)))
        .service(
            web::scope("/api/v1")
                .service(web::resource("/openapi.json").route(web::get().to(openapi_document)))
                .service(
                    web::scope("/councils")
                        .service(
                            web::resource("")
                                .route(web::get().to(councils::list_councils))
                                .route(web::post().to(councils::create_council)),
                        )
                        .service(
                            web::resource("/{council_id}")
                                .route(web::get().to(councils::find_council_by_id))
                                .route(web::patch().to(councils::update_council))
                                .route(web::delete().to(councils::delete_council)),
                        )
                        .service(
                            web::resource("/{council_id}/composition")
                                .route(web::get().to(councils::council_composition)),
                        )
                        .service(
                            web::resource("/{council_id}/rule-overrides")
                                .route(web::get().to(councils::list_rule_overrides)),
                        )
                        .service(
                            web::resource("/{council_id}/seats")
                                .route(web::get().to(seats::list_seats))
                                .route(web::post().to(seats::create_seat)),
                        ),
                )
                .service(
                    web::scope("/seats")
                        .service(
                            web::resource("/{seat_id}")
                                .route(web::get().to(seats::find_seat_by_id))
                                .route(web::patch().to(seats::update_seat))
                                .route(web::delete().to(seats::delete_seat)),
                        )
                        .service(
                            web::resource("/{seat_id}/holder")
                                .route(web::put().to(seats::assign_holder))
                                .route(web::delete().to(seats::vacate_seat)),
                        )
                        .service(
                            web::resource("/{seat_id}/holdings")
                                .route(web::get().to(seats::list_holdings)),
                        ),
                )
                .service(
                    web::scope("/people")
                        .service(
                            web::resource("")
                                .route(web::get().to(people::list_people))
                                .route(web::post().to(people::create_person)),
                        )
                        .service(
                            web::resource("/{person_id}")
                                .route(web::get().to(people::find_person))
                                .route(web::patch().to(people::update_person))
                                .route(web::delete().to(people::delete_person)),
                        ),
                )
                .service(
                    web::scope("/schools")
                        .service(
                            web::resource("")
                                .route(web::get().to(schools::list_schools))
                                .route(web::post().to(schools::create_school)),
                        )
                        .service(
                            web::resource("/{school_id}")
                                .route(web::get().to(schools::find_school))
                                .route(web::patch().to(schools::update_school))
                                .route(web::delete().to(schools::delete_school)),
                        ),
                ),
        );
}

/// The OpenAPI document, rendered once.
async fn openapi_document() -> actix_web::HttpResponse {
    static DOCUMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let body = DOCUMENT.get_or_init(|| ApiDoc::openapi().to_json().unwrap_or_default());
    actix_web::HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(("Cache-Control", "no-cache"))
        .body(body.as_str())
}
