//! The views: a repository's list shown three ways, and the avatars they
//! show.
//!
//! - `pages`: the HTML page (askama templates) and the home page's form;
//! - `wall`: the avatars as one embeddable SVG image, in a `theme`;
//! - `contributors_json`: the list as JSON, for other programs;
//! - `merged_list`: lists across repositories merged by account;
//! - `list_option`: the options of the list routes, one table for the
//!   page's Embed box and the README;
//! - `filter`: who is left out of a list as shown (bots, `exclude=`);
//! - `avatars`: the avatar proxy behind `/avatars/{id}`, which the page, the
//!   JSON and the wall all point at instead of at GitHub;
//! - `seen_ids`: the ids lists have shown, the only avatars the proxy fetches;
//! - `page_cache`: each of them, once made from a list, kept (gzipped and
//!   tagged) until the list changes.
//!
//! A view may use the GitHub layer's types (a list, a contributor, a
//! name), `http` and `cache`; it never calls GitHub for a list itself:
//! `routes.rs` hands it the list.

pub mod avatars;
pub mod contributors_json;
pub mod filter;
pub mod list_option;
pub mod merged_list;
pub mod page_cache;
pub mod pages;
pub mod seen_ids;
pub mod theme;
pub mod wall;
