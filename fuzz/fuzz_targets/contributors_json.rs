//! `contributors::github::decode_page`: one page of GitHub's contributors
//! list, JSON from upstream (untrusted, up to `MAX_PAGE_BYTES`).
//!
//! Invariants: never panics; an error is one of the two documented kinds; an
//! accepted body is a JSON array of as many elements as contributors came
//! out; each contributor, written back out as JSON, decodes to itself; and
//! `profile_url()` only ever yields the `html_url`, and only an http(s) one.
#![no_main]

use contributors::github::{Contributor, decode_page};
use libfuzzer_sys::fuzz_target;
use serde::de::IgnoredAny;
use serde_json::{Map, Value};

/// `Contributor` only derives `Deserialize`: write it out by hand.
fn to_json(c: &Contributor) -> Value {
    let mut object = Map::new();
    if let Some(login) = &c.login {
        object.insert("login".into(), login.clone().into());
    }
    if let Some(id) = c.id {
        object.insert("id".into(), id.into());
    }
    if let Some(url) = &c.html_url {
        object.insert("html_url".into(), url.clone().into());
    }
    object.insert("contributions".into(), c.contributions.into());
    if let Some(name) = &c.name {
        object.insert("name".into(), name.clone().into());
    }
    Value::Object(object)
}

fuzz_target!(|data: &[u8]| {
    let list = match decode_page(data) {
        Ok(list) => list,
        Err(e) => {
            assert!(
                e.starts_with("not JSON (") || e.starts_with("not a list of contributors ("),
                "unexpected error text {e:?}"
            );
            return;
        }
    };

    // Whatever was accepted is a JSON array with one element per entry.
    // (Compared with `Vec<IgnoredAny>`, not `Value`: serde_json skips unknown
    // fields without checking them, so an accepted page may hold invalid
    // UTF-8 or out-of-range numbers there, which `Value` would refuse.)
    match serde_json::from_slice::<Vec<IgnoredAny>>(data) {
        Ok(items) => assert_eq!(items.len(), list.len()),
        Err(e) => panic!("decode_page accepted a non-array: {e}"),
    }

    for c in &list {
        match (c.profile_url(), c.html_url.as_deref()) {
            (Some(url), html) => {
                assert_eq!(Some(url), html);
                assert!(
                    url.starts_with("https://") || url.starts_with("http://"),
                    "profile link {url:?}"
                );
            }
            (None, Some(html)) => assert!(
                !html.starts_with("https://") && !html.starts_with("http://"),
                "dropped web link {html:?}"
            ),
            (None, None) => {}
        }
        assert!(c.weight() >= std::mem::size_of::<Contributor>());
    }

    // Round trip: the same list, re-serialised, decodes to an equal list.
    let again = Value::Array(list.iter().map(to_json).collect()).to_string();
    assert_eq!(decode_page(again.as_bytes()).as_ref(), Ok(&list), "{again}");
});
