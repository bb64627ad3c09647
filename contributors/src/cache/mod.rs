//! Caching: what keeps a page view from becoming a GitHub request.
//!
//! Two generic pieces, used by the GitHub lists, the pages and the avatars:
//! [`LruCache`], a map bounded by entries and bytes that forgets the least
//! recently used first, and [`Coalescer`], which lets many requests for one
//! missing entry share one fetch. They know nothing of HTTP or GitHub, and
//! import nothing else from this crate.

mod coalescer;
mod lru_cache;

pub use coalescer::Coalescer;
pub use lru_cache::LruCache;
