//! The HTTP API: routes, request/response types, and the OpenAPI document built from them.

pub mod access;
pub mod access_log;
pub mod accounts;
pub mod agenda;
pub mod apps;
pub mod assemblies;
pub mod body;
pub mod calendar;
pub mod changes;
pub mod contract;
pub mod cors;
pub mod councils;
pub mod external_ids;
pub mod fields;
pub mod findings;
pub mod governance_reports;
pub mod head;
pub mod health;
pub mod hsds;
pub mod html;
pub mod hygiene;
pub mod idempotency;
pub mod imports;
pub mod meetings;
pub mod messages;
pub mod metrics;
pub mod minutes;
pub mod motions;
pub mod oauth;
pub mod open311;
pub mod paging;
pub mod participation;
pub mod people;
pub mod preconditions;
pub mod problems;
pub mod public_pages;
pub mod rate_limit;
pub mod record;
pub mod reports;
pub mod schools;
pub mod seats;
pub mod services;
pub mod webhooks;

use actix_web::web;
use contract::ContractDoc;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "cogov API",
        description = "The open REST API community schools use to govern themselves together: councils, stakeholder seats and their terms, meetings, votes and minutes, and wraparound service requests.\n\nConventions (errors, pagination, ETags) are in docs/API.md.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
        contact(name = "cogov maintainers: questions and bug reports go to the project's issue tracker (README.md)")
    ),
    servers((url = "/", description = "The server this document was fetched from (every path starts at its root).")),
    paths(
        health::live, health::ready,
        access::issue_token, access::me, access::list_grants, access::create_grant, access::delete_grant,
        access::list_audit_events,
        apps::create_invitation, apps::accept_invitation, apps::create_app, apps::list_apps,
        apps::find_app, apps::update_app, apps::my_apps, apps::revoke_my_app,
        oauth::metadata, oauth::revoke,
        changes::list_changes, changes::feed_head,
        calendar::council_calendar, calendar::school_calendar, calendar::district_calendar,
        imports::create_import, imports::find_import, imports::list_import_rows,
        webhooks::list_webhooks, webhooks::create_webhook, webhooks::find_webhook, webhooks::update_webhook,
        webhooks::delete_webhook, webhooks::rotate_webhook_secret, webhooks::list_deliveries, webhooks::redeliver,
        metrics::metrics_endpoint,
        accounts::list_accounts, accounts::create_account, accounts::find_account, accounts::update_account,
        accounts::list_api_clients, accounts::create_api_client, accounts::find_api_client,
        accounts::update_api_client, accounts::rotate_api_client_secret,
        schools::list_schools, schools::create_school, schools::find_school, schools::update_school, schools::delete_school,
        people::list_people, people::create_person, people::find_person, people::update_person, people::delete_person,
        people::erase_contact, people::list_person_seats, people::find_directory_preferences, people::set_directory_preferences,
        councils::list_councils, councils::create_council, councils::find_council_by_id, councils::update_council,
        councils::delete_council, councils::archive_council, councils::restore_council,
        councils::council_composition, councils::list_rule_overrides,
        seats::list_seats, seats::create_seat, seats::find_seat_by_id, seats::update_seat, seats::delete_seat,
        seats::assign_holder, seats::vacate_seat, seats::list_holdings,
        services::list_categories, services::create_category, services::find_category, services::update_category,
        services::list_partners, services::create_partner, services::find_partner, services::update_partner,
        services::list_members, services::add_member, services::remove_member,
        services::list_requests, services::create_request, services::count_requests, services::export_requests, services::anonymise_requests, services::find_request,
        services::triage_request, services::refer_request, services::accept_request, services::reject_request,
        services::start_request, services::complete_request, services::decline_request,
        services::withdraw_request, services::cancel_request,
        services::list_notes, services::add_note, services::list_consents, services::give_consent,
        services::withdraw_consent, services::list_disclosures, services::list_exceptions, services::record_exception,
        hsds::root, hsds::list_services, hsds::find_service, hsds::list_organizations,
        open311::list_services, open311::find_service,
        open311::create_request, open311::list_requests, open311::find_request,
        meetings::list_meetings, meetings::create_meeting, meetings::find_meeting, meetings::update_meeting,
        meetings::publish_meeting, meetings::open_meeting, meetings::recess_meeting,
        meetings::adjourn_meeting, meetings::cancel_meeting, meetings::list_meeting_events,
        meetings::record_attendance, meetings::list_attendance, meetings::meeting_quorum,
        agenda::meeting_agenda, agenda::add_item, agenda::propose_item, agenda::council_items,
        agenda::find_item, agenda::accept_item, agenda::decline_item, agenda::move_item,
        agenda::amend_agenda, agenda::list_amendments, agenda::open_comment, agenda::close_comment,
        motions::make_motion, motions::list_motions, motions::find_motion, motions::cast_vote,
        motions::close_motion,
        findings::record_finding, findings::item_findings, findings::emergency_vote,
        findings::meeting_findings,
        minutes::draft_minutes, minutes::meeting_minutes, minutes::find_minutes,
        minutes::update_minutes, minutes::correct_minutes,
        record::council_record, record::verify_council_record,
        participation::create_comment, participation::list_comments, participation::hide_comment,
        participation::create_speaker, participation::list_speakers, participation::agenda_sources,
        assemblies::register_participant, assemblies::list_participants, assemblies::check_in,
        assemblies::assembly_quorum, assemblies::make_assembly_motion, assemblies::find_assembly_motion,
        assemblies::cast_votes, assemblies::close_assembly_motion,
        reports::service_request_status_counts, reports::service_request_durations,
        reports::service_request_backlog, reports::service_request_overdue,
        reports::service_request_partners,
        governance_reports::governance_seats,
        governance_reports::governance_attendance,
        governance_reports::governance_agenda_sources,
        governance_reports::governance_motions,
        governance_reports::governance_notices,
        governance_reports::governance_comments,
    ),
    components(schemas(crate::error::Problem, crate::error::FieldError, crate::domain::RuleOutcome, webhooks::WebhookEvent),
    responses(
        problems::BadRequest, problems::NotFound, problems::Conflict, problems::PreconditionFailed,
        problems::PreconditionRequired, problems::PayloadTooLarge, problems::UnsupportedMediaType,
        problems::Unprocessable, problems::Unavailable, problems::Unauthorized, problems::Forbidden,
        problems::CursorExpired, problems::QuotaExceeded, problems::NotAcceptable,
        problems::TooManyRequests,
        access::TokenBadRequest, access::TokenUnauthorized, access::TokenRequestTimeout,
        access::TokenPayloadTooLarge, access::TokenUnsupportedMediaType, access::TokenUnprocessable,
        access::TokenTooManyRequests, access::TokenUnavailable,
        participation::CommentTooManyRequests,
        apps::InvitationExpired,
    )),
    modifiers(&AccessDoc, &ContractDoc),
    tags(
        (name = "schools", description = "Schools of the district."),
        (name = "people", description = "People: council members, family members, staff. Contact details are never cached."),
        (name = "councils", description = "Councils, their composition rules and composition report."),
        (name = "seats", description = "Seats on councils, who holds them, and seat history."),
        (name = "services", description = "Wraparound services: the service catalog, partner organizations, and service requests with their lifecycle, notes, consents and disclosure records. See docs/SERVICES.md."),
        (name = "open311", description = "Open311 GeoReport v2: service discovery from the catalog (public), and service requests filed and read through the same rules as the native API (bearer token as the api_key; JSON only, `.xml` is 406)."),
        (name = "directory", description = "The partner-service directory as Open Referral HSDS 3.0 (read-only, public; nothing about families or requests)."),
        (name = "agenda", description = "Agenda items, proposals by seat holders, and amendments of published agendas."),
        (name = "motions", description = "Motions and roll-call votes: every member's vote by name, results by the council's threshold."),
        (name = "participation", description = "Public participation: written public comment on agenda items (no sign-in, no name needed) and in-person speakers with their time. See docs/GOVERNANCE.md."),
        (name = "assemblies", description = "Assemblies: councils without fixed seats. Participants register for a meeting, staff check them in, each present participant has one vote, and quorum is a minimum count. See docs/GOVERNANCE.md."),
        (name = "meetings", description = "Meetings under open-meeting law: notice, lifecycle and its history. See docs/GOVERNANCE.md."),
        (name = "record", description = "Each council's tamper-evident record: a hash chain of its public acts that anyone can check. See docs/VERIFY.md."),
        (name = "apps", description = "Family accounts by invitation, and third-party apps acting for families with OAuth 2.0 (authorization code with PKCE S256, refresh token rotation, revocation): the app registry, the family's list of allowed apps, server metadata. See docs/APPS.md."),
        (name = "access", description = "Tokens, accounts, API clients, roles and the audit trail. See docs/AUTH.md."),
        (name = "imports", description = "Roster imports from OneRoster 1.2 CSV or cogov's CSV: asynchronous jobs with per-row results. See docs/IMPORT.md."),
        (name = "changes", description = "The change feed district systems sync by: every create, update and delete in commit order."),
        (name = "webhooks", description = "Signed change notifications (Standard Webhooks 1.0) POSTed to district systems: subscriptions, their delivery log and redelivery. The body sent is the `WebhookEvent` schema; headers `webhook-id`, `webhook-timestamp`, `webhook-signature`. See docs/WEBHOOKS.md."),
        (name = "reports", description = "Reports for councils and district staff, as JSON or CSV (`format=csv` or `Accept: text/csv`), with small-cell suppression. See docs/REPORTS.md."),
        (name = "operations", description = "Health checks."),
    )
)]
pub struct ApiDoc;

/// Registers every route. Each path is one resource, so a method it does not serve gets 405.
/// Resources are grouped in scopes by their first segment, so the router compares few patterns.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/health/live").route(web::get().to(health::live)))
        .service(web::resource("/public").route(web::get().to(public_pages::root_redirect)))
        .service(
            web::scope("/public")
                .service(web::resource("/").route(web::get().to(public_pages::district)))
                .service(
                    web::resource("/councils/{council_id}")
                        .route(web::get().to(public_pages::council)),
                )
                .service(
                    web::resource("/meetings/{meeting_id}")
                        .route(web::get().to(public_pages::meeting)),
                )
                .service(
                    web::resource("/agenda-items/{item_id}/comments")
                        .route(web::post().to(public_pages::submit_comment)),
                )
                .default_service(web::to(public_pages::not_found)),
        )
        .service(web::resource("/health/ready").route(web::get().to(health::ready)))
        .service(web::resource("/metrics").route(web::get().to(metrics::metrics_endpoint)))
        .service(
            web::resource("/.well-known/oauth-authorization-server")
                .route(web::get().to(oauth::metadata)),
        )
        .service(web::resource("/oauth/revoke").route(web::post().to(oauth::revoke)))
        .service(
            web::resource("/oauth/authorize")
                .route(web::get().to(oauth::authorize_page))
                .route(web::post().to(oauth::authorize_answer)),
        )
        .service(
            web::scope("/hsds")
                .service(web::resource("/").route(web::get().to(hsds::root)))
                .service(web::resource("/services").route(web::get().to(hsds::list_services)))
                .service(
                    web::resource("/services/{service_id}")
                        .route(web::get().to(hsds::find_service)),
                )
                .service(
                    web::resource("/organizations").route(web::get().to(hsds::list_organizations)),
                ),
        )
        .service(
            web::scope("/open311/v2")
                .service(
                    web::resource("/services.json").route(web::get().to(open311::list_services)),
                )
                .service(
                    web::resource("/services/{service_code}.json")
                        .route(web::get().to(open311::find_service)),
                )
                .service(
                    web::resource("/requests.json")
                        .route(web::get().to(open311::list_requests))
                        .route(web::post().to(open311::create_request)),
                )
                .service(
                    web::resource("/requests/{service_request_id}.json")
                        .route(web::get().to(open311::find_request)),
                )
                .default_service(web::to(open311::unmatched)),
        )
        .service(
            web::scope("/api/v1")
                .service(web::resource("/openapi.json").route(web::get().to(openapi_document)))
                .service(web::resource("/auth/token").route(web::post().to(access::issue_token)))
                .service(web::resource("/me").route(web::get().to(access::me)))
                .service(web::resource("/me/apps").route(web::get().to(apps::my_apps)))
                .service(
                    web::resource("/me/apps/{grant_id}")
                        .route(web::delete().to(apps::revoke_my_app)),
                )
                .service(
                    web::resource("/family-invitations")
                        .route(web::post().to(apps::create_invitation)),
                )
                .service(
                    web::resource("/family-invitations/accept")
                        .route(web::post().to(apps::accept_invitation)),
                )
                .service(
                    web::scope("/apps")
                        .service(
                            web::resource("")
                                .route(web::get().to(apps::list_apps))
                                .route(web::post().to(apps::create_app)),
                        )
                        .service(
                            web::resource("/{app_id}")
                                .route(web::get().to(apps::find_app))
                                .route(web::patch().to(apps::update_app)),
                        ),
                )
                .service(
                    web::resource("/grants")
                        .route(web::get().to(access::list_grants))
                        .route(web::post().to(access::create_grant)),
                )
                .service(
                    web::resource("/grants/{grant_id}")
                        .route(web::delete().to(access::delete_grant)),
                )
                .service(
                    web::resource("/audit-events").route(web::get().to(access::list_audit_events)),
                )
                .service(web::resource("/changes").route(web::get().to(changes::list_changes)))
                .service(web::resource("/changes/head").route(web::get().to(changes::feed_head)))
                .service(
                    web::scope("/imports")
                        .service(web::resource("").route(web::post().to(imports::create_import)))
                        .service(
                            web::resource("/{import_id}")
                                .route(web::get().to(imports::find_import)),
                        )
                        .service(
                            web::resource("/{import_id}/rows")
                                .route(web::get().to(imports::list_import_rows)),
                        ),
                )
                .service(
                    web::scope("/webhooks")
                        .service(
                            web::resource("")
                                .route(web::get().to(webhooks::list_webhooks))
                                .route(web::post().to(webhooks::create_webhook)),
                        )
                        .service(
                            web::resource("/{webhook_id}")
                                .route(web::get().to(webhooks::find_webhook))
                                .route(web::patch().to(webhooks::update_webhook))
                                .route(web::delete().to(webhooks::delete_webhook)),
                        )
                        .service(
                            web::resource("/{webhook_id}/secret")
                                .route(web::post().to(webhooks::rotate_webhook_secret)),
                        )
                        .service(
                            web::resource("/{webhook_id}/deliveries")
                                .route(web::get().to(webhooks::list_deliveries)),
                        )
                        .service(
                            web::resource("/{webhook_id}/deliveries/{delivery_id}/redeliver")
                                .route(web::post().to(webhooks::redeliver)),
                        ),
                )
                .service(
                    web::scope("/accounts")
                        .service(
                            web::resource("")
                                .route(web::get().to(accounts::list_accounts))
                                .route(web::post().to(accounts::create_account)),
                        )
                        .service(
                            web::resource("/{account_id}")
                                .route(web::get().to(accounts::find_account))
                                .route(web::patch().to(accounts::update_account)),
                        ),
                )
                .service(
                    web::scope("/api-clients")
                        .service(
                            web::resource("")
                                .route(web::get().to(accounts::list_api_clients))
                                .route(web::post().to(accounts::create_api_client)),
                        )
                        .service(
                            web::resource("/{api_client_id}")
                                .route(web::get().to(accounts::find_api_client))
                                .route(web::patch().to(accounts::update_api_client)),
                        )
                        .service(
                            web::resource("/{api_client_id}/secret")
                                .route(web::post().to(accounts::rotate_api_client_secret)),
                        ),
                )
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
                            web::resource("/{council_id}/archive")
                                .route(web::post().to(councils::archive_council))
                                .route(web::delete().to(councils::restore_council)),
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
                        )
                        .service(
                            web::resource("/{council_id}/agenda-items")
                                .route(web::get().to(agenda::council_items))
                                .route(web::post().to(agenda::propose_item)),
                        )
                        .service(
                            web::resource("/{council_id}/agenda-sources")
                                .route(web::get().to(participation::agenda_sources)),
                        )
                        .service(
                            web::resource("/{council_id}/meetings")
                                .route(web::get().to(meetings::list_meetings))
                                .route(web::post().to(meetings::create_meeting)),
                        )
                        .service(
                            web::resource("/{council_id}/meetings.ics")
                                .route(web::get().to(calendar::council_calendar)),
                        )
                        .service(
                            web::resource("/{council_id}/record")
                                .route(web::get().to(record::council_record)),
                        )
                        .service(
                            web::resource("/{council_id}/record/verification")
                                .route(web::get().to(record::verify_council_record)),
                        ),
                )
                .service(
                    web::resource("/meetings.ics")
                        .route(web::get().to(calendar::district_calendar)),
                )
                .service(
                    web::scope("/meetings")
                        .service(
                            web::resource("/{meeting_id}")
                                .route(web::get().to(meetings::find_meeting))
                                .route(web::patch().to(meetings::update_meeting)),
                        )
                        .service(
                            web::resource("/{meeting_id}/publish")
                                .route(web::post().to(meetings::publish_meeting)),
                        )
                        .service(
                            web::resource("/{meeting_id}/open")
                                .route(web::post().to(meetings::open_meeting)),
                        )
                        .service(
                            web::resource("/{meeting_id}/recess")
                                .route(web::post().to(meetings::recess_meeting)),
                        )
                        .service(
                            web::resource("/{meeting_id}/adjourn")
                                .route(web::post().to(meetings::adjourn_meeting)),
                        )
                        .service(
                            web::resource("/{meeting_id}/cancel")
                                .route(web::post().to(meetings::cancel_meeting)),
                        )
                        .service(
                            web::resource("/{meeting_id}/events")
                                .route(web::get().to(meetings::list_meeting_events)),
                        )
                        .service(
                            web::resource("/{meeting_id}/attendance")
                                .route(web::get().to(meetings::list_attendance))
                                .route(web::post().to(meetings::record_attendance)),
                        )
                        .service(
                            web::resource("/{meeting_id}/motions")
                                .route(web::get().to(motions::list_motions))
                                .route(web::post().to(motions::make_motion)),
                        )
                        .service(
                            web::resource("/{meeting_id}/findings")
                                .route(web::get().to(findings::meeting_findings)),
                        )
                        .service(
                            web::resource("/{meeting_id}/minutes")
                                .route(web::get().to(minutes::meeting_minutes))
                                .route(web::post().to(minutes::draft_minutes)),
                        )
                        .service(
                            web::resource("/{meeting_id}/emergency-vote")
                                .route(web::post().to(findings::emergency_vote)),
                        )
                        .service(
                            web::resource("/{meeting_id}/participants")
                                .route(web::get().to(assemblies::list_participants))
                                .route(web::post().to(assemblies::register_participant)),
                        )
                        .service(
                            web::resource("/{meeting_id}/check-ins")
                                .route(web::post().to(assemblies::check_in)),
                        )
                        .service(
                            web::resource("/{meeting_id}/assembly-quorum")
                                .route(web::get().to(assemblies::assembly_quorum)),
                        )
                        .service(
                            web::resource("/{meeting_id}/assembly-motions")
                                .route(web::post().to(assemblies::make_assembly_motion)),
                        )
                        .service(
                            web::resource("/{meeting_id}/quorum")
                                .route(web::get().to(meetings::meeting_quorum)),
                        )
                        .service(
                            web::resource("/{meeting_id}/agenda-items")
                                .route(web::get().to(agenda::meeting_agenda))
                                .route(web::post().to(agenda::add_item)),
                        )
                        .service(
                            web::resource("/{meeting_id}/amendments")
                                .route(web::get().to(agenda::list_amendments))
                                .route(web::post().to(agenda::amend_agenda)),
                        ),
                )
                .service(
                    web::scope("/minutes")
                        .service(
                            web::resource("/{minutes_id}")
                                .route(web::get().to(minutes::find_minutes))
                                .route(web::patch().to(minutes::update_minutes)),
                        )
                        .service(
                            web::resource("/{minutes_id}/corrections")
                                .route(web::post().to(minutes::correct_minutes)),
                        ),
                )
                .service(
                    web::scope("/motions")
                        .service(
                            web::resource("/{motion_id}")
                                .route(web::get().to(motions::find_motion)),
                        )
                        .service(
                            web::resource("/{motion_id}/votes")
                                .route(web::post().to(motions::cast_vote)),
                        )
                        .service(
                            web::resource("/{motion_id}/close")
                                .route(web::post().to(motions::close_motion)),
                        ),
                )
                .service(
                    web::scope("/agenda-items")
                        .service(
                            web::resource("/{item_id}").route(web::get().to(agenda::find_item)),
                        )
                        .service(
                            web::resource("/{item_id}/findings")
                                .route(web::get().to(findings::item_findings))
                                .route(web::post().to(findings::record_finding)),
                        )
                        .service(
                            web::resource("/{item_id}/accept")
                                .route(web::post().to(agenda::accept_item)),
                        )
                        .service(
                            web::resource("/{item_id}/decline")
                                .route(web::post().to(agenda::decline_item)),
                        )
                        .service(
                            web::resource("/{item_id}/move")
                                .route(web::post().to(agenda::move_item)),
                        )
                        .service(
                            web::resource("/{item_id}/comment/open")
                                .route(web::post().to(agenda::open_comment)),
                        )
                        .service(
                            web::resource("/{item_id}/comment/close")
                                .route(web::post().to(agenda::close_comment)),
                        )
                        .service(
                            web::resource("/{item_id}/comments")
                                .route(web::get().to(participation::list_comments))
                                .route(web::post().to(participation::create_comment)),
                        )
                        .service(
                            web::resource("/{item_id}/speakers")
                                .route(web::get().to(participation::list_speakers))
                                .route(web::post().to(participation::create_speaker)),
                        ),
                )
                .service(
                    web::scope("/assembly-motions")
                        .service(
                            web::resource("/{motion_id}")
                                .route(web::get().to(assemblies::find_assembly_motion)),
                        )
                        .service(
                            web::resource("/{motion_id}/votes")
                                .route(web::post().to(assemblies::cast_votes)),
                        )
                        .service(
                            web::resource("/{motion_id}/close")
                                .route(web::post().to(assemblies::close_assembly_motion)),
                        ),
                )
                .service(
                    web::scope("/public-comments").service(
                        web::resource("/{comment_id}/hide")
                            .route(web::post().to(participation::hide_comment)),
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
                        )
                        .service(
                            web::resource("/{person_id}/contact")
                                .route(web::delete().to(people::erase_contact)),
                        )
                        .service(
                            web::resource("/{person_id}/seats")
                                .route(web::get().to(people::list_person_seats)),
                        )
                        .service(
                            web::resource("/{person_id}/directory-preferences")
                                .route(web::get().to(people::find_directory_preferences))
                                .route(web::put().to(people::set_directory_preferences)),
                        ),
                )
                .service(
                    web::scope("/service-categories")
                        .service(
                            web::resource("")
                                .route(web::get().to(services::list_categories))
                                .route(web::post().to(services::create_category)),
                        )
                        .service(
                            web::resource("/{category_id}")
                                .route(web::get().to(services::find_category))
                                .route(web::patch().to(services::update_category)),
                        ),
                )
                .service(
                    web::scope("/partner-organizations")
                        .service(
                            web::resource("")
                                .route(web::get().to(services::list_partners))
                                .route(web::post().to(services::create_partner)),
                        )
                        .service(
                            web::resource("/{partner_id}")
                                .route(web::get().to(services::find_partner))
                                .route(web::patch().to(services::update_partner)),
                        )
                        .service(
                            web::resource("/{partner_id}/members")
                                .route(web::get().to(services::list_members))
                                .route(web::post().to(services::add_member)),
                        )
                        .service(
                            web::resource("/{partner_id}/members/{member_id}")
                                .route(web::delete().to(services::remove_member)),
                        ),
                )
                .service(
                    web::scope("/reports")
                        .service(
                            web::resource("/service-requests/status-counts")
                                .route(web::get().to(reports::service_request_status_counts)),
                        )
                        .service(
                            web::resource("/service-requests/durations")
                                .route(web::get().to(reports::service_request_durations)),
                        )
                        .service(
                            web::resource("/service-requests/backlog")
                                .route(web::get().to(reports::service_request_backlog)),
                        )
                        .service(
                            web::resource("/service-requests/overdue")
                                .route(web::get().to(reports::service_request_overdue)),
                        )
                        .service(
                            web::resource("/service-requests/partners")
                                .route(web::get().to(reports::service_request_partners)),
                        )
                        .service(
                            web::resource("/governance/seats")
                                .route(web::get().to(governance_reports::governance_seats)),
                        )
                        .service(
                            web::resource("/governance/attendance")
                                .route(web::get().to(governance_reports::governance_attendance)),
                        )
                        .service(
                            web::resource("/governance/agenda-sources").route(
                                web::get().to(governance_reports::governance_agenda_sources),
                            ),
                        )
                        .service(
                            web::resource("/governance/motions")
                                .route(web::get().to(governance_reports::governance_motions)),
                        )
                        .service(
                            web::resource("/governance/notices")
                                .route(web::get().to(governance_reports::governance_notices)),
                        )
                        .service(
                            web::resource("/governance/comments")
                                .route(web::get().to(governance_reports::governance_comments)),
                        ),
                )
                .service(
                    web::scope("/service-requests")
                        .service(
                            web::resource("")
                                .route(web::get().to(services::list_requests))
                                .route(web::post().to(services::create_request)),
                        )
                        .service(
                            web::resource("/counts").route(web::get().to(services::count_requests)),
                        )
                        .service(
                            web::resource("/export")
                                .route(web::get().to(services::export_requests)),
                        )
                        .service(
                            web::resource("/anonymise")
                                .route(web::post().to(services::anonymise_requests)),
                        )
                        .service(
                            web::resource("/{request_id}")
                                .route(web::get().to(services::find_request)),
                        )
                        .service(
                            web::resource("/{request_id}/notes")
                                .route(web::get().to(services::list_notes))
                                .route(web::post().to(services::add_note)),
                        )
                        .service(
                            web::resource("/{request_id}/consents")
                                .route(web::get().to(services::list_consents))
                                .route(web::post().to(services::give_consent)),
                        )
                        .service(
                            web::resource("/{request_id}/consents/{consent_id}/withdraw")
                                .route(web::post().to(services::withdraw_consent)),
                        )
                        .service(
                            web::resource("/{request_id}/disclosures")
                                .route(web::get().to(services::list_disclosures)),
                        )
                        .service(
                            web::resource("/{request_id}/exceptions")
                                .route(web::get().to(services::list_exceptions))
                                .route(web::post().to(services::record_exception)),
                        )
                        .service(
                            web::resource("/{request_id}/triage")
                                .route(web::post().to(services::triage_request)),
                        )
                        .service(
                            web::resource("/{request_id}/refer")
                                .route(web::post().to(services::refer_request)),
                        )
                        .service(
                            web::resource("/{request_id}/accept")
                                .route(web::post().to(services::accept_request)),
                        )
                        .service(
                            web::resource("/{request_id}/reject")
                                .route(web::post().to(services::reject_request)),
                        )
                        .service(
                            web::resource("/{request_id}/start")
                                .route(web::post().to(services::start_request)),
                        )
                        .service(
                            web::resource("/{request_id}/complete")
                                .route(web::post().to(services::complete_request)),
                        )
                        .service(
                            web::resource("/{request_id}/decline")
                                .route(web::post().to(services::decline_request)),
                        )
                        .service(
                            web::resource("/{request_id}/withdraw")
                                .route(web::post().to(services::withdraw_request)),
                        )
                        .service(
                            web::resource("/{request_id}/cancel")
                                .route(web::post().to(services::cancel_request)),
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
                        )
                        .service(
                            web::resource("/{school_id}/meetings.ics")
                                .route(web::get().to(calendar::school_calendar)),
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

/// Who may call each operation, as `(method, path, who)`. [`AccessDoc`] writes it into the
/// document; a test checks that every operation has an entry.
pub const ACCESS: &[(&str, &str, &str)] = &[
    ("get", "/health/live", "anyone"),
    ("get", "/health/ready", "anyone"),
    ("get", "/metrics", "anyone on the same host, or a scraper with the configured metrics token (others get 404)"),
    ("get", "/hsds/", "anyone"),
    ("get", "/hsds/services", "anyone"),
    ("get", "/hsds/services/{service_id}", "anyone"),
    ("get", "/hsds/organizations", "anyone"),
    ("get", "/open311/v2/services.json", "anyone"),
    ("get", "/open311/v2/services/{service_code}.json", "anyone"),
    ("get", "/open311/v2/requests.json", "any signed-in caller (only the requests the caller plays a part for; anonymous callers get 403)"),
    ("post", "/open311/v2/requests.json", "family (for themselves); district_admin, council_staff of a council of the school (anonymous callers get 403)"),
    ("get", "/open311/v2/requests/{service_request_id}.json", "the family that owns it; district_admin and council_staff of a council of its school; the partner it is referred to while a consent is in force (others get 404, anonymous callers 403)"),
    ("post", "/api/v1/auth/token", "anyone (with credentials)"),
    ("get", "/api/v1/me", "any signed-in caller"),
    ("get", "/api/v1/me/apps", "any signed-in person (their own apps; never an app)"),
    ("delete", "/api/v1/me/apps/{grant_id}", "any signed-in person (their own apps; never an app; others' grants are 404)"),
    ("post", "/api/v1/family-invitations", "district_admin, council_staff"),
    ("post", "/api/v1/family-invitations/accept", "anyone (with an invitation code)"),
    ("get", "/api/v1/apps", "district_admin"),
    ("post", "/api/v1/apps", "district_admin (active at once); any other signed-in person submits it for approval"),
    ("get", "/api/v1/apps/{app_id}", "district_admin"),
    ("patch", "/api/v1/apps/{app_id}", "district_admin"),
    ("get", "/.well-known/oauth-authorization-server", "anyone"),
    ("post", "/oauth/revoke", "anyone (an app, with its client credentials)"),
    ("get", "/api/v1/grants", "district_admin"),
    ("post", "/api/v1/grants", "district_admin"),
    ("delete", "/api/v1/grants/{grant_id}", "district_admin"),
    ("get", "/api/v1/audit-events", "district_admin"),
    ("get", "/api/v1/reports/service-requests/status-counts", "district_admin; council_staff (the schools of their councils; another school is 403); never an app acting for a family"),
    ("get", "/api/v1/reports/service-requests/durations", "district_admin; council_staff (the schools of their councils; another school is 403); never an app acting for a family"),
    ("get", "/api/v1/reports/service-requests/backlog", "district_admin; council_staff (the schools of their councils; another school is 403); never an app acting for a family"),
    ("get", "/api/v1/reports/service-requests/overdue", "district_admin; council_staff (the schools of their councils; another school is 403); never an app acting for a family"),
    ("get", "/api/v1/reports/service-requests/partners", "district_admin; council_staff (the schools of their councils; another school is 403); never an app acting for a family"),
    ("get", "/api/v1/reports/governance/seats", "district_admin; council_staff (the councils of their schools; another school is 403); never an app acting for a family"),
    ("get", "/api/v1/reports/governance/attendance", "district_admin; council_staff (the councils of their schools; another school is 403); never an app acting for a family"),
    ("get", "/api/v1/reports/governance/agenda-sources", "district_admin; council_staff (the councils of their schools; another school is 403); never an app acting for a family"),
    ("get", "/api/v1/reports/governance/motions", "district_admin; council_staff (the councils of their schools; another school is 403); never an app acting for a family"),
    ("get", "/api/v1/reports/governance/notices", "district_admin; council_staff (the councils of their schools; another school is 403); never an app acting for a family"),
    ("get", "/api/v1/reports/governance/comments", "district_admin; council_staff (the councils of their schools; another school is 403); never an app acting for a family"),
    ("get", "/api/v1/changes", "anyone (district_admin also sees changes to people, accounts, API clients and grants)"),
    ("get", "/api/v1/changes/head", "anyone"),
    ("get", "/api/v1/councils/{council_id}/meetings.ics", "anyone (published meetings only)"),
    ("get", "/api/v1/schools/{school_id}/meetings.ics", "anyone (published meetings only)"),
    ("get", "/api/v1/meetings.ics", "anyone (published meetings only)"),
    ("get", "/api/v1/councils/{council_id}/record", "anyone"),
    ("get", "/api/v1/councils/{council_id}/record/verification", "anyone"),
    ("post", "/api/v1/imports", "district_admin"),
    ("get", "/api/v1/imports/{import_id}", "district_admin"),
    ("get", "/api/v1/imports/{import_id}/rows", "district_admin"),
    ("get", "/api/v1/webhooks", "district_admin"),
    ("post", "/api/v1/webhooks", "district_admin"),
    ("get", "/api/v1/webhooks/{webhook_id}", "district_admin"),
    ("patch", "/api/v1/webhooks/{webhook_id}", "district_admin"),
    ("delete", "/api/v1/webhooks/{webhook_id}", "district_admin"),
    ("post", "/api/v1/webhooks/{webhook_id}/secret", "district_admin"),
    ("get", "/api/v1/webhooks/{webhook_id}/deliveries", "district_admin"),
    ("post", "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", "district_admin"),
    ("get", "/api/v1/accounts", "district_admin"),
    ("post", "/api/v1/accounts", "district_admin"),
    ("get", "/api/v1/accounts/{account_id}", "district_admin"),
    ("patch", "/api/v1/accounts/{account_id}", "district_admin"),
    ("get", "/api/v1/api-clients", "district_admin"),
    ("post", "/api/v1/api-clients", "district_admin"),
    ("get", "/api/v1/api-clients/{api_client_id}", "district_admin"),
    ("patch", "/api/v1/api-clients/{api_client_id}", "district_admin"),
    ("post", "/api/v1/api-clients/{api_client_id}/secret", "district_admin"),
    ("get", "/api/v1/schools", "anyone"),
    ("post", "/api/v1/schools", "district_admin"),
    ("get", "/api/v1/schools/{school_id}", "anyone"),
    ("patch", "/api/v1/schools/{school_id}", "district_admin"),
    ("delete", "/api/v1/schools/{school_id}", "district_admin"),
    ("get", "/api/v1/people", "district_admin; council_staff (only the people they added and those seated now on their councils)"),
    ("post", "/api/v1/people", "district_admin, council_staff"),
    ("get", "/api/v1/people/{person_id}", "district_admin; the person; council_staff who added the person or of a council the person sits on now; fellow members of a council the person sits on (others get 404)"),
    ("patch", "/api/v1/people/{person_id}", "district_admin; the person; council_staff who added the person or of a council the person sits on now"),
    ("delete", "/api/v1/people/{person_id}", "district_admin"),
    ("get", "/api/v1/people/{person_id}/directory-preferences", "district_admin; the person; council_staff who added the person or of a council the person sits on now (fellow members get 403; others get 404)"),
    ("put", "/api/v1/people/{person_id}/directory-preferences", "district_admin; the person; council_staff who added the person or of a council the person sits on now (homeless_youth: not the person); fellow members get 403; others get 404"),
    ("delete", "/api/v1/people/{person_id}/contact", "district_admin"),
    ("get", "/api/v1/people/{person_id}/seats", "whoever may read the person (others get 404)"),
    ("get", "/api/v1/councils", "anyone"),
    ("post", "/api/v1/councils", "district_admin"),
    ("get", "/api/v1/councils/{council_id}", "anyone"),
    ("patch", "/api/v1/councils/{council_id}", "district_admin, council_staff of this council"),
    ("delete", "/api/v1/councils/{council_id}", "district_admin"),
    ("post", "/api/v1/councils/{council_id}/archive", "district_admin"),
    ("delete", "/api/v1/councils/{council_id}/archive", "district_admin"),
    ("get", "/api/v1/councils/{council_id}/composition", "anyone"),
    ("get", "/api/v1/councils/{council_id}/rule-overrides", "anyone"),
    ("get", "/api/v1/councils/{council_id}/seats", "anyone"),
    ("post", "/api/v1/councils/{council_id}/seats", "district_admin, council_staff of this council"),
    ("get", "/api/v1/seats/{seat_id}", "anyone"),
    ("patch", "/api/v1/seats/{seat_id}", "district_admin, council_staff of the seat's council"),
    ("delete", "/api/v1/seats/{seat_id}", "district_admin, council_staff of the seat's council"),
    ("put", "/api/v1/seats/{seat_id}/holder", "district_admin, council_staff of the seat's council"),
    ("delete", "/api/v1/seats/{seat_id}/holder", "district_admin, council_staff of the seat's council"),
    ("get", "/api/v1/seats/{seat_id}/holdings", "anyone"),
    ("get", "/api/v1/service-categories", "anyone"),
    ("post", "/api/v1/service-categories", "district_admin"),
    ("get", "/api/v1/service-categories/{category_id}", "anyone"),
    ("patch", "/api/v1/service-categories/{category_id}", "district_admin"),
    ("get", "/api/v1/partner-organizations", "anyone"),
    ("post", "/api/v1/partner-organizations", "district_admin"),
    ("get", "/api/v1/partner-organizations/{partner_id}", "anyone"),
    ("patch", "/api/v1/partner-organizations/{partner_id}", "district_admin"),
    ("get", "/api/v1/partner-organizations/{partner_id}/members", "district_admin"),
    ("post", "/api/v1/partner-organizations/{partner_id}/members", "district_admin"),
    ("delete", "/api/v1/partner-organizations/{partner_id}/members/{member_id}", "district_admin"),
    ("get", "/api/v1/service-requests", "any signed-in caller (the list holds only the requests the caller plays a part for)"),
    ("post", "/api/v1/service-requests", "family (for themselves); district_admin, council_staff of a council of the school (for a family)"),
    ("get", "/api/v1/service-requests/counts", "any signed-in caller (counts only the requests the caller plays a part for)"),
    ("post", "/api/v1/service-requests/anonymise", "district_admin"),
    ("get", "/api/v1/service-requests/export", "family (their own requests)"),
    ("get", "/api/v1/service-requests/{request_id}", "the family that owns it (the parent while the student is a minor, the linked student from 18); district_admin and council_staff of a council of its school; members of the partner it is referred to while a consent is in force (others get 404)"),
    ("post", "/api/v1/service-requests/{request_id}/triage", "district_admin, council_staff of a council of its school (others get 404)"),
    ("post", "/api/v1/service-requests/{request_id}/refer", "district_admin, council_staff of a council of its school (others get 404)"),
    ("post", "/api/v1/service-requests/{request_id}/accept", "members of the partner it is referred to (others get 404)"),
    ("post", "/api/v1/service-requests/{request_id}/reject", "members of the partner it is referred to (others get 404)"),
    ("post", "/api/v1/service-requests/{request_id}/start", "members of the partner it is referred to (others get 404)"),
    ("post", "/api/v1/service-requests/{request_id}/complete", "members of the partner it is referred to (others get 404)"),
    ("post", "/api/v1/service-requests/{request_id}/decline", "members of the partner it is referred to (others get 404)"),
    ("post", "/api/v1/service-requests/{request_id}/withdraw", "the family that owns it (others get 404)"),
    ("post", "/api/v1/service-requests/{request_id}/cancel", "district_admin, council_staff of a council of its school (others get 404)"),
    ("get", "/api/v1/service-requests/{request_id}/notes", "whoever may read the request, each seeing the notes their part may read (others get 404)"),
    ("post", "/api/v1/service-requests/{request_id}/notes", "whoever may read the request: families write family notes, partners family or partner notes, staff any (others get 404)"),
    ("get", "/api/v1/service-requests/{request_id}/exceptions", "the family that owns it; staff of its school (others get 404)"),
    ("post", "/api/v1/service-requests/{request_id}/exceptions", "district_admin, council_staff of a council of its school (the family gets 403; others get 404)"),
    ("get", "/api/v1/service-requests/{request_id}/consents", "the family that owns it; staff of its school (others get 404)"),
    ("post", "/api/v1/service-requests/{request_id}/consents", "the family that owns it; staff of its school (others get 404)"),
    ("post", "/api/v1/service-requests/{request_id}/consents/{consent_id}/withdraw", "the family that owns it; staff of its school (others get 404)"),
    ("get", "/api/v1/service-requests/{request_id}/disclosures", "the family that owns it; staff of its school (others get 404)"),
    ("get", "/api/v1/councils/{council_id}/meetings", "anyone (meetings never published: district_admin, council_staff of this council only)"),
    ("post", "/api/v1/councils/{council_id}/meetings", "district_admin, council_staff of this council"),
    ("get", "/api/v1/meetings/{meeting_id}", "anyone once its notice is published; before that district_admin, council_staff of its council (others get 404)"),
    ("patch", "/api/v1/meetings/{meeting_id}", "district_admin, council_staff of the meeting's council"),
    ("post", "/api/v1/meetings/{meeting_id}/publish", "district_admin, council_staff of the meeting's council"),
    ("post", "/api/v1/meetings/{meeting_id}/open", "district_admin, council_staff of the meeting's council"),
    ("post", "/api/v1/meetings/{meeting_id}/recess", "district_admin, council_staff of the meeting's council"),
    ("post", "/api/v1/meetings/{meeting_id}/adjourn", "district_admin, council_staff of the meeting's council"),
    ("post", "/api/v1/meetings/{meeting_id}/cancel", "district_admin, council_staff of the meeting's council"),
    ("get", "/api/v1/meetings/{meeting_id}/events", "whoever may read the meeting (others get 404)"),
    ("get", "/api/v1/meetings/{meeting_id}/attendance", "whoever may read the meeting (others get 404)"),
    ("post", "/api/v1/meetings/{meeting_id}/attendance", "district_admin, council_staff of the meeting's council"),
    ("get", "/api/v1/meetings/{meeting_id}/motions", "whoever may read the meeting (others get 404)"),
    ("post", "/api/v1/meetings/{meeting_id}/motions", "district_admin, council_staff of the meeting's council"),
    ("get", "/api/v1/motions/{motion_id}", "whoever may read its meeting (others get 404)"),
    ("post", "/api/v1/motions/{motion_id}/votes", "district_admin, council_staff of the meeting's council (the clerk records the roll call)"),
    ("post", "/api/v1/motions/{motion_id}/close", "district_admin, council_staff of the meeting's council"),
    ("get", "/api/v1/agenda-items/{item_id}/findings", "whoever may read the item's meeting (others get 404)"),
    ("post", "/api/v1/agenda-items/{item_id}/findings", "district_admin, council_staff of the meeting's council (the clerk records the roll call)"),
    ("post", "/api/v1/meetings/{meeting_id}/emergency-vote", "district_admin, council_staff of the meeting's council (the clerk records the roll call)"),
    ("get", "/api/v1/meetings/{meeting_id}/findings", "whoever may read the meeting (others get 404)"),
    ("post", "/api/v1/meetings/{meeting_id}/minutes", "district_admin, council_staff of the meeting's council"),
    ("get", "/api/v1/meetings/{meeting_id}/minutes", "anyone once approved; a draft district_admin, council_staff of the meeting's council (others get 404)"),
    ("get", "/api/v1/minutes/{minutes_id}", "anyone once approved; a draft district_admin, council_staff of the meeting's council (others get 404)"),
    ("patch", "/api/v1/minutes/{minutes_id}", "district_admin, council_staff of the meeting's council (drafts only)"),
    ("post", "/api/v1/minutes/{minutes_id}/corrections", "district_admin, council_staff of the meeting's council (approved minutes only)"),
    ("get", "/api/v1/meetings/{meeting_id}/quorum", "whoever may read the meeting (others get 404)"),
    ("get", "/api/v1/meetings/{meeting_id}/agenda-items", "whoever may read the meeting (others get 404)"),
    ("post", "/api/v1/meetings/{meeting_id}/agenda-items", "district_admin, council_staff of the meeting's council"),
    ("get", "/api/v1/meetings/{meeting_id}/amendments", "whoever may read the meeting (others get 404)"),
    ("post", "/api/v1/meetings/{meeting_id}/amendments", "district_admin, council_staff of the meeting's council"),
    ("get", "/api/v1/councils/{council_id}/agenda-items", "district_admin, council_staff of this council (every item); any other signed-in caller (the items they proposed)"),
    ("post", "/api/v1/councils/{council_id}/agenda-items", "district_admin, council_staff of this council, holders of a seat on it"),
    ("get", "/api/v1/agenda-items/{item_id}", "on a meeting: whoever may read the meeting; a proposal: district_admin, council_staff of its council, its proposer (others get 404)"),
    ("post", "/api/v1/agenda-items/{item_id}/accept", "district_admin, council_staff of the item's council"),
    ("post", "/api/v1/agenda-items/{item_id}/decline", "district_admin, council_staff of the item's council"),
    ("post", "/api/v1/agenda-items/{item_id}/move", "district_admin, council_staff of the item's council"),
    ("post", "/api/v1/agenda-items/{item_id}/comment/open", "district_admin, council_staff of the item's council"),
    ("post", "/api/v1/agenda-items/{item_id}/comment/close", "district_admin, council_staff of the item's council"),
    ("post", "/api/v1/agenda-items/{item_id}/comments", "anyone, without a token or a name, on an item of a published meeting (others get 404)"),
    ("get", "/api/v1/agenda-items/{item_id}/comments", "anyone, on an item of a published meeting (district_admin, council_staff of its council also see hidden text and emails; others get 404)"),
    ("post", "/api/v1/meetings/{meeting_id}/participants", "district_admin, council_staff of the meeting's council"),
    ("get", "/api/v1/meetings/{meeting_id}/participants", "district_admin, council_staff of the meeting's council"),
    ("post", "/api/v1/meetings/{meeting_id}/check-ins", "district_admin, council_staff of the meeting's council"),
    ("get", "/api/v1/meetings/{meeting_id}/assembly-quorum", "anyone, once its notice is published (before that district_admin, council_staff of its council; others get 404)"),
    ("post", "/api/v1/meetings/{meeting_id}/assembly-motions", "district_admin, council_staff of the meeting's council"),
    ("get", "/api/v1/assembly-motions/{motion_id}", "anyone who may read its meeting (others get 404)"),
    ("post", "/api/v1/assembly-motions/{motion_id}/votes", "district_admin, council_staff of the meeting's council (the clerk records the votes)"),
    ("post", "/api/v1/assembly-motions/{motion_id}/close", "district_admin, council_staff of the meeting's council"),
    ("get", "/api/v1/councils/{council_id}/agenda-sources", "anyone"),
    ("post", "/api/v1/public-comments/{comment_id}/hide", "district_admin, council_staff of the meeting's council"),
    ("post", "/api/v1/agenda-items/{item_id}/speakers", "district_admin, council_staff of the item's council"),
    ("get", "/api/v1/agenda-items/{item_id}/speakers", "anyone, on an item of a published meeting (others get 404)"),
];

/// Declares the bearer scheme and writes who may call each operation into its description and
/// its `security` (public operations accept calls with or without a token).
pub struct AccessDoc;

impl utoipa::Modify for AccessDoc {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            AuthorizationCode, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes,
            SecurityRequirement, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("A token from POST /api/v1/auth/token, or from the district's identity provider (docs/AUTH.md)."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "oauth2",
            SecurityScheme::OAuth2(OAuth2::with_description(
                [Flow::AuthorizationCode(AuthorizationCode::new(
                    "/oauth/authorize",
                    "/api/v1/auth/token",
                    Scopes::from_iter([
                        ("service_requests:read", "Read the family's service requests, their notes, consents and disclosures"),
                        ("service_requests:write", "File service requests for the family, add notes, give and withdraw consents"),
                        ("public:read", "Read public records (schools, councils, meetings) for the family"),
                    ]),
                ))],
                "Third-party apps acting for a family: authorization code with PKCE (S256 only), refresh tokens that rotate. An app never does more than the family could, nor more than its scopes allow (docs/APPS.md).",
            )),
        );
        for (path, item) in openapi.paths.paths.iter_mut() {
            let ops = [
                ("get", item.get.as_mut()),
                ("post", item.post.as_mut()),
                ("put", item.put.as_mut()),
                ("patch", item.patch.as_mut()),
                ("delete", item.delete.as_mut()),
            ];
            for (method, op) in ops {
                let Some(op) = op else { continue };
                let Some((_, _, who)) = ACCESS.iter().find(|(m, p, _)| *m == method && p == path)
                else {
                    continue;
                };
                let line = format!("**Who may call:** {who}.");
                op.description = Some(match op.description.take() {
                    Some(d) if !d.is_empty() => format!("{d}\n\n{line}"),
                    _ => line,
                });
                let mut security = vec![SecurityRequirement::new("bearer", Vec::<String>::new())];
                if path.starts_with("/api/v1/service-requests") {
                    let scope = if method == "get" {
                        "service_requests:read"
                    } else {
                        "service_requests:write"
                    };
                    security.push(SecurityRequirement::new("oauth2", [scope]));
                }
                if who.starts_with("anyone") {
                    security.insert(0, SecurityRequirement::default());
                }
                op.security = Some(security);
            }
        }
    }
}
