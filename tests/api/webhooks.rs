//! Webhooks: subscriptions, signed delivery from the change log, retries through a receiver
//! that fails, two instances sharing the work, automatic disable, and the SSRF guard. The
//! receiver here is a small HTTP server on loopback that checks signatures with its own
//! implementation of the Standard Webhooks scheme.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::test::TestRequest;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use cogov::delivery::{DeliveryOptions, Worker};
use cogov::domain::webhooks::{AddressPolicy, Network};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::common::{id, version_tag, TestApp};

fn loopback_policy() -> AddressPolicy {
    AddressPolicy {
        allow_http: true,
        allowed_networks: vec![Network::parse("127.0.0.0/8").unwrap()],
    }
}

fn options(schedule_ms: &[u64]) -> DeliveryOptions {
    DeliveryOptions {
        addresses: loopback_policy(),
        retry_schedule: schedule_ms
            .iter()
            .map(|ms| Duration::from_millis(*ms))
            .collect(),
        connect_timeout: Duration::from_secs(1),
        timeout: Duration::from_secs(2),
        poll_interval: Duration::from_millis(30),
        lease: Duration::from_secs(10),
    }
}

async fn app() -> TestApp {
    TestApp::with_protection(|p| p.webhook_addresses = loopback_policy()).await
}

/// HMAC-SHA256 built from SHA-256 directly (RFC 2104), independent of the code under test.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.iter().map(|b| b ^ 0x36).collect::<Vec<_>>());
    inner.update(message);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(block.iter().map(|b| b ^ 0x5c).collect::<Vec<_>>());
    outer.update(inner);
    outer.finalize().into()
}

/// The receiver's check: some `v1,` signature in the header matches, compared in constant time,
/// and the timestamp is within five minutes.
fn verify(secret: &str, id: &str, timestamp: &str, body: &[u8], header: &str) -> bool {
    let key = STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .unwrap();
    let ts: i64 = timestamp.parse().unwrap();
    if (chrono::Utc::now().timestamp() - ts).abs() > 300 {
        return false;
    }
    let mut signed = format!("{id}.{timestamp}.").into_bytes();
    signed.extend_from_slice(body);
    let expected = STANDARD.encode(hmac_sha256(&key, &signed));
    header.split(' ').any(|sig| {
        let Some(value) = sig.strip_prefix("v1,") else {
            return false;
        };
        value.len() == expected.len()
            && value
                .bytes()
                .zip(expected.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    })
}

/// What the receiver does with the next request.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Answer {
    Ok,
    /// Processes the event, then fails before answering (a crash after the work).
    ProcessThen500,
    /// Answers 500 without processing.
    Error,
    /// Closes the connection without answering (a crash mid-request).
    Hangup,
    Gone,
}

#[derive(Default)]
struct Seen {
    /// Every request: (webhook-id, body), in arrival order.
    requests: Vec<(String, Value)>,
    /// Every `webhook-signature` header, in arrival order.
    signatures: Vec<String>,
    /// Events processed once each (deduplicated by webhook-id), in order.
    processed: Vec<(String, Value)>,
    processed_ids: HashSet<String>,
    bad_signatures: usize,
    /// Answers to give, in order; then `Ok`.
    script: Vec<Answer>,
    always: Option<Answer>,
    secrets: Vec<String>,
}

#[derive(Clone)]
struct Receiver {
    url: String,
    seen: Arc<Mutex<Seen>>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Seen::default()));
        let shared = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let shared = shared.clone();
                std::thread::spawn(move || serve(stream, shared));
            }
        });
        Receiver { url, seen }
    }

    fn set_secrets(&self, secrets: &[&str]) {
        self.seen.lock().unwrap().secrets = secrets.iter().map(|s| (*s).to_owned()).collect();
    }

    fn processed(&self) -> Vec<(String, Value)> {
        self.seen.lock().unwrap().processed.clone()
    }
}

fn serve(stream: std::net::TcpStream, seen: Arc<Mutex<Seen>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut stream = stream;
    loop {
        let mut headers = HashMap::new();
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let answer = {
            let mut s = seen.lock().unwrap();
            let wid = headers.get("webhook-id").cloned().unwrap_or_default();
            let good = s.secrets.iter().any(|secret| {
                verify(
                    secret,
                    &wid,
                    headers.get("webhook-timestamp").map_or("0", |v| v),
                    &body,
                    headers.get("webhook-signature").map_or("", |v| v),
                )
            });
            if !good {
                s.bad_signatures += 1;
            }
            let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            s.requests.push((wid.clone(), value.clone()));
            s.signatures.push(
                headers
                    .get("webhook-signature")
                    .cloned()
                    .unwrap_or_default(),
            );
            let answer = if s.script.is_empty() {
                s.always.unwrap_or(Answer::Ok)
            } else {
                s.script.remove(0)
            };
            if good
                && matches!(answer, Answer::Ok | Answer::ProcessThen500)
                && s.processed_ids.insert(wid.clone())
            {
                s.processed.push((wid, value));
            }
            answer
        };
        let reply: &[u8] = match answer {
            Answer::Ok => b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n",
            Answer::ProcessThen500 | Answer::Error => {
                b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n"
            }
            Answer::Gone => b"HTTP/1.1 410 Gone\r\ncontent-length: 0\r\n\r\n",
            Answer::Hangup => {
                let _ = stream.shutdown(std::net::Shutdown::Both);
                return;
            }
        };
        if stream.write_all(reply).is_err() {
            return;
        }
    }
}

async fn subscribe(app: &TestApp, receiver: &Receiver, types: &[&str]) -> Value {
    let hook = app
        .post(
            "/api/v1/webhooks",
            json!({"url": receiver.url, "event_types": types, "description": "Sync / Sincronización"}),
        )
        .await
        .expect(201);
    receiver.set_secrets(&[hook["secret"].as_str().unwrap()]);
    hook
}

/// Waits until `done` holds (checked every 20 ms), at most `limit`. The limits are generous: on
/// PostgreSQL another test's open transaction holds back the change log's safe horizon for the
/// whole server, and deliveries wait for it.
async fn wait_for(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return true;
        }
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    done()
}

async fn schools(app: &TestApp, prefix: &str, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(id(&app.school(&format!("{prefix}{i}")).await));
    }
    ids
}

#[actix_web::test]
async fn subscriptions_show_their_secret_once_and_refuse_bad_fields() {
    let app = app().await;
    let receiver = Receiver::start();
    let hook = subscribe(&app, &receiver, &["council.*", "seat.updated"]).await;
    let secret = hook["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(STANDARD.decode(&secret[6..]).unwrap().len(), 32);
    assert_eq!(hook["active"], true);
    assert_eq!(hook["event_types"], json!(["council.*", "seat.updated"]));
    let path = format!("/api/v1/webhooks/{}", id(&hook));
    let read = app.get(&path).await;
    let body = read.expect(200);
    assert!(body.get("secret").is_none(), "{body}");
    assert_eq!(read.header("cache-control").as_deref(), Some("no-store"));
    let list = app.get("/api/v1/webhooks").await.expect(200);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert!(list["items"][0].get("secret").is_none());

    // Bad fields are 422 naming the field.
    let bad = app
        .post(
            "/api/v1/webhooks",
            json!({"url": receiver.url, "event_types": ["Council"]}),
        )
        .await
        .expect(422);
    assert_eq!(bad["errors"][0]["field"], "event_types[0]");
    let bad = app
        .post(
            "/api/v1/webhooks",
            json!({"url": receiver.url, "event_types": []}),
        )
        .await
        .expect(422);
    assert_eq!(bad["errors"][0]["field"], "event_types");
    let bad = app
        .post(
            "/api/v1/webhooks",
            json!({"url": "not a url", "event_types": ["*"]}),
        )
        .await
        .expect(422);
    assert_eq!(bad["errors"][0]["field"], "url");
    let bad = app
        .post(
            "/api/v1/webhooks",
            json!({"url": "https://user:pw@93.184.215.14/", "event_types": ["*"]}),
        )
        .await
        .expect(422);
    assert_eq!(bad["errors"][0]["field"], "url");

    // Disable and enable again; the reason shows while disabled.
    let off = app
        .patch(&path, &version_tag(&body), json!({"active": false}))
        .await
        .expect(200);
    assert_eq!(off["active"], false);
    assert!(off["disabled_reason"].as_str().is_some());
    let on = app
        .patch(&path, &version_tag(&off), json!({"active": true}))
        .await
        .expect(200);
    assert_eq!(on["disabled_reason"], Value::Null);
    app.patch(&path, &version_tag(&body), json!({"active": false}))
        .await
        .expect(412);

    // Rotation: a new secret, shown once; the previous one still signs for a while.
    let rotated = app
        .send_admin(TestRequest::post().uri(&format!("{path}/secret")))
        .await
        .expect(200);
    let new_secret = rotated["secret"].as_str().unwrap();
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);
    assert!(rotated["previous_secret_valid_until"].as_str().is_some());

    app.delete(&path, &version_tag(&rotated)).await.expect(204);
    app.get(&path).await.expect(404);
}

#[actix_web::test]
async fn private_loopback_and_plain_http_urls_are_refused() {
    // The default policy: https only, public addresses only.
    let app = TestApp::new().await;
    for url in [
        "https://127.0.0.1/hooks",
        "https://10.0.0.5/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://100.64.1.1/",
        "https://[::1]/hooks",
        "https://[fd00::1]/hooks",
        "https://[::ffff:127.0.0.1]/hooks",
        "https://0.0.0.0/",
        "https://localhost/hooks",
        "http://93.184.215.14/hooks",
    ] {
        let bad = app
            .post(
                "/api/v1/webhooks",
                json!({"url": url, "event_types": ["*"]}),
            )
            .await
            .expect(422);
        assert_eq!(bad["errors"][0]["field"], "url", "{url}: {bad}");
    }
    let ok = app
        .post(
            "/api/v1/webhooks",
            json!({"url": "https://93.184.215.14/hooks", "event_types": ["*"]}),
        )
        .await
        .expect(201);
    // A change of URL is checked the same way.
    app.patch(
        &format!("/api/v1/webhooks/{}", id(&ok)),
        &version_tag(&ok),
        json!({"url": "https://192.168.0.10/"}),
    )
    .await
    .expect(422);
}

#[actix_web::test]
async fn events_arrive_signed_in_order_and_are_logged() {
    let app = app().await;
    let receiver = Receiver::start();
    let hook = subscribe(&app, &receiver, &["council.*"]).await;
    let worker = Worker::start(app.db.clone(), options(&[50, 50, 50]));
    let council = app
        .council(json!({"kind": "assembly", "name": "Family Council"}))
        .await;
    let council_id = id(&council);
    app.patch(
        &format!("/api/v1/councils/{council_id}"),
        &version_tag(&council),
        json!({"name": "Consejo de Familias"}),
    )
    .await
    .expect(200);
    app.school("NOT-SUBSCRIBED").await;
    assert!(
        wait_for(Duration::from_secs(90), || receiver.processed().len() >= 2).await,
        "events did not arrive"
    );
    worker.stop();
    let ids = {
        let seen = receiver.seen.lock().unwrap();
        assert_eq!(seen.bad_signatures, 0);
        let types: Vec<&str> = seen
            .processed
            .iter()
            .map(|(_, v)| v["type"].as_str().unwrap())
            .collect();
        assert_eq!(types, ["council.created", "council.updated"]);
        assert_eq!(seen.processed[0].1["data"]["id"], council_id.as_str());
        assert_eq!(seen.processed[1].1["data"]["version"], 2);
        assert!(seen.processed[1].1["timestamp"]
            .as_str()
            .unwrap()
            .ends_with('Z'));
        assert_eq!(seen.requests.len(), 2, "nothing else was sent");
        let ids: Vec<String> = seen.processed.iter().map(|(w, _)| w.clone()).collect();
        ids
    };

    let log = app
        .get(&format!("/api/v1/webhooks/{}/deliveries", id(&hook)))
        .await
        .expect(200);
    let items = log["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[0]["id"],
        ids[1].as_str(),
        "newest first, id = webhook-id"
    );
    for item in items {
        assert_eq!(item["state"], "delivered");
        assert_eq!(item["attempts"][0]["attempt"], 1);
        assert_eq!(item["attempts"][0]["status_code"], 204);
        assert!(item["attempts"][0]["latency_ms"].as_i64().unwrap() >= 0);
    }

    let metrics = app
        .send(
            TestRequest::get()
                .uri("/metrics")
                .peer_addr("127.0.0.1:40000".parse().unwrap()),
        )
        .await;
    let text = String::from_utf8_lossy(&metrics.body).into_owned();
    assert!(
        text.contains("cogov_webhook_deliveries_total{outcome=\"delivered\"}"),
        "{text}"
    );
    assert!(text.contains("cogov_webhook_backlog_events 0"), "{text}");
    assert!(
        text.contains("cogov_webhook_delivery_duration_seconds_bucket"),
        "{text}"
    );
}

/// The receiver fails midway in every way a crash looks from outside: it answers 500, it drops
/// the connection without answering, and it processes an event and then fails before
/// answering. Every event still arrives, in order, and an idempotent receiver (dedupe by
/// `webhook-id`) processes each exactly once.
#[actix_web::test]
async fn a_receiver_that_crashes_midway_loses_nothing() {
    let app = app().await;
    let receiver = Receiver::start();
    {
        let mut s = receiver.seen.lock().unwrap();
        s.script = vec![
            Answer::Ok,
            Answer::Ok,
            Answer::Ok,
            Answer::Error,
            Answer::Hangup,
            Answer::Hangup,
            Answer::Error,
            Answer::ProcessThen500,
            Answer::Hangup,
            Answer::Ok,
            Answer::Ok,
            Answer::ProcessThen500,
            Answer::Error,
        ];
    }
    let hook = subscribe(&app, &receiver, &["school.created"]).await;
    let worker = Worker::start(app.db.clone(), options(&[30; 12]));
    let created = schools(&app, "CRASH-", 12).await;
    assert!(
        wait_for(Duration::from_secs(90), || receiver.processed().len() >= 12).await,
        "not every event arrived: {:?}",
        receiver.processed().len()
    );
    // Nothing more is sent once everything was acknowledged.
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    worker.stop();
    {
        let seen = receiver.seen.lock().unwrap();
        assert_eq!(seen.bad_signatures, 0);
        let processed: Vec<String> = seen
            .processed
            .iter()
            .map(|(_, v)| v["data"]["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(processed, created, "each event once, in order");
        assert!(
            seen.requests.len() >= 12 + 8,
            "the failures were retried ({} requests)",
            seen.requests.len()
        );
        // Retries carried the same webhook-id: requests name only the processed ids.
        let ids: HashSet<&String> = seen.requests.iter().map(|(w, _)| w).collect();
        assert_eq!(ids.len(), 12);
    }
    let log = app
        .get(&format!(
            "/api/v1/webhooks/{}/deliveries?limit=200",
            id(&hook)
        ))
        .await
        .expect(200);
    let items = log["items"].as_array().unwrap();
    assert!(items.iter().all(|d| d["state"] == "delivered"));
    let retried = items
        .iter()
        .filter(|d| d["attempts"].as_array().unwrap().len() > 1)
        .count();
    assert!(retried >= 2, "{log}");
    assert!(items.iter().any(|d| d["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["status_code"].is_null() && a["error"].as_str().is_some())));
}

/// Two app instances, each with its own worker and pools, on one database: every event is sent
/// exactly once.
#[actix_web::test]
async fn two_instances_deliver_each_event_once() {
    let app = app().await;
    let receiver = Receiver::start();
    let second = Receiver::start();
    subscribe(&app, &receiver, &["school.*"]).await;
    // A second subscription, so the instances have more than one queue to share.
    let hook2 = app
        .post(
            "/api/v1/webhooks",
            json!({"url": second.url, "event_types": ["*"]}),
        )
        .await
        .expect(201);
    second.set_secrets(&[hook2["secret"].as_str().unwrap()]);
    let other_db = app.test_db.open();
    let one = Worker::start(app.db.clone(), options(&[50; 5]));
    let two = Worker::start(other_db, options(&[50; 5]));
    let created = schools(&app, "TWO-", 25).await;
    assert!(
        wait_for(Duration::from_secs(90), || receiver.processed().len() >= 25
            && second.processed().len() >= 25)
        .await,
        "not every event arrived"
    );
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    one.stop();
    two.stop();
    for r in [&receiver, &second] {
        let seen = r.seen.lock().unwrap();
        let mut count: HashMap<&String, usize> = HashMap::new();
        for (w, _) in &seen.requests {
            *count.entry(w).or_default() += 1;
        }
        assert!(count.values().all(|n| *n == 1), "an event was sent twice");
        let order: Vec<String> = seen
            .processed
            .iter()
            .filter(|(_, v)| v["type"] == "school.created")
            .map(|(_, v)| v["data"]["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(order, created);
        assert_eq!(seen.bad_signatures, 0);
    }
}

#[actix_web::test]
async fn lasting_failure_disables_the_subscription_and_redelivery_resumes_it() {
    let app = app().await;
    let receiver = Receiver::start();
    receiver.seen.lock().unwrap().always = Some(Answer::Error);
    let hook = subscribe(&app, &receiver, &["school.*"]).await;
    let path = format!("/api/v1/webhooks/{}", id(&hook));
    let worker = Worker::start(app.db.clone(), options(&[20, 20]));
    let first = schools(&app, "FAIL-", 2).await;
    let mut disabled = Value::Null;
    for _ in 0..4500 {
        disabled = app.get(&path).await.expect(200);
        if disabled["active"] == false {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(disabled["active"], false, "{disabled}");
    let reason = disabled["disabled_reason"].as_str().unwrap();
    assert!(reason.contains("failed 3 times"), "{reason}");
    // The first event was tried three times (the schedule has two retries); the second waited.
    assert_eq!(receiver.seen.lock().unwrap().requests.len(), 3);
    // The notice is in the audit trail.
    let audit = app.get("/api/v1/audit-events?limit=200").await.expect(200);
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "disable" && e["resource_id"] == id(&hook).as_str()),
        "{audit}"
    );

    // The receiver is fixed: redeliver the failed event and enable the subscription again.
    receiver.seen.lock().unwrap().always = Some(Answer::Ok);
    let log = app.get(&format!("{path}/deliveries")).await.expect(200);
    let failed = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["state"] == "failed")
        .expect("a failed delivery")
        .clone();
    let again = app
        .send_admin(
            TestRequest::post().uri(&format!("{path}/deliveries/{}/redeliver", id(&failed))),
        )
        .await
        .expect(202);
    assert_eq!(again["state"], "pending");
    app.patch(&path, &version_tag(&disabled), json!({"active": true}))
        .await
        .expect(200);
    assert!(
        wait_for(Duration::from_secs(90), || receiver.processed().len() >= 2).await,
        "not resumed"
    );
    worker.stop();
    let order: Vec<String> = receiver
        .processed()
        .iter()
        .map(|(_, v)| v["data"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(order, first);
    app.send_admin(TestRequest::post().uri(&format!(
        "{path}/deliveries/{}/redeliver",
        uuid::Uuid::now_v7()
    )))
    .await
    .expect(404);
}

#[actix_web::test]
async fn a_receiver_answering_410_disables_the_subscription() {
    let app = app().await;
    let receiver = Receiver::start();
    receiver.seen.lock().unwrap().always = Some(Answer::Gone);
    let hook = subscribe(&app, &receiver, &["*"]).await;
    let worker = Worker::start(app.db.clone(), options(&[20; 5]));
    app.school("GONE").await;
    let path = format!("/api/v1/webhooks/{}", id(&hook));
    let mut body = Value::Null;
    for _ in 0..4500 {
        body = app.get(&path).await.expect(200);
        if body["active"] == false {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    worker.stop();
    assert_eq!(body["active"], false);
    assert!(body["disabled_reason"].as_str().unwrap().contains("410"));
    assert_eq!(receiver.seen.lock().unwrap().requests.len(), 1);
}

/// An address allowed when the subscription was made but refused at delivery time (after
/// resolving the name) is not called.
#[actix_web::test]
async fn the_guard_is_checked_again_at_delivery_time() {
    let app = app().await;
    let receiver = Receiver::start();
    let hook = subscribe(&app, &receiver, &["school.*"]).await;
    let mut strict = options(&[20; 3]);
    strict.addresses.allowed_networks.clear();
    let worker = Worker::start(app.db.clone(), strict);
    app.school("GUARD").await;
    let path = format!("/api/v1/webhooks/{}/deliveries", id(&hook));
    let mut error = None;
    for _ in 0..4500 {
        let log = app.get(&path).await.expect(200);
        if let Some(e) = log["items"][0]["attempts"][0]["error"].as_str() {
            error = Some(e.to_owned());
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    worker.stop();
    let error = error.expect("an attempt was recorded");
    assert!(error.contains("loopback"), "{error}");
    assert_eq!(receiver.seen.lock().unwrap().requests.len(), 0);
}

/// While a secret rotates, each delivery carries two signatures: a receiver that still knows
/// only the previous secret, and one that already switched, both accept it.
#[actix_web::test]
async fn a_rotated_secret_signs_beside_the_previous_one() {
    let app = app().await;
    let receiver = Receiver::start();
    let hook = subscribe(&app, &receiver, &["school.*"]).await;
    let old = hook["secret"].as_str().unwrap().to_owned();
    let rotated = app
        .send_admin(TestRequest::post().uri(&format!("/api/v1/webhooks/{}/secret", id(&hook))))
        .await
        .expect(200);
    let new = rotated["secret"].as_str().unwrap().to_owned();
    // Only the previous secret first: the delivery still verifies.
    receiver.set_secrets(&[&old]);
    let worker = Worker::start(app.db.clone(), options(&[20; 3]));
    app.school("ROT-1").await;
    assert!(wait_for(Duration::from_secs(90), || !receiver.processed().is_empty()).await);
    // Only the new one next.
    receiver.set_secrets(&[&new]);
    app.school("ROT-2").await;
    assert!(wait_for(Duration::from_secs(90), || receiver.processed().len() >= 2).await);
    worker.stop();
    let seen = receiver.seen.lock().unwrap();
    assert_eq!(seen.bad_signatures, 0);
    assert_eq!(seen.requests.len(), 2);
    for header in &seen.signatures {
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts.len(), 2, "{header}");
        assert!(parts.iter().all(|p| p.starts_with("v1,")), "{header}");
    }
}

/// A subscription receives only what its owner may read: once its owner is no district admin any
/// more, changes to people stop arriving while the public record still does.
#[actix_web::test]
async fn a_subscription_receives_only_what_its_owner_may_read() {
    let app = app().await;
    let receiver = Receiver::start();
    let (owner, token) = app.user("Olga Owner", "district_admin", None);
    let hook = app
        .send_as(
            &token,
            TestRequest::post().uri("/api/v1/webhooks").set_json(
                json!({"url": receiver.url, "event_types": ["person.created", "school.created"]}),
            ),
        )
        .await
        .expect(201);
    receiver.set_secrets(&[hook["secret"].as_str().unwrap()]);
    let worker = Worker::start(app.db.clone(), options(&[20; 3]));
    let person = id(&app.person("Pat Parent").await);
    assert!(wait_for(Duration::from_secs(90), || !receiver.processed().is_empty()).await);
    let grants = app
        .get(&format!("/api/v1/grants?subject_id={owner}"))
        .await
        .expect(200);
    let grant = grants["items"][0].clone();
    app.delete(
        &format!("/api/v1/grants/{}", id(&grant)),
        &version_tag(&grant),
    )
    .await
    .expect(204);
    app.person("Quinn Parent").await;
    let school = id(&app.school("OWNER").await);
    assert!(wait_for(Duration::from_secs(90), || receiver.processed().len() >= 2).await);
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    worker.stop();
    let ids: Vec<String> = receiver
        .processed()
        .iter()
        .map(|(_, v)| v["data"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, [person, school]);
}

/// The delivery log keeps ended deliveries for the retention period and then removes them with
/// their attempts; a delivery still pending stays whatever its age.
#[actix_web::test]
async fn old_deliveries_are_pruned_from_the_log_after_the_retention_period() {
    let app = app().await;
    let receiver = Receiver::start();
    let hook = subscribe(&app, &receiver, &["school.*"]).await;
    let worker = Worker::start(app.db.clone(), options(&[50]));
    app.school("PRUNE-LOG-1").await;
    app.school("PRUNE-LOG-2").await;
    assert!(
        wait_for(Duration::from_secs(90), || receiver.processed().len() >= 2).await,
        "events did not arrive"
    );
    worker.stop();
    // A third event stays pending: no worker runs any more.
    app.school("PRUNE-LOG-3").await;
    let log_path = format!("/api/v1/webhooks/{}/deliveries", id(&hook));
    let prune = |days_later: i64| {
        let db = app.db.clone();
        async move {
            cogov::commands::webhooks::prune_deliveries(
                &crate::common::cli(),
                &db,
                chrono::Duration::days(30),
                chrono::Utc::now().naive_utc() + chrono::Duration::days(days_later),
            )
            .await
            .expect("prune")
        }
    };

    // Within the 30 days nothing goes.
    assert_eq!(prune(0).await, 0);
    let log = app.get(&log_path).await.expect(200);
    assert_eq!(log["items"].as_array().unwrap().len(), 2);

    // A month and a day later the delivered ones go, attempts and all.
    assert_eq!(prune(31).await, 2);
    let log = app.get(&log_path).await.expect(200);
    assert_eq!(log["items"].as_array().unwrap().len(), 0, "{log}");

    // The pending event was never put in the log by a worker; delivering it now still works,
    // and pruning again removes nothing that is pending.
    let worker = Worker::start(app.db.clone(), options(&[50]));
    assert!(
        wait_for(Duration::from_secs(90), || receiver.processed().len() >= 3).await,
        "the third event did not arrive after the prune"
    );
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    worker.stop();
    // Pruning the log does not make the pruned events go out again.
    assert_eq!(receiver.processed().len(), 3);
    let log = app.get(&log_path).await.expect(200);
    let items = log["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["state"], "delivered");
    assert_eq!(items[0]["attempts"].as_array().unwrap().len(), 1);
}
