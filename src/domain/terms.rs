//! Seat terms.

use chrono::NaiveDate;

/// How far ahead the composition report looks for terms that are about to end.
pub const ENDING_SOON_DAYS: i64 = 60;

/// Days from `today` until `term_end` if the term ends within `window_days` (today counts as 0).
/// Terms that already ended, or end later, give `None`.
pub fn days_until_end(term_end: NaiveDate, today: NaiveDate, window_days: i64) -> Option<i64> {
    let days = (term_end - today).num_days();
    (0..=window_days).contains(&days).then_some(days)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn window_is_inclusive_and_ignores_past_terms() {
        let today = d(2026, 11, 25);
        assert_eq!(days_until_end(d(2026, 11, 25), today, 60), Some(0));
        assert_eq!(days_until_end(d(2027, 1, 24), today, 60), Some(60));
        assert_eq!(days_until_end(d(2027, 1, 25), today, 60), None);
        assert_eq!(days_until_end(d(2026, 11, 24), today, 60), None);
    }
}
