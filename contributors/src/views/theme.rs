//! `theme=light|dark`: the colours of what a wall draws besides the
//! avatars (names, placeholder discs, "No contributors yet") and of the
//! SVG that says why there is no wall.
//!
//! The wall itself is transparent, so it reads on both backgrounds; what
//! it writes must not. A README picks one per colour scheme with a
//! `<picture>` whose `<source media="(prefers-color-scheme: dark)">` asks
//! for `theme=dark` (the page's Embed box offers that snippet). The
//! colours are GitHub's own (Primer's muted text and border greys), so the
//! wall sits on a README as GitHub's own text does. `light` is the default,
//! the wall as it was before themes.

use crate::http::query::query_value;

/// Which colours a wall draws with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Theme {
    #[default]
    Light,
    Dark,
}

/// The colours of the SVG that says why there is no wall.
pub struct MessageColours {
    pub fill: &'static str,
    pub stroke: &'static str,
    pub text: &'static str,
}

impl Theme {
    /// `theme=` from the query string: `light` when absent.
    pub fn from_query(query: Option<&str>) -> Result<Theme, String> {
        match query_value(query, "theme").as_deref() {
            None | Some("light") => Ok(Theme::Light),
            Some("dark") => Ok(Theme::Dark),
            Some(_) => Err("theme must be light or dark".into()),
        }
    }

    /// The theme to say an error in: the one asked for, or `light` when
    /// what was asked is not a theme (that error too must be drawn).
    pub fn or_light(query: Option<&str>) -> Theme {
        Theme::from_query(query).unwrap_or_default()
    }

    /// For the cache key: 0 light, 1 dark.
    pub fn number(self) -> usize {
        self as usize
    }

    /// Text: names under the avatars, "No contributors yet".
    pub fn text(self) -> &'static str {
        match self {
            Theme::Light => "#59636e",
            Theme::Dark => "#9198a1",
        }
    }

    /// A 1×1 PNG of the border grey, drawn as a disc for a contributor
    /// without an avatar (anonymous, or one that failed to load).
    pub fn placeholder(self) -> &'static str {
        match self {
            // #d0d7de
            Theme::Light => {
                "data:image/png;base64,\
                 iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR42mO4cP0eAAUAAobdcGELAAAAAElFTkSuQmCC"
            }
            // #3d444d
            Theme::Dark => {
                "data:image/png;base64,\
                 iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR42mOwdfEFAAGQAM/PvuFKAAAAAElFTkSuQmCC"
            }
        }
    }

    /// The error box's colours: a pale red box with dark text, or a dark
    /// red box with light text.
    pub fn message(self) -> MessageColours {
        match self {
            Theme::Light => MessageColours {
                fill: "#fff8f8",
                stroke: "#d1242f",
                text: "#1f2328",
            },
            Theme::Dark => MessageColours {
                fill: "#25171c",
                stroke: "#f85149",
                text: "#f0f6fc",
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn themes_are_read_and_checked() {
        assert_eq!(Theme::from_query(None), Ok(Theme::Light));
        assert_eq!(Theme::from_query(Some("theme=light")), Ok(Theme::Light));
        assert_eq!(Theme::from_query(Some("theme=dark")), Ok(Theme::Dark));
        assert!(Theme::from_query(Some("theme=blue")).is_err());
        assert_eq!(Theme::or_light(Some("theme=blue")), Theme::Light);
        assert_eq!(Theme::or_light(Some("theme=dark")), Theme::Dark);
        assert_ne!(Theme::Light.placeholder(), Theme::Dark.placeholder());
    }
}
