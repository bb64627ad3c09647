//! A list across repositories (`/wall.svg?repos=a/b,c/d`, `?owner=NAME`):
//! each repository's list as shown, merged by account, contributions
//! summed, most first.
//!
//! An account is its id (a login renamed on GitHub is still one person);
//! an entry without one (anonymous, or a deleted account) is its login or
//! its name. Ties keep the order of the repositories given, so the same
//! lists always merge the same way.

use std::collections::HashMap;

use crate::github::Contributor;

/// What makes two entries one contributor.
#[derive(PartialEq, Eq, Hash)]
enum Account {
    Id(u64),
    Login(String),
    Name(String),
    Unknown,
}

impl Account {
    fn of(contributor: &Contributor) -> Account {
        match (contributor.id, &contributor.login, &contributor.name) {
            (Some(id), _, _) => Account::Id(id),
            (None, Some(login), _) => Account::Login(login.to_ascii_lowercase()),
            (None, None, Some(name)) => Account::Name(name.clone()),
            (None, None, None) => Account::Unknown,
        }
    }
}

/// The contributors of `lists`, one entry an account, with the sum of
/// their contributions, sorted by it (most first), the first `max` of them.
pub fn merge(lists: &[&[Contributor]], max: usize) -> Vec<Contributor> {
    let mut merged: Vec<Contributor> = Vec::new();
    let mut seen: HashMap<Account, usize> = HashMap::new();
    for contributor in lists.iter().flat_map(|list| list.iter()) {
        match seen.get(&Account::of(contributor)) {
            Some(&at) => {
                let held = &mut merged[at];
                held.contributions = held.contributions.saturating_add(contributor.contributions);
            }
            None => {
                seen.insert(Account::of(contributor), merged.len());
                merged.push(contributor.clone());
            }
        }
    }
    // Stable: ties stay in the order met.
    merged.sort_by_key(|c| std::cmp::Reverse(c.contributions));
    merged.truncate(max);
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(login: &str, id: u64, contributions: u64) -> Contributor {
        Contributor {
            login: Some(login.into()),
            id: Some(id),
            html_url: None,
            contributions,
            name: None,
            kind: Some("User".into()),
        }
    }

    #[test]
    fn accounts_are_merged_and_summed_most_first() {
        let a = [user("ann", 1, 5), user("bob", 2, 3)];
        let mut renamed = user("bobby", 2, 4);
        renamed.html_url = Some("x".into());
        let b = [renamed, user("cid", 3, 8), user("ann", 1, 1)];
        let merged = merge(&[&a, &b], 10);
        let summary: Vec<(&str, u64)> = (merged.iter())
            .map(|c| (c.login.as_deref().unwrap(), c.contributions))
            .collect();
        // Bob kept the first spelling met; ties would keep the order met.
        assert_eq!(summary, [("cid", 8), ("bob", 7), ("ann", 6)]);
        assert_eq!(merge(&[&a, &b], 2).len(), 2);
        assert!(merge(&[], 10).is_empty());
    }
}
