//! `contributors::github::next_link`: the `rel="next"` URL of a GitHub `Link`
//! header. The header comes from upstream, so it is untrusted input.
//!
//! Invariants: never panics; a `Some(t)` is a slice of the input itself and
//! holds no `<`, `>` or `,` (those delimit entries, they are never part of
//! the URL we follow).
#![no_main]

use contributors::github::next_link;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Header values reach the parser as `&str` (non-UTF-8 ones are dropped).
    let Ok(header) = std::str::from_utf8(data) else {
        return;
    };
    let Some(target) = next_link(header) else {
        return;
    };

    // A slice of the input, not a copy: its bytes lie inside `header`'s.
    let start = (target.as_ptr() as usize).checked_sub(header.as_ptr() as usize);
    let start = start.unwrap_or_else(|| panic!("{target:?} starts before the header"));
    assert!(
        start + target.len() <= header.len(),
        "{target:?} ends after the header"
    );
    assert_eq!(&header[start..start + target.len()], target);

    assert!(!target.contains(','), "',' in next link {target:?}");
    assert!(
        !target.contains('<') && !target.contains('>'),
        "'<' or '>' in next link {target:?}"
    );
    // Only an entry that says rel=next can produce a link.
    assert!(header.contains("rel="), "no rel= in {header:?}");
    assert!(header.contains("next"), "no 'next' in {header:?}");
});
