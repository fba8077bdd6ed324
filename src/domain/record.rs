//! The council record: a hash chain of the council's public acts (published agendas, amendments,
//! closed motions with every vote, approved and corrected minutes, cancellations), so that anyone
//! holding a copy can tell whether a stored entry was changed afterwards.
//!
//! Each entry's hash is
//!
//! ```text
//! hash = hex(sha256(prev_hash + "\n" + canonical({council_id, data, kind, recorded_at, seq, subject_id})))
//! ```
//!
//! where `prev_hash` is the previous entry's hash (64 zeros for the first entry) and `canonical`
//! is the JSON text [`canonical`] writes. That text is byte for byte what `jq -cS` prints for the
//! same value, so the chain can be checked with `jq` and `sha256sum` alone (docs/VERIFY.md).

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The `prev_hash` of a council's first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The largest integer magnitude an entry may carry: JSON tools that read numbers as doubles
/// (jq among them) keep every integer up to 2^53 exact.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// The kinds of act the record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A meeting's notice and agenda were published.
    MeetingPublished,
    /// A noticed meeting was cancelled.
    MeetingCancelled,
    /// An item was added to a published agenda by a recorded amendment.
    AgendaAmended,
    /// A council motion was closed, with every voting member's vote.
    MotionClosed,
    /// An assembly motion was closed, with every participant's vote.
    AssemblyMotionClosed,
    /// Minutes were approved by a passing motion.
    MinutesApproved,
    /// A correction of approved minutes was recorded.
    MinutesCorrected,
}

impl EntryKind {
    pub const ALL: [EntryKind; 7] = [
        EntryKind::MeetingPublished,
        EntryKind::MeetingCancelled,
        EntryKind::AgendaAmended,
        EntryKind::MotionClosed,
        EntryKind::AssemblyMotionClosed,
        EntryKind::MinutesApproved,
        EntryKind::MinutesCorrected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::MeetingPublished => "meeting_published",
            EntryKind::MeetingCancelled => "meeting_cancelled",
            EntryKind::AgendaAmended => "agenda_amended",
            EntryKind::MotionClosed => "motion_closed",
            EntryKind::AssemblyMotionClosed => "assembly_motion_closed",
            EntryKind::MinutesApproved => "minutes_approved",
            EntryKind::MinutesCorrected => "minutes_corrected",
        }
    }

    pub fn parse(text: &str) -> Option<EntryKind> {
        EntryKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// A value the canonical form does not carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CanonicalError {
    /// A number that is not an integer, or an integer beyond ±(2^53 − 1).
    Number(String),
}

impl std::fmt::Display for CanonicalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CanonicalError::Number(n) => write!(
                f,
                "the record carries integers up to 2^53 - 1 only, not {n}"
            ),
        }
    }
}

/// The canonical JSON text of a value:
///
/// - no whitespace outside strings;
/// - object members sorted by key, comparing keys as UTF-8 byte strings (the same as comparing
///   Unicode code points); keys are unique (a JSON object here cannot hold a key twice);
/// - strings in UTF-8, with `"` and `\` escaped as `\"` and `\\`, U+0008, U+0009, U+000A, U+000C
///   and U+000D as `\b`, `\t`, `\n`, `\f`, `\r`, every other character below U+0020 and U+007F
///   as `\u00xx` (lowercase hex), and every other character written as itself (no `\u` escapes
///   for non-ASCII text, `/` not escaped);
/// - integers in decimal without sign for positives, leading zeros or exponent, within
///   ±(2^53 − 1); numbers with a fraction or exponent are refused;
/// - `true`, `false`, `null` as themselves; arrays in their order.
///
/// This is what `jq -cS .` prints (jq 1.6 and later) for such values.
pub fn canonical(value: &Value) -> Result<String, CanonicalError> {
    let mut out = String::new();
    write_value(&mut out, value)?;
    Ok(out)
}

fn write_value(out: &mut String, value: &Value) -> Result<(), CanonicalError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => {
            let fits = n
                .as_i64()
                .map(|i| i.unsigned_abs() <= MAX_SAFE_INTEGER)
                .or_else(|| n.as_u64().map(|u| u <= MAX_SAFE_INTEGER))
                .unwrap_or(false);
            if !fits {
                return Err(CanonicalError::Number(n.to_string()));
            }
            out.push_str(&n.to_string());
        }
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_value(out, &map[key])?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// What an entry's hash covers (everything but the hashes themselves).
#[derive(Debug, Clone, PartialEq)]
pub struct EntryBody<'a> {
    pub council_id: &'a str,
    pub seq: i64,
    pub kind: &'a str,
    pub subject_id: &'a str,
    /// RFC 3339 in UTC with microseconds, as [`recorded_at_text`] writes it.
    pub recorded_at: &'a str,
    pub data: &'a Value,
}

impl EntryBody<'_> {
    /// The object whose canonical text is hashed.
    pub fn to_value(&self) -> Value {
        serde_json::json!({
            "council_id": self.council_id,
            "seq": self.seq,
            "kind": self.kind,
            "subject_id": self.subject_id,
            "recorded_at": self.recorded_at,
            "data": self.data,
        })
    }
}

/// The entry's hash: lowercase hex of SHA-256 over `prev_hash`, a line feed, and the canonical
/// text of the body.
pub fn entry_hash(prev_hash: &str, body: &EntryBody<'_>) -> Result<String, CanonicalError> {
    let text = canonical(&body.to_value())?;
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(text.as_bytes());
    Ok(hex(&hasher.finalize()))
}

/// Lowercase hex of SHA-256 over a text (how an entry refers to a long stored text, such as the
/// minutes' generated record, without repeating it).
pub fn sha256_hex(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// How a recorded time is written: `2026-11-26T01:20:31.123456Z`.
pub fn recorded_at_text(at: chrono::NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// A stored entry, as verification reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEntry {
    pub council_id: String,
    pub seq: i64,
    pub kind: String,
    pub subject_id: String,
    pub recorded_at: String,
    /// The stored data text (canonical JSON when untouched).
    pub data: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The first thing wrong with a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Entries are missing or out of order: `seq` is not the one expected here.
    Gap { seq: i64, expected: i64 },
    /// The entry's `prev_hash` is not the previous entry's hash.
    BrokenLink { seq: i64 },
    /// The entry's hash is not the hash of its contents.
    HashMismatch { seq: i64 },
    /// The entry's data no longer agrees with the records it describes.
    DataDiffers { seq: i64 },
}

impl Problem {
    pub fn code(&self) -> &'static str {
        match self {
            Problem::Gap { .. } => "gap",
            Problem::BrokenLink { .. } => "broken-link",
            Problem::HashMismatch { .. } => "hash-mismatch",
            Problem::DataDiffers { .. } => "data-differs",
        }
    }

    pub fn seq(&self) -> i64 {
        match self {
            Problem::Gap { seq, .. }
            | Problem::BrokenLink { seq }
            | Problem::HashMismatch { seq }
            | Problem::DataDiffers { seq } => *seq,
        }
    }
}

/// Checks one entry against the one before it (`prev`: `(seq, hash)`, `None` for the first):
/// the sequence continues, the link holds, and the hash is the hash of the entry's contents
/// (data that is not JSON, or not canonical JSON, is a hash mismatch).
pub fn check_entry(prev: Option<(i64, &str)>, entry: &StoredEntry) -> Result<(), Problem> {
    let (expected_seq, expected_prev) = match prev {
        None => (1, GENESIS),
        Some((seq, hash)) => (seq + 1, hash),
    };
    let seq = entry.seq;
    if seq != expected_seq {
        return Err(Problem::Gap {
            seq,
            expected: expected_seq,
        });
    }
    if entry.prev_hash != expected_prev {
        return Err(Problem::BrokenLink { seq });
    }
    let data: Value =
        serde_json::from_str(&entry.data).map_err(|_| Problem::HashMismatch { seq })?;
    let body = EntryBody {
        council_id: &entry.council_id,
        seq,
        kind: &entry.kind,
        subject_id: &entry.subject_id,
        recorded_at: &entry.recorded_at,
        data: &data,
    };
    match entry_hash(&entry.prev_hash, &body) {
        Ok(h) if h == entry.hash => Ok(()),
        _ => Err(Problem::HashMismatch { seq }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_sorts_keys_and_drops_whitespace() {
        let v = json!({"b": [1, true, null], "a": {"z": -3, "Z": "x", "é": 0, "e": false}});
        assert_eq!(
            canonical(&v).unwrap(),
            r#"{"a":{"Z":"x","e":false,"z":-3,"é":0},"b":[1,true,null]}"#
        );
    }

    #[test]
    fn canonical_escapes_like_jq() {
        let v = json!("q\"b\\s/\u{8}\t\n\u{c}\r\u{1}\u{1f}\u{7f}é\u{2028}😀");
        assert_eq!(
            canonical(&v).unwrap(),
            "\"q\\\"b\\\\s/\\b\\t\\n\\f\\r\\u0001\\u001f\\u007fé\u{2028}😀\""
        );
    }

    #[test]
    fn canonical_refuses_fractions_and_unsafe_integers() {
        assert!(canonical(&json!(1.5)).is_err());
        assert!(canonical(&json!({"n": 9_007_199_254_740_992_u64})).is_err());
        assert_eq!(
            canonical(&json!(-9_007_199_254_740_991_i64)).unwrap(),
            "-9007199254740991"
        );
    }

    fn entry(seq: i64, prev: &str) -> StoredEntry {
        let data = json!({"meeting": {"id": "m1", "title": "Regular meeting"}});
        let recorded_at = "2026-11-26T01:20:31.123456Z";
        let body = EntryBody {
            council_id: "c1",
            seq,
            kind: "meeting_published",
            subject_id: "m1",
            recorded_at,
            data: &data,
        };
        StoredEntry {
            council_id: "c1".into(),
            seq,
            kind: "meeting_published".into(),
            subject_id: "m1".into(),
            recorded_at: recorded_at.into(),
            data: canonical(&data).unwrap(),
            prev_hash: prev.into(),
            hash: entry_hash(prev, &body).unwrap(),
        }
    }

    /// A known-answer vector, reproducible with
    /// `printf '%s\n%s' 000…000 '{"council_id":"c1",…}' | sha256sum`.
    #[test]
    fn known_answer() {
        let e = entry(1, GENESIS);
        let text = canonical(
            &EntryBody {
                council_id: "c1",
                seq: 1,
                kind: "meeting_published",
                subject_id: "m1",
                recorded_at: "2026-11-26T01:20:31.123456Z",
                data: &json!({"meeting": {"id": "m1", "title": "Regular meeting"}}),
            }
            .to_value(),
        )
        .unwrap();
        assert_eq!(
            text,
            r#"{"council_id":"c1","data":{"meeting":{"id":"m1","title":"Regular meeting"}},"kind":"meeting_published","recorded_at":"2026-11-26T01:20:31.123456Z","seq":1,"subject_id":"m1"}"#
        );
        assert_eq!(e.hash, KNOWN_HASH);
    }

    const KNOWN_HASH: &str = "1a87af9b3ecdac7668b2a6005c613363bcbde5248acf490c1ded62f2cd94960a";

    #[test]
    fn a_chain_checks_and_every_kind_of_tampering_is_found() {
        let first = entry(1, GENESIS);
        let second = entry(2, &first.hash);
        assert_eq!(check_entry(None, &first), Ok(()));
        assert_eq!(check_entry(Some((1, &first.hash)), &second), Ok(()));

        let mut changed = second.clone();
        changed.data = r#"{"meeting":{"id":"m1","title":"Other"}}"#.into();
        assert_eq!(
            check_entry(Some((1, &first.hash)), &changed),
            Err(Problem::HashMismatch { seq: 2 })
        );
        let mut relinked = second.clone();
        relinked.prev_hash = GENESIS.into();
        assert_eq!(
            check_entry(Some((1, &first.hash)), &relinked),
            Err(Problem::BrokenLink { seq: 2 })
        );
        assert_eq!(
            check_entry(None, &second),
            Err(Problem::Gap {
                seq: 2,
                expected: 1
            })
        );
        let mut garbled = first.clone();
        garbled.data = "not json".into();
        assert_eq!(
            check_entry(None, &garbled),
            Err(Problem::HashMismatch { seq: 1 })
        );
    }

    #[test]
    fn kinds_round_trip() {
        for k in EntryKind::ALL {
            assert_eq!(EntryKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(EntryKind::parse("other"), None);
    }

    #[test]
    fn recorded_times_carry_microseconds() {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 26)
            .unwrap()
            .and_hms_micro_opt(1, 2, 3, 40)
            .unwrap();
        assert_eq!(recorded_at_text(at), "2026-11-26T01:02:03.000040Z");
    }
}
