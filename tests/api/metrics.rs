//! `/metrics`: request durations by route template (never by raw path), pools and the writer;
//! closed to callers from elsewhere unless they send the configured token.

use actix_web::test::TestRequest;
use serde_json::json;

use crate::common::{id, TestApp};

#[actix_web::test]
async fn metrics_name_routes_not_paths() {
    let app = TestApp::new().await;
    let council = app
        .council(json!({"kind": "assembly", "name": "Measured"}))
        .await;
    app.get(&format!("/api/v1/councils/{}", id(&council)))
        .await
        .expect(200);
    let person = app.person("Measured Person").await;
    app.get(&format!("/api/v1/people/{}", id(&person)))
        .await
        .expect(200);

    let reply = app.send(TestRequest::get().uri("/metrics")).await;
    assert_eq!(reply.status, 200);
    assert!(reply
        .header("content-type")
        .unwrap()
        .starts_with("text/plain"));
    let text = String::from_utf8(reply.body.clone()).unwrap();
    assert!(
        text.contains(
            "http_server_request_duration_seconds_bucket{http_request_method=\"GET\",http_response_status_code=\"200\",http_route=\"/api/v1/councils/{council_id}\",le=\"0.005\"}"
        ),
        "{text}"
    );
    assert!(text.contains("http_server_active_requests"));
    assert!(text.contains("cogov_db_pool_connections{pool=\"read\",state=\"idle\"}"));
    assert!(text.contains("cogov_db_writer_queue_writes"));
    // No label carries an id, an email or a name.
    for secret in [id(&council), id(&person), "Measured Person".to_owned()] {
        assert!(!text.contains(&secret), "{secret} leaked into a label");
    }
    assert!(!text.contains('@'));
}

#[actix_web::test]
async fn metrics_are_closed_to_other_hosts_without_the_token() {
    let app =
        TestApp::with_protection(|p| p.metrics_token = Some("scrape-secret".to_owned())).await;
    let remote: std::net::SocketAddr = "203.0.113.9:40000".parse().unwrap();
    app.send(TestRequest::get().uri("/metrics").peer_addr(remote))
        .await
        .expect(404);
    app.send(
        TestRequest::get()
            .uri("/metrics")
            .peer_addr(remote)
            .insert_header(("Authorization", "Bearer wrong-secret")),
    )
    .await
    .expect(404);
    let ok = app
        .send(
            TestRequest::get()
                .uri("/metrics")
                .peer_addr(remote)
                .insert_header(("Authorization", "Bearer scrape-secret")),
        )
        .await;
    assert_eq!(ok.status, 200);

    // Without a token configured, only callers on the same host.
    let open = TestApp::new().await;
    open.send(TestRequest::get().uri("/metrics").peer_addr(remote))
        .await
        .expect(404);
    let local: std::net::SocketAddr = "127.0.0.1:40000".parse().unwrap();
    assert_eq!(
        open.send(TestRequest::get().uri("/metrics").peer_addr(local))
            .await
            .status,
        200
    );
}
