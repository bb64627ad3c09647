//! HTTP plumbing shared by every route: how an answer is written down.
//!
//! - `responses`: the headers each kind of answer goes out with;
//! - `representation`: an answer made once, gzipped and tagged, then sent
//!   as each request accepts (or as a 304);
//! - `query`: one value from the query string, decoded and checked;
//! - `clock`: the time, as HTTP dates and as the page writes it.
//!
//! The bottom layer: it imports nothing else from this crate.

pub mod clock;
pub mod query;
pub mod representation;
pub mod responses;
