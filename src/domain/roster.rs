//! Roster files: what a row of a OneRoster 1.2 CSV export (orgs.csv, users.csv) or of cogov's own
//! CSV format (schools.csv, people.csv) means for cogov's schools and people. Pure: the command
//! layer reads the files and applies the outcome.

use std::collections::HashMap;

/// The formats an import understands, told apart by the file names in the upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    OneRoster,
    Cogov,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::OneRoster => "oneroster",
            Format::Cogov => "cogov",
        }
    }

    pub fn parse(text: &str) -> Option<Format> {
        match text {
            "oneroster" => Some(Format::OneRoster),
            "cogov" => Some(Format::Cogov),
            _ => None,
        }
    }

    /// The external-id system rows are matched by unless the caller names another.
    pub fn default_system(self) -> &'static str {
        match self {
            Format::OneRoster => "oneroster",
            Format::Cogov => "sis",
        }
    }

    /// The files of the format that cogov reads, schools first (in the order they are applied).
    pub fn files(self) -> [&'static str; 2] {
        match self {
            Format::OneRoster => ["orgs.csv", "users.csv"],
            Format::Cogov => ["schools.csv", "people.csv"],
        }
    }

    /// Columns a file must have (matched exactly, as OneRoster requires).
    pub fn required_columns(file: &str) -> &'static [&'static str] {
        match file {
            "orgs.csv" => &["sourcedId", "name", "type"],
            "users.csv" => &["sourcedId", "givenName", "familyName"],
            "schools.csv" => &["external_id", "name", "district_code", "time_zone"],
            "people.csv" => &["external_id", "display_name"],
            _ => &[],
        }
    }
}

/// Which format a set of file names is; `Err` says why none fits.
pub fn detect(names: &[String]) -> Result<Format, String> {
    let has = |n: &str| names.iter().any(|x| x == n);
    let oneroster = has("orgs.csv") || has("users.csv");
    let cogov = has("schools.csv") || has("people.csv");
    match (oneroster, cogov) {
        (true, false) => Ok(Format::OneRoster),
        (false, true) => Ok(Format::Cogov),
        (true, true) => Err(
            "holds both OneRoster files (orgs.csv, users.csv) and cogov files (schools.csv, \
             people.csv); send one format per import"
                .to_owned(),
        ),
        (false, false) => Err(
            "holds none of orgs.csv, users.csv (OneRoster 1.2) or schools.csv, people.csv \
             (cogov's format)"
                .to_owned(),
        ),
    }
}

/// A problem with an uploaded file as a whole (its header, or manifest.csv), in the shape of a
/// row result: the file, the line when there is one (the header is line 1), the column or
/// manifest property, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProblem {
    pub file: String,
    pub line: Option<i64>,
    pub field: String,
    pub message: String,
}

fn problem(file: &str, line: Option<i64>, field: &str, message: impl Into<String>) -> FileProblem {
    FileProblem {
        file: file.to_owned(),
        line,
        field: field.to_owned(),
        message: message.into(),
    }
}

/// The columns OneRoster defines for the files cogov reads (1.2, plus the 1.1 columns `role` and
/// `orgSourcedIds`, and `primaryOrg`, which some exporters write for `primaryOrgSourcedId`).
/// Extension columns start with `metadata.`.
fn known_columns(file: &str) -> &'static [&'static str] {
    match file {
        "orgs.csv" => &[
            "sourcedId",
            "status",
            "dateLastModified",
            "name",
            "type",
            "identifier",
            "parentSourcedId",
        ],
        "users.csv" => &[
            "sourcedId",
            "status",
            "dateLastModified",
            "enabledUser",
            "orgSourcedIds",
            "role",
            "username",
            "userIds",
            "givenName",
            "familyName",
            "middleName",
            "identifier",
            "email",
            "sms",
            "phone",
            "agentSourcedIds",
            "grades",
            "password",
            "userMasterIdentifier",
            "resourceSourcedIds",
            "preferredGivenName",
            "preferredMiddleName",
            "preferredFamilyName",
            "primaryOrgSourcedId",
            "primaryOrg",
            "pronouns",
        ],
        _ => &[],
    }
}

/// What is wrong with a file's header row, one problem per column: a required column missing
/// (names are case-sensitive) or, in a OneRoster file, a column OneRoster does not define.
pub fn header_problems(format: Format, file: &str, header: &[String]) -> Vec<FileProblem> {
    let mut out: Vec<FileProblem> = Format::required_columns(file)
        .iter()
        .filter(|c| !header.iter().any(|h| h == *c))
        .map(|c| {
            problem(
                file,
                Some(1),
                c,
                "is a required column and is missing (column names are case-sensitive)",
            )
        })
        .collect();
    if format == Format::OneRoster {
        let known = known_columns(file);
        for h in header {
            if !known.contains(&h.as_str()) && !h.starts_with("metadata.") {
                out.push(problem(
                    file,
                    Some(1),
                    h,
                    format!(
                        "is not a column of {file} in OneRoster 1.2 (names are case-sensitive; \
                         extension columns start with metadata.)"
                    ),
                ));
            }
        }
    }
    out
}

/// How manifest.csv says a OneRoster file is to be applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Not in this upload.
    Absent,
    /// The full set: records this source sent before and the file leaves out are deleted.
    Bulk,
    /// Changes only: `tobedeleted` rows delete, rows older than what was applied are stale.
    Delta,
}

impl Mode {
    pub fn parse(text: &str) -> Option<Mode> {
        match text {
            "absent" => Some(Mode::Absent),
            "bulk" => Some(Mode::Bulk),
            "delta" => Some(Mode::Delta),
            _ => None,
        }
    }
}

pub const MANIFEST: &str = "manifest.csv";

/// The modes manifest.csv declares, by file name (`users.csv`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    modes: HashMap<String, Mode>,
}

impl Manifest {
    /// The declared mode of a file; a file the manifest does not name is absent.
    pub fn mode(&self, file: &str) -> Mode {
        self.modes.get(file).copied().unwrap_or(Mode::Absent)
    }
}

/// Reads manifest.csv (its header and its rows as `(line, values)`) against the CSV files the
/// upload holds (`present`, without manifest.csv): `manifest.version` 1.0, `oneroster.version`
/// 1.2, each `file.<name>` `absent`, `bulk` or `delta`; a file declared `bulk` or `delta` must be
/// in the upload and a file in the upload must be declared `bulk` or `delta`. Every problem is
/// reported, each with its line.
pub fn manifest(
    header: &[String],
    rows: &[(i64, Vec<String>)],
    present: &[String],
) -> Result<Manifest, Vec<FileProblem>> {
    let mut problems = Vec::new();
    let at =
        |line: i64, field: &str, message: String| problem(MANIFEST, Some(line), field, message);
    let column = |name: &str| header.iter().position(|h| h == name);
    let (Some(name_col), Some(value_col)) = (column("propertyName"), column("value")) else {
        return Err(vec![problem(
            MANIFEST,
            Some(1),
            "propertyName",
            "the header must be propertyName,value (names are case-sensitive)",
        )]);
    };
    let mut seen: HashMap<String, (i64, String)> = HashMap::new();
    for (line, values) in rows {
        let name = values.get(name_col).map(|v| v.trim()).unwrap_or("");
        let value = values.get(value_col).map(|v| v.trim()).unwrap_or("");
        if name.is_empty() {
            problems.push(at(*line, "propertyName", "is required".to_owned()));
            continue;
        }
        if seen.contains_key(name) {
            problems.push(at(*line, name, "is declared twice".to_owned()));
            continue;
        }
        seen.insert(name.to_owned(), (*line, value.to_owned()));
    }
    for (property, want) in [("manifest.version", "1.0"), ("oneroster.version", "1.2")] {
        match seen.get(property) {
            None => problems.push(problem(
                MANIFEST,
                None,
                property,
                format!("is required (cogov reads version {want})"),
            )),
            Some((line, v)) if v != want => {
                problems.push(at(*line, property, format!("must be {want}, not {v:?}")))
            }
            Some(_) => {}
        }
    }
    let mut modes = HashMap::new();
    let mut declared: Vec<(&String, &(i64, String))> = seen
        .iter()
        .filter(|(k, _)| k.starts_with("file."))
        .collect();
    declared.sort_by_key(|(_, (line, _))| *line);
    for (property, (line, value)) in declared {
        let file = format!("{}.csv", &property["file.".len()..]);
        let Some(mode) = Mode::parse(value) else {
            problems.push(at(
                *line,
                property,
                format!("must be absent, bulk or delta, not {value:?}"),
            ));
            continue;
        };
        let here = present.contains(&file);
        match (mode, here) {
            (Mode::Bulk | Mode::Delta, false) => problems.push(at(
                *line,
                property,
                format!("declares {file} {value}, but the upload has no {file}"),
            )),
            (Mode::Absent, true) => problems.push(at(
                *line,
                property,
                format!("declares {file} absent, but the upload holds {file}"),
            )),
            _ => {}
        }
        modes.insert(file, mode);
    }
    for file in present {
        let property = format!("file.{}", file.trim_end_matches(".csv"));
        if !seen.contains_key(&property) {
            problems.push(problem(
                MANIFEST,
                None,
                &property,
                format!("is not declared, but the upload holds {file}; declare it bulk or delta"),
            ));
        }
    }
    if problems.is_empty() {
        Ok(Manifest { modes })
    } else {
        Err(problems)
    }
}

/// A row's `dateLastModified` (ISO 8601, UTC), if it has one.
pub fn date_last_modified(rec: &Record<'_>) -> Result<Option<chrono::NaiveDateTime>, RowError> {
    let Some(text) = rec.get("dateLastModified") else {
        return Ok(None);
    };
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(Some(t.naive_utc()));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0));
    }
    Err(err(
        rec.get("sourcedId"),
        "dateLastModified",
        "is not an ISO 8601 date-time such as 2026-11-20T08:00:00Z",
    ))
}

/// What one row asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowIntent<T> {
    /// Create or update the record with this sourced id.
    Upsert { sourced_id: String, fields: T },
    /// `status=tobedeleted` (delta files): remove the record with this sourced id.
    Delete { sourced_id: String },
    /// Nothing for cogov in this row (an org that is not a school), with the reason.
    Skip { sourced_id: String, reason: String },
}

/// A school as a row describes it. `time_zone` is `None` when the file has none (OneRoster):
/// a new school then gets the import's default and an existing one keeps its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolFields {
    pub name: String,
    pub district_code: String,
    pub time_zone: Option<String>,
    /// `None`: the file has no address (kept); `Some(None)`: cleared.
    pub address: Option<Option<String>>,
}

/// A person as a row describes it. `None` for language: keep (or default to `en`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonFields {
    pub display_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub preferred_language: Option<String>,
}

/// A row refused, naming the column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub sourced_id: Option<String>,
    pub field: String,
    pub message: String,
}

fn err(sourced_id: Option<&str>, field: &str, message: impl Into<String>) -> RowError {
    RowError {
        sourced_id: sourced_id.map(str::to_owned),
        field: field.to_owned(),
        message: message.into(),
    }
}

/// One CSV record by column name.
pub struct Record<'a> {
    pub columns: &'a HashMap<String, usize>,
    pub values: Vec<&'a str>,
}

impl Record<'_> {
    /// The trimmed value of a column; empty and absent are `None`.
    pub fn get(&self, column: &str) -> Option<&str> {
        let i = *self.columns.get(column)?;
        let v = self.values.get(i)?.trim();
        (!v.is_empty()).then_some(v)
    }
}

const NAME_MAX: usize = 200;
const CODE_MAX: usize = 64;

fn sourced_id<'a>(rec: &'a Record<'_>, column: &str) -> Result<&'a str, RowError> {
    let id = rec
        .get(column)
        .ok_or_else(|| err(None, column, "is required"))?;
    if let Some(p) = super::external_ids::value_problem(id) {
        return Err(err(Some(id), column, p));
    }
    Ok(id)
}

fn deleted(rec: &Record<'_>, id: &str) -> Result<bool, RowError> {
    match rec.get("status") {
        None | Some("active") => Ok(false),
        Some("tobedeleted") => Ok(true),
        Some(other) => Err(err(
            Some(id),
            "status",
            format!("must be empty, active or tobedeleted, not {other:?}"),
        )),
    }
}

fn name(id: &str, field: &str, value: Option<&str>) -> Result<String, RowError> {
    match value {
        Some(v) if v.chars().count() <= NAME_MAX => Ok(v.to_owned()),
        Some(_) => Err(err(
            Some(id),
            field,
            format!("must be at most {NAME_MAX} characters"),
        )),
        None => Err(err(Some(id), field, "is required")),
    }
}

/// A plausible email address: one `@`, a dot in the domain, no spaces, at most 254 characters.
pub fn email_ok(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    email.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn email(id: &str, field: &str, value: Option<&str>) -> Result<Option<String>, RowError> {
    match value {
        Some(v) if !email_ok(v) => Err(err(Some(id), field, "is not an email address")),
        v => Ok(v.map(str::to_owned)),
    }
}

fn phone(id: &str, field: &str, value: Option<&str>) -> Result<Option<String>, RowError> {
    match value {
        Some(v) => {
            let digits = v.chars().filter(char::is_ascii_digit).count();
            let ok = (3..=20).contains(&digits)
                && v.chars()
                    .all(|c| c.is_ascii_digit() || " .()-+".contains(c));
            if ok {
                Ok(Some(v.to_owned()))
            } else {
                Err(err(Some(id), field, "is not a phone number"))
            }
        }
        None => Ok(None),
    }
}

/// A row of OneRoster `orgs.csv`: orgs of type `school` are schools; the school's
/// `identifier` (or, without one, its sourcedId) is its district code.
pub fn oneroster_org(rec: &Record<'_>) -> Result<RowIntent<SchoolFields>, RowError> {
    let id = sourced_id(rec, "sourcedId")?;
    if deleted(rec, id)? {
        return Ok(RowIntent::Delete {
            sourced_id: id.to_owned(),
        });
    }
    let kind = rec
        .get("type")
        .ok_or_else(|| err(Some(id), "type", "is required"))?;
    if kind != "school" {
        return Ok(RowIntent::Skip {
            sourced_id: id.to_owned(),
            reason: format!("an org of type {kind}; cogov imports orgs of type school"),
        });
    }
    let code = rec.get("identifier").unwrap_or(id);
    if code.chars().count() > CODE_MAX || code.chars().any(char::is_whitespace) {
        return Err(err(
            Some(id),
            "identifier",
            format!("must be 1 to {CODE_MAX} characters without spaces"),
        ));
    }
    Ok(RowIntent::Upsert {
        sourced_id: id.to_owned(),
        fields: SchoolFields {
            name: name(id, "name", rec.get("name"))?,
            district_code: code.to_owned(),
            time_zone: None,
            address: None,
        },
    })
}

/// A row of OneRoster `users.csv`: a person named by their preferred names when given, with
/// email and phone (`phone`, else `sms`). Roles and agents are not stored (see docs/IMPORT.md).
pub fn oneroster_user(rec: &Record<'_>) -> Result<RowIntent<PersonFields>, RowError> {
    let id = sourced_id(rec, "sourcedId")?;
    if deleted(rec, id)? {
        return Ok(RowIntent::Delete {
            sourced_id: id.to_owned(),
        });
    }
    let given = rec
        .get("preferredGivenName")
        .or(rec.get("givenName"))
        .ok_or_else(|| err(Some(id), "givenName", "is required"))?;
    let family = rec
        .get("preferredFamilyName")
        .or(rec.get("familyName"))
        .ok_or_else(|| err(Some(id), "familyName", "is required"))?;
    let display = format!("{given} {family}");
    let phone_column = if rec.get("phone").is_some() {
        "phone"
    } else {
        "sms"
    };
    Ok(RowIntent::Upsert {
        sourced_id: id.to_owned(),
        fields: PersonFields {
            display_name: name(id, "givenName", Some(&display))?,
            email: email(id, "email", rec.get("email"))?,
            phone: phone(id, phone_column, rec.get(phone_column))?,
            preferred_language: None,
        },
    })
}

/// A row of cogov's `schools.csv`.
pub fn cogov_school(rec: &Record<'_>) -> Result<RowIntent<SchoolFields>, RowError> {
    let id = sourced_id(rec, "external_id")?;
    if deleted(rec, id)? {
        return Ok(RowIntent::Delete {
            sourced_id: id.to_owned(),
        });
    }
    let code = rec
        .get("district_code")
        .ok_or_else(|| err(Some(id), "district_code", "is required"))?;
    if code.chars().count() > CODE_MAX || code.chars().any(char::is_whitespace) {
        return Err(err(
            Some(id),
            "district_code",
            format!("must be 1 to {CODE_MAX} characters without spaces"),
        ));
    }
    let tz = rec
        .get("time_zone")
        .ok_or_else(|| err(Some(id), "time_zone", "is required"))?;
    if tz.parse::<chrono_tz::Tz>().is_err() {
        return Err(err(
            Some(id),
            "time_zone",
            "is not an IANA time zone such as America/Los_Angeles",
        ));
    }
    let address = rec.get("address");
    if address.is_some_and(|a| a.chars().count() > 500) {
        return Err(err(Some(id), "address", "must be at most 500 characters"));
    }
    Ok(RowIntent::Upsert {
        sourced_id: id.to_owned(),
        fields: SchoolFields {
            name: name(id, "name", rec.get("name"))?,
            district_code: code.to_owned(),
            time_zone: Some(tz.to_owned()),
            address: Some(address.map(str::to_owned)),
        },
    })
}

/// A row of cogov's `people.csv`.
pub fn cogov_person(rec: &Record<'_>) -> Result<RowIntent<PersonFields>, RowError> {
    let id = sourced_id(rec, "external_id")?;
    if deleted(rec, id)? {
        return Ok(RowIntent::Delete {
            sourced_id: id.to_owned(),
        });
    }
    let language = rec.get("preferred_language");
    if let Some(l) = language {
        let ok = l.len() <= 35
            && l.split('-').enumerate().all(|(i, part)| {
                let n = part.len();
                part.chars().all(|c| c.is_ascii_alphanumeric())
                    && if i == 0 {
                        part.chars().all(|c| c.is_ascii_alphabetic())
                            && ((2..=3).contains(&n) || (5..=8).contains(&n))
                    } else {
                        (1..=8).contains(&n)
                    }
            });
        if !ok {
            return Err(err(
                Some(id),
                "preferred_language",
                "is not a BCP 47 language tag such as es-MX",
            ));
        }
    }
    Ok(RowIntent::Upsert {
        sourced_id: id.to_owned(),
        fields: PersonFields {
            display_name: name(id, "display_name", rec.get("display_name"))?,
            email: email(id, "email", rec.get("email"))?,
            phone: phone(id, "phone", rec.get("phone"))?,
            preferred_language: language.map(str::to_owned),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record<'a>(columns: &'a HashMap<String, usize>, values: &[&'a str]) -> Record<'a> {
        Record {
            columns,
            values: values.to_vec(),
        }
    }

    fn columns(names: &[&str]) -> HashMap<String, usize> {
        names
            .iter()
            .enumerate()
            .map(|(i, n)| ((*n).to_owned(), i))
            .collect()
    }

    #[test]
    fn formats_are_told_apart_by_file_names() {
        let names = |n: &[&str]| n.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            detect(&names(&["manifest.csv", "users.csv"])),
            Ok(Format::OneRoster)
        );
        assert_eq!(detect(&names(&["people.csv"])), Ok(Format::Cogov));
        assert!(detect(&names(&["users.csv", "people.csv"])).is_err());
        assert!(detect(&names(&["classes.csv"])).is_err());
    }

    #[test]
    fn oneroster_users_become_people() {
        let cols = columns(&[
            "sourcedId",
            "status",
            "givenName",
            "familyName",
            "email",
            "phone",
            "preferredGivenName",
        ]);
        let row = oneroster_user(&record(
            &cols,
            &["u1", "", "María", "López", "m@example.org", "", "Mari"],
        ))
        .unwrap();
        assert_eq!(
            row,
            RowIntent::Upsert {
                sourced_id: "u1".into(),
                fields: PersonFields {
                    display_name: "Mari López".into(),
                    email: Some("m@example.org".into()),
                    phone: None,
                    preferred_language: None,
                }
            }
        );
        let bad = oneroster_user(&record(&cols, &["u2", "", "A", "B", "not-mail", "", ""]));
        assert_eq!(bad.unwrap_err().field, "email");
        let gone = oneroster_user(&record(&cols, &["u3", "tobedeleted", "", "", "", "", ""]));
        assert_eq!(
            gone.unwrap(),
            RowIntent::Delete {
                sourced_id: "u3".into()
            }
        );
    }

    #[test]
    fn the_manifest_declares_each_file_and_its_mode() {
        let header = vec!["propertyName".to_owned(), "value".to_owned()];
        let row = |line: i64, k: &str, v: &str| (line, vec![k.to_owned(), v.to_owned()]);
        let present = vec!["users.csv".to_owned()];
        let good = manifest(
            &header,
            &[
                row(2, "manifest.version", "1.0"),
                row(3, "oneroster.version", "1.2"),
                row(4, "file.users", "bulk"),
                row(5, "file.orgs", "absent"),
            ],
            &present,
        )
        .unwrap();
        assert_eq!(good.mode("users.csv"), Mode::Bulk);
        assert_eq!(good.mode("orgs.csv"), Mode::Absent);
        assert_eq!(good.mode("classes.csv"), Mode::Absent);
        let bad = manifest(
            &header,
            &[
                row(2, "manifest.version", "1.0"),
                row(3, "oneroster.version", "1.1"),
                row(4, "file.orgs", "delta"),
            ],
            &present,
        )
        .unwrap_err();
        let brief: Vec<(Option<i64>, &str)> =
            bad.iter().map(|p| (p.line, p.field.as_str())).collect();
        assert_eq!(
            brief,
            vec![
                (Some(3), "oneroster.version"),
                (Some(4), "file.orgs"),
                (None, "file.users")
            ]
        );
    }

    #[test]
    fn dates_last_modified_are_iso_8601() {
        let cols = columns(&["sourcedId", "dateLastModified"]);
        let at = |v: &str| date_last_modified(&record(&cols, &["u1", v]));
        assert_eq!(
            at("2026-11-20T08:00:00Z").unwrap().map(|t| t.to_string()),
            Some("2026-11-20 08:00:00".to_owned())
        );
        assert_eq!(
            at("2026-11-20T09:30:00.250+01:30")
                .unwrap()
                .map(|t| t.to_string()),
            Some("2026-11-20 08:00:00.250".to_owned())
        );
        assert_eq!(at("").unwrap(), None);
        assert_eq!(at("20.11.2026").unwrap_err().field, "dateLastModified");
    }

    #[test]
    fn only_school_orgs_are_schools() {
        let cols = columns(&["sourcedId", "name", "type", "identifier"]);
        let district = oneroster_org(&record(&cols, &["d1", "District", "district", ""]));
        assert!(matches!(district, Ok(RowIntent::Skip { .. })));
        let school = oneroster_org(&record(&cols, &["s1", "Roosevelt", "school", "1937"]));
        assert!(matches!(
            school,
            Ok(RowIntent::Upsert { fields: SchoolFields { ref district_code, .. }, .. }) if district_code == "1937"
        ));
    }
}
