//! Who is left out of a list as shown: bots, unless `bots=1` brings them
//! back, and the accounts named in `exclude=login1,login2`.
//!
//! Filtering happens after `max`: `max` slices GitHub's list (as it always
//! did, so a list held for one `max` serves every smaller one), and the
//! filter then drops entries from that slice. So `?max=10` shows at most
//! ten, fewer when bots are among GitHub's first ten, and the same URL
//! always shows the same people for the same list, whatever else was asked
//! before. The page says how many bots it left out, with a link that shows
//! them (`pages.rs`).
//!
//! `exclude` names are visitor input that never goes upstream, but each is
//! still checked like a login (`names::check_login`): at most
//! [`MAX_EXCLUDED`], so the cost of a request and the size of its cache
//! key stay bounded. They are held folded to lower case, sorted and
//! deduplicated: GitHub's logins ignore case, and two spellings of one set
//! are one cache key.

use crate::github::Contributor;
use crate::github::names::check_login;
use crate::http::query::query_value;

/// The most logins one `exclude=` may name.
pub const MAX_EXCLUDED: usize = 20;

/// Who is left out: bots (unless `bots`), and the logins in `exclude`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Filter {
    /// `bots=1`: accounts of type `Bot` are shown.
    pub bots: bool,
    /// Logins left out, folded to lower case, sorted, without repeats.
    exclude: Vec<String>,
}

/// What a filter kept of a list, and how many bots it left out.
pub struct Filtered<'a> {
    pub kept: Vec<&'a Contributor>,
    pub bots_left_out: usize,
}

impl Filter {
    /// `bots=0|1` and `exclude=a,b` from the query string, or the sentence
    /// a 400 answer shows.
    pub fn from_query(query: Option<&str>) -> Result<Filter, String> {
        let bots = crate::http::query::switch(query, "bots")?;
        let mut exclude = Vec::new();
        if let Some(list) = query_value(query, "exclude") {
            for login in list.split(',').map(str::trim).filter(|l| !l.is_empty()) {
                if exclude.len() == MAX_EXCLUDED {
                    return Err(format!("exclude names at most {MAX_EXCLUDED} logins"));
                }
                check_login(login).map_err(|why| format!("exclude: {login:?}: {why}"))?;
                exclude.push(login.to_ascii_lowercase());
            }
        }
        exclude.sort_unstable();
        exclude.dedup();
        Ok(Filter { bots, exclude })
    }

    /// Whether `contributor` is shown.
    fn keeps(&self, contributor: &Contributor) -> bool {
        if !self.bots && contributor.is_bot() {
            return false;
        }
        match (&contributor.login, self.exclude.is_empty()) {
            (Some(login), false) => !self.exclude.iter().any(|x| x.eq_ignore_ascii_case(login)),
            _ => true,
        }
    }

    /// The contributors of `list` this filter shows, in order.
    pub fn apply<'a>(&self, list: &'a [Contributor]) -> Filtered<'a> {
        let kept: Vec<&Contributor> = list.iter().filter(|c| self.keeps(c)).collect();
        let bots_left_out = if self.bots {
            0
        } else {
            list.iter().filter(|c| c.is_bot()).count()
        };
        Filtered {
            kept,
            bots_left_out,
        }
    }

    /// How many of `list` this filter shows, without collecting them.
    pub fn count(&self, list: &[Contributor]) -> usize {
        list.iter().filter(|c| self.keeps(c)).count()
    }

    /// The same filter with bots shown: what the page's "show them" link
    /// asks for.
    pub fn with_bots(&self) -> Filter {
        Filter {
            bots: true,
            ..self.clone()
        }
    }

    /// The filter as query parameters, each one after a `&`, none for the
    /// defaults: what a link made from this answer carries on.
    pub fn query(&self) -> String {
        let mut query = String::new();
        if self.bots {
            query.push_str("&bots=1");
        }
        if let Some(logins) = self.excluded() {
            // A bot's login is checked to be letters, digits, `-` and `[bot]`.
            let logins = logins.replace('[', "%5B").replace(']', "%5D");
            query.push_str(&format!("&exclude={logins}"));
        }
        query
    }

    /// Bytes the logins take, for a cache key's weight.
    pub fn weight(&self) -> usize {
        (self.exclude.iter())
            .map(|login| size_of::<String>() + login.len())
            .sum()
    }

    /// The logins left out, as the query string names them (`a,b`), or
    /// `None` when there are none.
    pub fn excluded(&self) -> Option<String> {
        (!self.exclude.is_empty()).then(|| self.exclude.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(login: &str, kind: &str) -> Contributor {
        Contributor {
            login: Some(login.into()),
            id: Some(1),
            html_url: None,
            contributions: 1,
            name: None,
            kind: Some(kind.into()),
        }
    }

    #[test]
    fn bots_and_named_accounts_are_left_out() {
        let list = [
            person("Octocat", "User"),
            person("dependabot[bot]", "Bot"),
            person("hubot", "User"),
            person("renovate[bot]", "Bot"),
        ];
        let logins = |filter: &Filter| -> Vec<String> {
            let filtered = filter.apply(&list);
            (filtered.kept.iter())
                .map(|c| c.login.clone().unwrap())
                .collect()
        };
        let none = Filter::from_query(None).unwrap();
        assert_eq!(logins(&none), ["Octocat", "hubot"]);
        assert_eq!(none.apply(&list).bots_left_out, 2);
        assert_eq!(none.count(&list), 2);
        let bots = Filter::from_query(Some("bots=1")).unwrap();
        assert_eq!(logins(&bots).len(), 4);
        assert_eq!(bots.apply(&list).bots_left_out, 0);
        let named = Filter::from_query(Some("exclude=OCTOCAT,renovate[bot]&bots=1")).unwrap();
        assert_eq!(logins(&named), ["dependabot[bot]", "hubot"]);
        assert_eq!(named.excluded().as_deref(), Some("octocat,renovate[bot]"));
        assert_eq!(named.query(), "&bots=1&exclude=octocat,renovate%5Bbot%5D");
        let again = Filter::from_query(Some(&named.query()[1..])).unwrap();
        assert_eq!(again, named);
        assert_eq!(none.query(), "");
        assert_eq!(none.with_bots(), bots);
    }

    #[test]
    fn exclude_lists_are_checked_and_canonical() {
        let a = Filter::from_query(Some("exclude=b,A,,b")).unwrap();
        let b = Filter::from_query(Some("exclude=a%2CB")).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.excluded().as_deref(), Some("a,b"));
        for bad in [
            "exclude=a/b",
            "exclude=-a",
            "exclude=%3Cscript%3E",
            "bots=2",
        ] {
            assert!(Filter::from_query(Some(bad)).is_err(), "{bad}");
        }
        let twenty: Vec<String> = (0..20).map(|i| format!("u{i}")).collect();
        let query = format!("exclude={}", twenty.join(","));
        assert!(Filter::from_query(Some(&query)).is_ok());
        let query = format!("{query},u20");
        let refused = Filter::from_query(Some(&query)).unwrap_err();
        assert_eq!(refused, "exclude names at most 20 logins");
    }
}
