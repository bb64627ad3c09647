//! The data the fake serves: contributors per repository, and the demo set.
//!
//! Tests build their own [`Fixtures`] (or call `set_contributors` later); the
//! binary uses [`Fixtures::demo`], a handful of repositories chosen to show
//! each thing the app must handle: a short list, many pages, an empty
//! repository and anonymous contributors.

/// One entry of a repository's contributor list.
///
/// A GitHub user has a login and an id; an anonymous contributor (a commit
/// email that matches no account, listed only with `anon=1`) has a name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contributor {
    pub login: Option<String>,
    pub id: Option<u64>,
    pub contributions: u64,
    /// Only for anonymous contributors; their email is derived from it.
    pub name: Option<String>,
    /// An app's account (`dependabot[bot]`): GitHub says `"type": "Bot"`.
    pub bot: bool,
}

impl Contributor {
    /// A GitHub user.
    pub fn user(login: &str, id: u64, contributions: u64) -> Self {
        Contributor {
            login: Some(login.to_owned()),
            id: Some(id),
            contributions,
            name: None,
            bot: false,
        }
    }

    /// An app's account, as GitHub lists one: a login ending in `[bot]`
    /// and the type `Bot`.
    pub fn bot(login: &str, id: u64, contributions: u64) -> Self {
        Contributor {
            bot: true,
            ..Contributor::user(login, id, contributions)
        }
    }

    /// An anonymous contributor, as GitHub lists them with `anon=1`.
    pub fn anonymous(name: &str, contributions: u64) -> Self {
        Contributor {
            login: None,
            id: None,
            contributions,
            name: Some(name.to_owned()),
            bot: false,
        }
    }

    /// Anonymous entries are the ones without a login.
    pub fn is_anonymous(&self) -> bool {
        self.login.is_none()
    }
}

/// The repositories a fake starts with: `(owner, repo, contributors)`.
/// Lists are served in the order given (GitHub sorts by contributions,
/// descending; the demo lists already are), and an owner's repositories
/// most recently pushed first, the last given first. Of those, `forks` are
/// listed as forks, and `failing` answer their contributors with a 500.
#[derive(Clone, Debug, Default)]
pub struct Fixtures {
    pub repos: Vec<(String, String, Vec<Contributor>)>,
    pub forks: Vec<(String, String)>,
    pub failing: Vec<(String, String)>,
}

impl Fixtures {
    /// A few repositories for the offline demo (ids are distinct across all
    /// of them, so every avatar has its own colour):
    ///
    /// - `kelseyhightower/contributors`: 12 users and a bot, one page;
    /// - `rust-lang/rust`: 250 generated users, to show pagination;
    /// - `tokio-rs/tokio`: 40 generated users;
    /// - `torvalds/linux`: 500 generated users, the largest page (`?max=500`);
    /// - `octo/empty`: no contributors, answered with 204 like GitHub;
    /// - `octo/anon`: users and anonymous contributors mixed;
    /// - `octo/broken`: a repository whose list fails (500), and
    ///   `octo/forked`, a fork: `GET /users/octo/repos` lists all four,
    ///   for a wall across an owner's repositories (`/wall.svg?owner=octo`).
    pub fn demo() -> Self {
        let contributors = [
            ("kelseyhightower", 1_123_322, 412),
            ("octocat", 583_231, 97),
            ("mona-lisa-octo", 1_000_101, 64),
            ("hubot", 480_938, 41),
            ("rustacean-rita", 2_000_202, 33),
            ("ferris-the-crab", 2_000_303, 21),
            ("tls-tamsin", 2_000_404, 13),
            ("scratch-sam", 2_000_505, 8),
            ("linker-lena", 2_000_606, 5),
            ("cargo-carl", 2_000_707, 3),
            ("avatar-ava", 2_000_808, 2),
            ("docker-dan", 2_000_909, 1),
        ]
        .iter()
        .map(|&(login, id, n)| Contributor::user(login, id, n))
        .chain([Contributor::bot("dependabot[bot]", 49_699_333, 9)])
        .collect();

        let anon = vec![
            Contributor::user("octo-owner", 3_000_001, 120),
            Contributor::anonymous("Jane Doe", 45),
            Contributor::user("drive-by-dev", 3_000_002, 12),
            Contributor::anonymous("Build Bot", 7),
            Contributor::user("typo-fixer", 3_000_003, 2),
            Contributor::anonymous("Old Laptop", 1),
        ];

        let repo = |owner: &str, name: &str, list| (owner.to_owned(), name.to_owned(), list);
        Fixtures {
            repos: vec![
                repo("kelseyhightower", "contributors", contributors),
                repo("rust-lang", "rust", generated(250, 10_000_000)),
                repo("tokio-rs", "tokio", generated(40, 20_000_000)),
                repo("torvalds", "linux", generated(500, 30_000_000)),
                repo("octo", "empty", Vec::new()),
                repo("octo", "anon", anon),
                repo("octo", "broken", generated(3, 40_000_000)),
                repo("octo", "forked", generated(3, 50_000_000)),
            ],
            forks: vec![("octo".into(), "forked".into())],
            failing: vec![("octo".into(), "broken".into())],
        }
    }
}

/// `count` users with plausible, distinct logins, ids from `first_id` up (in
/// steps of 7, so avatar colours vary) and contributions strictly decreasing:
/// a ready-made long list for pagination tests. The logins depend on
/// `first_id` too, so lists made from different millions name other people.
pub fn generated(count: usize, first_id: u64) -> Vec<Contributor> {
    let salt = (first_id / 1_000_000 % 25) as usize;
    const FIRST: [&str; 25] = [
        "alex", "bea", "chen", "dana", "eli", "fatima", "goran", "hana", "ivan", "jun", "kofi",
        "lena", "mateo", "nadia", "omar", "priya", "quinn", "rosa", "sven", "tariq", "uma",
        "viktor", "wen", "yusuf", "zoe",
    ];
    const SUFFIX: [&str; 10] = [
        "", "-rs", "dev", "-codes", "42", "_io", "-oss", "hacks", "-build", "07",
    ];
    (0..count)
        .map(|i| {
            // Every (first, suffix) pair is distinct for i < 250; beyond that
            // a number keeps logins unique.
            let first = FIRST[(i + salt) % FIRST.len()];
            let suffix = SUFFIX[i / FIRST.len() % SUFFIX.len()];
            let round = i / (FIRST.len() * SUFFIX.len());
            let login = if round == 0 {
                format!("{first}{suffix}")
            } else {
                format!("{first}{suffix}{round}")
            };
            // A long tail, as real projects have: a few large contributors,
            // many with a handful of commits. Strictly decreasing by design.
            let contributions = 20_000 / (i as u64 + 1) + (count - i) as u64;
            Contributor::user(&login, first_id + i as u64 * 7, contributions)
        })
        .collect()
}

/// Contributors named to break whatever shows them, if it forgets to
/// escape: markup, attribute quotes, an entity, a `javascript:` and a
/// `data:` URL, a CDATA end, control characters (not allowed in XML at
/// all), and a login far longer than GitHub's 39 characters. Ids from
/// `first_id` up; one anonymous entry, listed with `anon=1`.
pub fn hostile(first_id: u64) -> Vec<Contributor> {
    let long = "x\"onload=\"alert(1)".repeat(40);
    [
        "<script>alert(1)</script>",
        "\"><svg onload=alert(1)>",
        "' onmouseover='alert(1)",
        "&amp;&lt;&#x3c;",
        "javascript:alert(1)",
        "data:text/html,<b>x</b>",
        "]]><foreignObject/>",
        "bell\u{7}\u{0}nul\u{1b}[31m",
        long.as_str(),
    ]
    .iter()
    .enumerate()
    .map(|(i, login)| Contributor::user(login, first_id + i as u64, 100 - i as u64))
    .chain([Contributor::anonymous("<img src=x onerror=alert(1)>", 1)])
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn demo_logins_and_ids_are_distinct() {
        let fixtures = Fixtures::demo();
        let users: Vec<&Contributor> = fixtures
            .repos
            .iter()
            .flat_map(|(_, _, list)| list)
            .filter(|c| !c.is_anonymous())
            .collect();
        let ids: HashSet<u64> = users.iter().filter_map(|c| c.id).collect();
        assert_eq!(ids.len(), users.len());
        for (_, _, list) in &fixtures.repos {
            let logins: HashSet<&String> = list.iter().filter_map(|c| c.login.as_ref()).collect();
            assert_eq!(
                logins.len(),
                list.iter().filter(|c| !c.is_anonymous()).count()
            );
        }
        let rust = &fixtures.repos[1].2;
        assert_eq!(rust.len(), 250);
        assert!(
            rust.windows(2)
                .all(|w| w[0].contributions > w[1].contributions)
        );
    }
}
