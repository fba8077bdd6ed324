//! Agenda items: their kinds, proposals, order, and which items count as added after the notice.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::council::text_enum;

/// What an agenda item is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Information,
    Discussion,
    /// The council may act (vote) on it.
    Action,
    /// Routine items approved together by one motion.
    Consent,
    /// Public comment on matters not on the agenda.
    PublicComment,
    /// Held in closed session; needs its legal basis.
    ClosedSession,
}

text_enum!(ItemKind {
    Information => "information",
    Discussion => "discussion",
    Action => "action",
    Consent => "consent",
    PublicComment => "public_comment",
    ClosedSession => "closed_session",
});

/// Where an item is between proposal and agenda.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// Proposed (by a seat holder or staff), not yet on a meeting.
    Proposed,
    /// On a meeting's agenda.
    Accepted,
    /// Declined by staff, with a reason the proposer sees.
    Declined,
}

text_enum!(ItemStatus {
    Proposed => "proposed",
    Accepted => "accepted",
    Declined => "declined",
});

/// A document attached to an agenda item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://docs.example.org/budget-2027.pdf", "title": "Presupuesto 2027", "language": "es"}))]
pub struct Document {
    /// An http:// or https:// link.
    #[schema(max_length = 500, pattern = r"^https?://[^\s]+$")]
    pub url: String,
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// BCP 47 tag of the document's language.
    #[schema(max_length = 35)]
    pub language: String,
}

/// An item's title and summary in another language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Presupuesto escolar 2027", "summary": "Revisión del presupuesto propuesto."}))]
pub struct Translation {
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[schema(max_length = 4000)]
    pub summary: Option<String>,
}

/// Whether an item added to a published agenda counts as added late: its amendment comes after
/// the notice deadline, so the posted notice did not carry it, and acting on it needs the
/// findings of Gov. Code 54954.2(b) / Ed. Code 35147(c)(1) (DOMAIN rule 5). A meeting without a
/// notice period (an emergency meeting) counts every addition after posting as late.
pub fn added_late(deadline: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    deadline.is_none_or(|d| now > d)
}

/// The public comment period on an item, for rule 6: a motion on the item may be put only after
/// the period was opened and then closed (Gov. Code 54954.3(a); Ed. Code 35147(c)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentPeriod {
    NotOpened,
    Open,
    Closed,
}

impl CommentPeriod {
    pub fn of(opened: bool, closed: bool) -> CommentPeriod {
        match (opened, closed) {
            (false, _) => CommentPeriod::NotOpened,
            (true, false) => CommentPeriod::Open,
            (true, true) => CommentPeriod::Closed,
        }
    }

    /// Whether a motion on the item may be made.
    pub fn heard(self) -> bool {
        self == CommentPeriod::Closed
    }
}

/// Ranks: agenda order is a text key compared byte by byte, so an item moves between two others
/// by taking a key between theirs and no other item is renumbered.
pub mod rank {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    const BASE: usize = 36;

    fn digit(c: u8) -> usize {
        DIGITS.iter().position(|&d| d == c).unwrap_or(0)
    }

    /// A key strictly between `before` and `after` (either may be absent: the start or the end
    /// of the list). Keys never end in `0`, so there is always room below any key.
    ///
    /// `before` must sort before `after` when both are given.
    pub fn between(before: Option<&str>, after: Option<&str>) -> String {
        let a = before.unwrap_or("").as_bytes();
        let b = after.map(str::as_bytes);
        let mut out = String::new();
        let mut i = 0;
        loop {
            let lo = a.get(i).map(|&c| digit(c)).unwrap_or(0);
            let hi = match b {
                Some(b) => b.get(i).map(|&c| digit(c)).unwrap_or(BASE),
                None => BASE,
            };
            if hi > lo + 1 {
                out.push(char::from(DIGITS[(lo + hi) / 2]));
                return out;
            }
            // No room at this digit: keep `before`'s digit and look further right, where the
            // upper bound is open once we are below `after`'s digit.
            out.push(char::from(DIGITS[lo]));
            if hi > lo {
                return finish_above(a, i + 1, out);
            }
            i += 1;
        }
    }

    /// Appends digits making `out` greater than `a` (from position `i`) with no upper bound.
    fn finish_above(a: &[u8], mut i: usize, mut out: String) -> String {
        loop {
            let lo = a.get(i).map(|&c| digit(c)).unwrap_or(0);
            if BASE > lo + 1 {
                out.push(char::from(DIGITS[(lo + BASE) / 2]));
                return out;
            }
            out.push(char::from(DIGITS[lo]));
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::rank::between;
    use super::*;

    #[test]
    fn ranks_sort_between_their_neighbours() {
        let first = between(None, None);
        assert_eq!(first, "i");
        let mut keys = vec![first];
        // Append ten, prepend ten, and insert repeatedly at the same spot.
        for _ in 0..10 {
            let k = between(keys.last().map(String::as_str), None);
            keys.push(k);
        }
        for _ in 0..10 {
            let k = between(None, keys.first().map(String::as_str));
            keys.insert(0, k);
        }
        for _ in 0..60 {
            let k = between(Some(&keys[3]), Some(&keys[4]));
            keys.insert(4, k);
        }
        for w in keys.windows(2) {
            assert!(w[0] < w[1], "{} !< {}", w[0], w[1]);
        }
        for k in &keys {
            assert!(!k.ends_with('0'), "{k}");
        }
        assert!(between(Some("a"), Some("a1")).as_str() > "a");
        assert!(between(Some("a"), Some("a1")).as_str() < "a1");
        assert!(between(Some("az"), Some("b")).as_str() > "az");
        assert!(between(Some("az"), Some("b")).as_str() < "b");
        assert!(between(Some("zz"), None).as_str() > "zz");
    }

    #[test]
    fn items_added_after_the_deadline_are_late() {
        let deadline = DateTime::parse_from_rfc3339("2027-03-14T01:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert!(!added_late(Some(deadline), deadline));
        assert!(added_late(
            Some(deadline),
            deadline + chrono::Duration::seconds(1)
        ));
        assert!(added_late(None, deadline));
    }
}
