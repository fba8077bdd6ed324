//! Directory information (FERPA 99.37): which of a person's fields cogov shows beyond those with
//! a legitimate interest. cogov holds three such fields: the name (public on seat rosters), the
//! email address and the phone number (shown to fellow council members).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A directory field a person may withhold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DirectoryField {
    Name,
    Email,
    Phone,
}

impl DirectoryField {
    pub const ALL: [DirectoryField; 3] = [
        DirectoryField::Name,
        DirectoryField::Email,
        DirectoryField::Phone,
    ];
}

/// The fields withheld from callers without a legitimate interest: those opted out, and every
/// field of a homeless youth (McKinney-Vento; Ed. Code 49073: never released without consent).
pub fn withheld(opt_outs: &[DirectoryField], homeless_youth: bool) -> Vec<DirectoryField> {
    let mut fields: Vec<DirectoryField> = if homeless_youth {
        DirectoryField::ALL.to_vec()
    } else {
        opt_outs.to_vec()
    };
    fields.sort();
    fields.dedup();
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_homeless_youth_withholds_everything() {
        use DirectoryField::*;
        assert_eq!(withheld(&[], false), []);
        assert_eq!(withheld(&[Phone, Name, Phone], false), [Name, Phone]);
        assert_eq!(withheld(&[], true), [Name, Email, Phone]);
    }
}
