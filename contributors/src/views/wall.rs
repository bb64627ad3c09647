//! The contributor wall: `GET /{owner}/{repo}/wall.svg`, the avatars of a
//! repository's contributors in a grid, as one SVG image to embed in a
//! README.
//!
//! - **Self-contained.** An SVG shown as an image (`<img>`, a Markdown
//!   viewer, GitHub's image proxy) may load nothing external, so every
//!   avatar is inlined as a `data:` URI. The avatars come from the avatar
//!   proxy (`avatars.rs`): its cache, its coalescing of concurrent fetches,
//!   its checks on what comes back (raster types only, a size cap).
//! - **Inert.** The document is written here by hand, and every piece of
//!   text in it (logins, names, messages) goes through [`push_text`], which
//!   escapes markup and drops characters XML cannot hold. There is no
//!   script, no `foreignObject`, no event attribute and no link; and its
//!   answers carry a Content-Security-Policy that allows `data:` images
//!   only (`responses.rs`).
//! - **Drawing.** Round avatars (one shared `clipPath`), each with a
//!   `<title>` (the tooltip when the SVG is opened directly) naming the
//!   login and the count. An avatar that cannot be had becomes a grey
//!   placeholder disc; it never fails the wall. [`message`] draws the small
//!   SVG that says why a wall is missing ("Not found: o/r not found").
//! - **Bounded.** One wall fetches at most [`FETCHES_AT_ONCE`] avatars at
//!   a time (enough for a cold wall of 100 in two round trips; the avatar
//!   proxy caps all walls and visitors together at twice that), and inlines
//!   at most [`IMAGE_BUDGET`] bytes of them (the rest become placeholders),
//!   so the whole SVG stays under [`MAX_SVG_BYTES`] (4.63 MiB) even for 500
//!   contributors with large pictures.
//! - **On a deadline.** A wall waits for avatars until the upstream timeout
//!   and no longer, and not at all while the avatar server is known to be
//!   down; what it did not get is a placeholder, and such a partial wall is
//!   kept only [`PARTIAL_TTL`]. Each avatar fetch it starts is one of the
//!   client's lookups (joining a running one, or memory, is free).
//! - **Off the async workers** ([`Walls`]): drawn and gzipped (only when
//!   that pays, [`gzip_level`]) on blocking threads, [`RENDERS_AT_ONCE`] at
//!   a time, with the bytes of all walls alive bounded.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use flate2::Compression;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use crate::github::Contributor;
use crate::github::contributor_lists::LIMIT_MAX;
use crate::github::error::UpstreamError;
use crate::http::representation::gzip;
use crate::views::avatars::{Avatar, Avatars, fetch_size};
use crate::views::theme::Theme;

/// The avatar sizes a wall draws, in pixels (`?size=` snaps to one).
pub const SIZES: [u16; 4] = [32, 48, 64, 96];
/// `?size=` when absent.
pub const DEFAULT_SIZE: u16 = 64;
/// `?columns=` when absent, and its largest value.
pub const DEFAULT_COLUMNS: usize = 12;
pub const MAX_COLUMNS: usize = 50;
/// Avatars one wall fetches at the same time, at most: a 500-avatar wall
/// must not open 500 connections upstream at once. Over HTTP/1.1 each
/// fetch holds a connection of its own, so this is what lets a cold wall
/// of 100 fetch its avatars in two round trips after its list's one (the
/// goal: four at most; 8 at a time took thirteen). The avatar proxy's cap,
/// across walls and visitors, is twice this.
pub const FETCHES_AT_ONCE: usize = 50;
/// Bytes of inlined images (as `data:` URIs) one wall holds at most.
pub const IMAGE_BUDGET: usize = 4 << 20;
/// Characters of a name shown in a tooltip, at most; GitHub's logins are
/// 39 at most, and an upstream sending longer ones gets them cut.
const NAME_CHARS: usize = 100;
/// The markup of one avatar besides its image, at most: position and size
/// attributes, the placeholder's `data:` URI, and a tooltip of
/// `NAME_CHARS` characters of up to 6 bytes each (`&quot;`) plus the count.
const TILE_MARKUP_MAX: usize = 1024;
/// With `names=1`, the markup of the login under it, at most: its place,
/// and [`NAME_FIT_MAX`] characters of up to 6 bytes each.
const NAME_MARKUP_MAX: usize = 256;
/// Characters of a login written under an avatar, at most: as many as the
/// widest cell (96 pixels and its gap) holds at [`NAME_FONT`] pixels.
const NAME_FIT_MAX: usize = 16;
/// The font size of the names under the avatars, in pixels, and the
/// height of their line.
const NAME_FONT: usize = 11;
const NAME_LINE: usize = NAME_FONT + 5;
/// The largest wall this module writes: the image budget, plus each
/// avatar's markup, plus the opening and closing lines.
pub const MAX_SVG_BYTES: usize =
    IMAGE_BUDGET + LIMIT_MAX * (TILE_MARKUP_MAX + NAME_MARKUP_MAX) + OPENING_MAX;
/// Characters of a wall's own title, at most: room for the names of 20
/// repositories, and of those skipped with why.
const TITLE_CHARS: usize = 2000;
/// The opening and closing lines, at most: the title twice (the label and
/// `<title>`), of up to 6 bytes a character, and the tags around it.
const OPENING_MAX: usize = 2 * 6 * TITLE_CHARS + 1024;

/// How the grid is laid out and drawn: avatars per row, their size in
/// pixels, whether each login is written under its avatar (`names=1`),
/// and the colours (`theme=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub columns: usize,
    pub size: u16,
    pub names: bool,
    pub theme: Theme,
}

/// Snaps a requested avatar size to the smallest wall size at least as
/// large, or the largest one.
pub fn snap_size(pixels: usize) -> u16 {
    SIZES
        .iter()
        .copied()
        .find(|&s| usize::from(s) >= pixels)
        .unwrap_or(SIZES[SIZES.len() - 1])
}

/// The avatars of a wall, one slot per contributor (`None`: a placeholder).
pub struct Pictures {
    pub images: Vec<Option<Arc<Avatar>>>,
    /// Avatars drawn as placeholders that a later view may get: failed
    /// (and remembered for a while), not fetched by the deadline, refused
    /// by the client's budget, or not asked for while the avatar server is
    /// down. A wall with any is partial: kept only briefly.
    pub missing: usize,
    /// Bytes of the images held, as `data:` URIs.
    pub image_bytes: usize,
}

impl Pictures {
    /// Holds `avatar` for `slot` if the image budget has room; once it is
    /// full, nothing more is held.
    fn hold(&mut self, slot: usize, avatar: Arc<Avatar>) {
        let bytes = data_uri_len(avatar.content_type, avatar.image.body().len());
        if self.image_bytes + bytes <= IMAGE_BUDGET {
            self.image_bytes += bytes;
            self.images[slot] = Some(avatar);
        } else {
            self.image_bytes = IMAGE_BUDGET;
        }
    }
}

/// Fetches the avatars of `contributors` for a wall of `size`-pixel
/// avatars, through the avatar proxy, at most [`FETCHES_AT_ONCE`] at a
/// time; once [`IMAGE_BUDGET`] bytes are held, the rest are not fetched.
///
/// What memory holds (a picture, or a failure remembered) is taken at
/// once. The rest is waited for until `deadline` only, and not at all
/// while the avatar server is known to be down: unreachable, or silent
/// past the timeout (one fetch goes out then, in the background, to find
/// out when it is back). An error status is an answer: it fails that
/// avatar alone. `admit` is asked
/// before each fetch this starts (the client's budget); joining a fetch
/// already running is free. Fetches still running at the deadline go on
/// in their own tasks, and are kept for the next view.
pub async fn fetch_pictures(
    avatars: &Avatars,
    contributors: &[Contributor],
    size: u16,
    deadline: Instant,
    admit: &(dyn Fn() -> Result<(), UpstreamError> + Sync),
) -> Pictures {
    let size = fetch_size(u32::from(size));
    let mut pictures = Pictures {
        images: vec![None; contributors.len()],
        missing: 0,
        image_bytes: 0,
    };
    let mut wanted = Vec::new();
    for (slot, id) in (contributors.iter().enumerate()).filter_map(|(slot, c)| Some((slot, c.id?)))
    {
        match avatars.cached(id, size) {
            Some(Ok(avatar)) => pictures.hold(slot, avatar),
            Some(Err(_)) => pictures.missing += 1,
            None => wanted.push((slot, id)),
        }
    }
    if !avatars.host_is_up() {
        if let Some(&(_, id)) = wanted.first() {
            // Not waited for: its task runs on, and tells the health state.
            let _probe = avatars.begin(id, size, admit);
        }
        pictures.missing += wanted.len();
        return pictures;
    }
    let mut wanted = wanted.into_iter();
    let mut fetches = JoinSet::new();
    loop {
        // No new fetch once the host is known to be down (the ones so far
        // may have just said so): the rest are placeholders at once.
        while fetches.len() < FETCHES_AT_ONCE
            && pictures.image_bytes < IMAGE_BUDGET
            && avatars.host_is_up()
        {
            let Some((slot, id)) = wanted.next() else {
                break;
            };
            match avatars.begin(id, size, admit) {
                Ok(waiting) => drop(fetches.spawn(async move { (slot, waiting.await) })),
                Err(_refused) => pictures.missing += 1,
            }
        }
        let done = match tokio::time::timeout_at(deadline.into(), fetches.join_next()).await {
            Ok(Some(done)) => done,
            Ok(None) => {
                if pictures.image_bytes < IMAGE_BUDGET {
                    pictures.missing += wanted.len();
                }
                break;
            }
            Err(_late) => {
                // Dropping `fetches` drops the waits, not the fetches.
                pictures.missing += fetches.len();
                if pictures.image_bytes < IMAGE_BUDGET {
                    pictures.missing += wanted.len();
                }
                break;
            }
        };
        match done {
            Ok((slot, Ok(avatar))) => pictures.hold(slot, avatar),
            Ok((_, Err(_))) | Err(_) => pictures.missing += 1,
        }
    }
    pictures
}

/// Walls in the making, and the memory walls hold.
///
/// A new wall is megabytes of text, made and hashed (and perhaps gzipped)
/// in one go: on an async worker, that would stall every other request on
/// it (`/healthz` included) for as long. So walls are made on tokio's
/// blocking threads, [`RENDERS_AT_ONCE`] at a time.
///
/// And a wall, once made, is held until its last copy goes: in the page
/// cache, or in a response that a client reads slowly or never. Walls of
/// ever new options from clients that never read would each hold their
/// megabytes until the write timeout. So every wall's bytes (each form)
/// hold permits from one count of bytes, given back when those bytes are
/// freed (`Bytes::from_owner`). A wall that cannot have its bytes at once
/// is not made (503): what holds them is walls on their way out, which a
/// client that never reads keeps until the write timeout. Waiting that
/// long would keep this request's connection busy too, and a full server
/// admits a newcomer (the liveness probe, say) only by closing an idle
/// connection; the 503 leaves this one idle.
pub struct Walls {
    renders: Arc<Semaphore>,
    bytes: Arc<Semaphore>,
    max_bytes: usize,
}

/// Walls rendered and compressed at once: one core's worth each.
pub const RENDERS_AT_ONCE: usize = 2;
/// How long a partial wall (see [`Pictures::missing`]) is kept: its repeats
/// do not wait again, and its placeholders are soon tried again.
pub const PARTIAL_TTL: Duration = Duration::from_secs(30);

/// A wall made and ready to keep and send.
pub struct Made {
    pub body: Bytes,
    pub gzip: Option<Bytes>,
}

impl Walls {
    /// Walls that hold at most `max_bytes` together (at least room for two
    /// of the largest).
    pub fn new(max_bytes: usize) -> Walls {
        let max_bytes = max_bytes.clamp(2 * MAX_SVG_BYTES, u32::MAX as usize);
        Walls {
            renders: Arc::new(Semaphore::new(RENDERS_AT_ONCE)),
            bytes: Arc::new(Semaphore::new(max_bytes)),
            max_bytes,
        }
    }

    /// Bytes the walls hold now, cached or on their way out, for `/status`
    /// and `/metrics`.
    pub fn bytes_held(&self) -> usize {
        self.max_bytes - self.bytes.available_permits()
    }

    /// Draws `contributors` with `pictures`, and gzips the drawing when
    /// that pays, on a blocking thread. `None` when the memory is not free
    /// now, or a render slot could not be had by `deadline`.
    pub async fn make(
        &self,
        name: String,
        contributors: Vec<Contributor>,
        pictures: Pictures,
        layout: Layout,
        deadline: Instant,
    ) -> Option<Made> {
        let count = contributors.len().min(LIMIT_MAX);
        let names = if layout.names { NAME_MARKUP_MAX } else { 0 };
        // The opening: the title twice, of up to 6 bytes a character.
        let opening = 1024 + 2 * 6 * name.chars().count().min(TITLE_CHARS);
        let bound = opening + count * (TILE_MARKUP_MAX + names) + pictures.image_bytes;
        let level = gzip_level(pictures.image_bytes, bound);
        let wanted = if level.is_some() { 2 * bound } else { bound };
        let wanted = u32::try_from(wanted.min(self.max_bytes)).ok()?;
        let mut bytes = self.bytes.clone().try_acquire_many_owned(wanted).ok()?;
        let slot = self.renders.clone().acquire_owned();
        let slot = tokio::time::timeout_at(deadline.into(), slot)
            .await
            .ok()?
            .ok()?;
        let made = tokio::task::spawn_blocking(move || {
            let _slot = slot;
            let svg = render(&name, &contributors[..count], &pictures.images, layout);
            let zipped = level.and_then(|level| gzip(svg.as_bytes(), level));
            let svg = svg.into_bytes();
            // Each form holds the permits of its own bytes; the rest go back.
            let gzip = zipped.map(|zipped| held(zipped, &mut bytes));
            Made {
                body: held(svg, &mut bytes),
                gzip,
            }
        });
        made.await.ok()
    }
}

/// `bytes`, holding as many permits as it has bytes (taken from `permits`,
/// or all of them if it has fewer) until the last copy of it is dropped.
fn held(bytes: Vec<u8>, permits: &mut OwnedSemaphorePermit) -> Bytes {
    struct Held {
        bytes: Vec<u8>,
        _permit: Option<OwnedSemaphorePermit>,
    }
    impl AsRef<[u8]> for Held {
        fn as_ref(&self) -> &[u8] {
            &self.bytes
        }
    }
    let permit = permits.split(bytes.len());
    Bytes::from_owner(Held {
        bytes,
        _permit: permit,
    })
}

/// Whether and how hard to gzip a wall whose `bound` bytes hold
/// `image_bytes` of base64 images.
///
/// Measured (`cargo test -p contributors --lib gzip_pays -- --nocapture`,
/// a wall of 100 avatars of 4 KB that do not compress, as PNGs and JPEGs
/// do not): 561,215 bytes gzip to 415,337 at level 1 and 416,678 at levels
/// 6 and 9, a quarter saved at most (base64 carries 6 bits a character),
/// for a pass over all of it. The same wall with placeholders only,
/// 24,015 bytes of markup, gzips to 1,172 (level 1) and 938 (6 and 9). So
/// a wall that is mostly images is sent as it is, and any other is gzipped
/// at the default level, as small as the best here (the test asserts the
/// ratios, not the times).
pub fn gzip_level(image_bytes: usize, bound: usize) -> Option<Compression> {
    (image_bytes * 2 < bound).then(Compression::default)
}

/// The wall of `contributors` to `name` (`owner/repo`), with `images[i]`
/// as contributor `i`'s avatar (a placeholder where `None`).
pub fn render(
    name: &str,
    contributors: &[Contributor],
    images: &[Option<Arc<Avatar>>],
    layout: Layout,
) -> String {
    let size = usize::from(layout.size);
    let gap = size / 8;
    let cell = size + gap;
    // With names, each row is a line taller, for the names under it.
    let line = if layout.names { NAME_LINE } else { 0 };
    let row = cell + line;
    let columns = layout.columns.clamp(1, MAX_COLUMNS).min(contributors.len());
    let rows = contributors.len().div_ceil(columns.max(1));
    let (width, height) = if contributors.is_empty() {
        (240, 32)
    } else {
        (columns * cell - gap, rows * row - gap)
    };
    let (text, placeholder) = (layout.theme.text(), layout.theme.placeholder());

    let mut svg = String::with_capacity(1024 + contributors.len() * 256);
    open_svg(&mut svg, width, height, "Contributors to ", name);
    if contributors.is_empty() {
        svg.push_str(&format!(
            "<text x=\"8\" y=\"21\" font-family=\"sans-serif\" font-size=\"14\" \
             fill=\"{text}\">No contributors yet</text>\n</svg>\n"
        ));
        return svg;
    }
    svg.push_str(
        "<defs><clipPath id=\"round\" clipPathUnits=\"objectBoundingBox\">\
         <circle cx=\".5\" cy=\".5\" r=\".5\"/></clipPath></defs>\n",
    );
    let mut budget = IMAGE_BUDGET;
    for (i, contributor) in contributors.iter().enumerate() {
        let (x, y) = ((i % columns) * cell, (i / columns) * row);
        svg.push_str(&format!(
            "<image x=\"{x}\" y=\"{y}\" width=\"{size}\" height=\"{size}\" \
             clip-path=\"url(#round)\" href=\""
        ));
        match images.get(i).and_then(Option::as_ref) {
            Some(avatar)
                if data_uri_len(avatar.content_type, avatar.image.body().len()) <= budget =>
            {
                budget -= data_uri_len(avatar.content_type, avatar.image.body().len());
                push_data_uri(&mut svg, avatar.content_type, avatar.image.body());
            }
            _ => svg.push_str(placeholder),
        }
        svg.push_str("\"><title>");
        push_text(&mut svg, &contributor.display_name());
        let n = contributor.contributions;
        let unit = if n == 1 {
            "contribution"
        } else {
            "contributions"
        };
        svg.push_str(&format!(": {n} {unit}</title></image>\n"));
    }
    if layout.names {
        // One group sets the font for every name: each name is only its
        // place and its text.
        svg.push_str(&format!(
            "<g font-family=\"sans-serif\" font-size=\"{NAME_FONT}\" fill=\"{text}\" \
             text-anchor=\"middle\">\n"
        ));
        let fit = name_fit(cell);
        for (i, contributor) in contributors.iter().enumerate() {
            let x = (i % columns) * cell + size / 2;
            let y = (i / columns) * row + size + NAME_FONT + 2;
            svg.push_str(&format!("<text x=\"{x}\" y=\"{y}\">"));
            push_text(&mut svg, &cut(&contributor.display_name(), fit));
            svg.push_str("</text>\n");
        }
        svg.push_str("</g>\n");
    }
    svg.push_str("</svg>\n");
    svg
}

/// Characters of a name that fit under an avatar in a `cell` pixels wide,
/// at about 0.6 of the font size a character.
fn name_fit(cell: usize) -> usize {
    (cell * 10 / (NAME_FONT * 6)).clamp(3, NAME_FIT_MAX)
}

/// `text` cut to `fit` characters, the last of them an ellipsis when it
/// was longer.
fn cut(text: &str, fit: usize) -> String {
    if text.chars().count() <= fit {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(fit - 1).collect();
    cut.push('…');
    cut
}

/// A small SVG that says why there is no wall (`title` in bold, then
/// `detail`, wrapped), in `theme`'s colours, so that a README shows the
/// reason instead of a broken image. It fits a phone: at most
/// [`MESSAGE_WIDTH`] pixels wide, taller as the text needs.
pub fn message(title: &str, detail: &str, theme: Theme) -> String {
    let detail: String = detail.chars().take(2 * NAME_CHARS).collect();
    let mut lines = vec![format!("{title}:")];
    lines.extend(wrap(&detail, MESSAGE_CHARS));
    // Wide enough for the longest line at about 7 pixels a character.
    let longest = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let width = (24 + longest * 7).clamp(200, MESSAGE_WIDTH);
    let height = 14 + lines.len() * 18;
    let colours = theme.message();
    let (fill, stroke, text) = (colours.fill, colours.stroke, colours.text);
    let mut svg = String::with_capacity(512 + title.len() + detail.len());
    open_svg(&mut svg, width, height, "", title);
    svg.push_str(&format!(
        "<rect x=\".5\" y=\".5\" width=\"{}\" height=\"{}\" rx=\"6\" \
         fill=\"{fill}\" stroke=\"{stroke}\"/>\n\
         <text y=\"7\" font-family=\"sans-serif\" font-size=\"13\" fill=\"{text}\">",
        width - 1,
        height - 1,
    ));
    for (i, line) in lines.iter().enumerate() {
        let bold = if i == 0 { " font-weight=\"bold\"" } else { "" };
        svg.push_str(&format!("<tspan x=\"12\" dy=\"18\"{bold}>"));
        push_text(&mut svg, line);
        svg.push_str("</tspan>");
    }
    svg.push_str("</text>\n</svg>\n");
    svg
}

/// The widest message, in pixels: a phone's width (360 CSS pixels and up)
/// less its margins.
pub const MESSAGE_WIDTH: usize = 320;
/// Characters a message line holds at about 7 pixels each.
const MESSAGE_CHARS: usize = (MESSAGE_WIDTH - 24) / 7;

/// `text` in lines of at most `width` characters, broken at spaces, and
/// inside words longer than a line.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        let used = line.chars().count();
        if used > 0 && used + 1 + word.len() <= width {
            line.push(' ');
        } else if used > 0 {
            lines.push(std::mem::take(&mut line));
        }
        while word.len() > width {
            let rest = word.split_off(width);
            lines.push(word.into_iter().collect());
            word = rest;
        }
        line.extend(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The opening tag and the document's own title, `{label}{name}`.
fn open_svg(svg: &mut String, width: usize, height: usize, label: &str, name: &str) {
    svg.push_str(&format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\""
    ));
    push_text(svg, label);
    push_cut(svg, name, TITLE_CHARS);
    svg.push_str("\">\n<title>");
    push_text(svg, label);
    push_cut(svg, name, TITLE_CHARS);
    svg.push_str("</title>\n");
}

/// Appends `text` escaped for XML text and attribute values, cut to
/// `NAME_CHARS` characters. Characters XML 1.0 cannot hold at all
/// (control characters, U+FFFE, U+FFFF) become U+FFFD, so no upstream
/// string can make the document unreadable.
fn push_text(out: &mut String, text: &str) {
    push_cut(out, text, NAME_CHARS);
}

/// [`push_text`], cut to `chars` characters.
fn push_cut(out: &mut String, text: &str, chars: usize) {
    for c in text.chars().take(chars) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(' '),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
}

/// How many bytes [`push_data_uri`] adds for `len` bytes of `content_type`.
fn data_uri_len(content_type: &str, len: usize) -> usize {
    "data:;base64,".len() + content_type.len() + len.div_ceil(3) * 4
}

/// Appends `data:{content_type};base64,{bytes}` to `out`: an image written
/// into the SVG itself. `content_type` is one of ours (`image/png`...),
/// written as is.
fn push_data_uri(out: &mut String, content_type: &str, bytes: &[u8]) {
    out.reserve(data_uri_len(content_type, bytes.len()));
    out.push_str("data:");
    out.push_str(content_type);
    out.push_str(";base64,");
    BASE64.encode_string(bytes, out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::representation::Representation;
    use crate::http::responses::Kind;

    fn user(login: &str, id: u64) -> Contributor {
        Contributor {
            login: Some(login.into()),
            id: Some(id),
            html_url: None,
            contributions: 1,
            name: None,
            kind: Some("User".into()),
        }
    }

    fn avatar(bytes: usize) -> Option<Arc<Avatar>> {
        Some(Arc::new(Avatar {
            image: Representation::identity(vec![7; bytes], Kind::Image("image/png"), "public"),
            content_type: "image/png",
        }))
    }

    #[tokio::test]
    async fn a_wall_without_memory_now_is_refused_at_once() {
        let walls = Walls::new(0);
        let all = u32::try_from(walls.max_bytes).unwrap();
        let held = walls.bytes.clone().try_acquire_many_owned(all).unwrap();
        let draw = || {
            let pictures = Pictures {
                images: vec![avatar(1000)],
                missing: 0,
                image_bytes: 1000,
            };
            let layout = Layout {
                columns: 1,
                size: 64,
                names: false,
                theme: Theme::Light,
            };
            let deadline = Instant::now() + Duration::from_secs(60);
            walls.make("o/r".into(), vec![user("a", 1)], pictures, layout, deadline)
        };
        // Not a wait for the deadline (a minute): refused now.
        let refused = tokio::time::timeout(Duration::from_secs(10), draw()).await;
        assert!(matches!(refused, Ok(None)));
        assert_eq!(walls.bytes_held(), walls.max_bytes);
        drop(held);
        let made = draw().await.expect("made once the memory is free");
        assert!(made.body.starts_with(b"<svg"));
        assert!(walls.bytes_held() >= made.body.len());
        drop(made);
        assert_eq!(walls.bytes_held(), 0);
    }

    #[test]
    fn data_uris_are_standard_base64_of_the_length_foretold() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("foob", "Zm9vYg=="),
            ("foobar", "Zm9vYmFy"),
        ] {
            let mut out = String::new();
            push_data_uri(&mut out, "image/png", plain.as_bytes());
            assert_eq!(out, format!("data:image/png;base64,{encoded}"));
            assert_eq!(out.len(), data_uri_len("image/png", plain.len()));
        }
    }

    #[test]
    fn sizes_snap_to_the_wall_sizes() {
        assert_eq!(snap_size(1), 32);
        assert_eq!(snap_size(32), 32);
        assert_eq!(snap_size(33), 48);
        assert_eq!(snap_size(64), 64);
        assert_eq!(snap_size(80), 96);
        assert_eq!(snap_size(4000), 96);
    }

    #[test]
    fn text_is_escaped_and_cut() {
        let mut out = String::new();
        push_text(&mut out, "<a href='x'>\"&\u{1}\n");
        assert_eq!(out, "&lt;a href=&apos;x&apos;&gt;&quot;&amp;\u{fffd} ");
        out.clear();
        push_text(&mut out, &"x".repeat(1000));
        assert_eq!(out.len(), NAME_CHARS);
    }

    #[test]
    fn the_grid_wraps_at_the_column_count() {
        let people: Vec<_> = (1..=5).map(|i| user(&format!("u{i}"), i)).collect();
        let images = vec![avatar(10), None, avatar(10), None, None];
        let layout = Layout {
            columns: 2,
            size: 32,
            names: false,
            theme: Theme::Light,
        };
        let svg = render("o/r", &people, &images, layout);
        // 2 columns of 32 px with a 4 px gap; 3 rows.
        assert!(svg.contains("width=\"68\" height=\"104\""), "{svg}");
        assert_eq!(svg.matches("<image ").count(), 5);
        assert_eq!(svg.matches(Theme::Light.placeholder()).count(), 3);
        assert!(!svg.contains("x=\"36\" y=\"72\""));
        assert!(svg.contains("x=\"0\" y=\"72\""));
        assert!(svg.contains("<title>u5: 1 contribution</title>"));
    }

    #[test]
    fn a_wall_of_500_large_avatars_stays_under_the_ceiling() {
        let people: Vec<_> = (0..LIMIT_MAX as u64)
            .map(|i| user(&"\"<&>".repeat(300), i))
            .collect();
        let images = vec![avatar(crate::views::avatars::MAX_AVATAR_BYTES / 4); LIMIT_MAX];
        let layout = Layout {
            columns: 1,
            size: 96,
            names: true,
            theme: Theme::Dark,
        };
        let svg = render("o/r", &people, &images, layout);
        assert!(svg.len() <= MAX_SVG_BYTES, "{} bytes", svg.len());
        assert_eq!(svg.matches("<image ").count(), LIMIT_MAX);
        // 4 MiB hold 11 of these 256 KiB images (base64 adds a third); the
        // rest are placeholders.
        assert_eq!(
            svg.matches(Theme::Dark.placeholder()).count(),
            LIMIT_MAX - 11
        );
        assert_eq!(svg.matches("<text ").count(), LIMIT_MAX);
    }

    /// Bytes that do not compress, as a PNG's or JPEG's do not (xorshift).
    fn incompressible(bytes: usize, seed: u64) -> Option<Arc<Avatar>> {
        let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let body: Vec<u8> = (0..bytes)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        Some(Arc::new(Avatar {
            image: Representation::identity(body, Kind::Image("image/png"), "public"),
            content_type: "image/png",
        }))
    }

    /// The measurement behind [`gzip_level`]: run with `--nocapture` to
    /// see the sizes. A wall of 100 avatars of 4 KB (80-pixel avatars are
    /// 2 to 6 KB) against the same wall drawn with placeholders only.
    #[test]
    fn gzip_pays_for_markup_not_for_images() {
        let people: Vec<_> = (1..=100).map(|i| user(&format!("user{i}"), i)).collect();
        let layout = Layout {
            columns: 12,
            size: 64,
            names: false,
            theme: Theme::Light,
        };
        let pictures: Vec<_> = (1..=100).map(|i| incompressible(4096, i)).collect();
        let images = render("o/r", &people, &pictures, layout);
        let markup = render("o/r", &people, &vec![None; 100], layout);
        let size =
            |svg: &str, level| gzip(svg.as_bytes(), Compression::new(level)).map(|g| g.len());
        for (what, svg) in [("images", &images), ("placeholders", &markup)] {
            let levels: Vec<_> = [1, 6, 9].map(|l| size(svg, l).unwrap_or(svg.len())).into();
            println!("{what}: {} bytes; gzip -1 -6 -9: {levels:?}", svg.len());
        }
        // Images: base64 saves a quarter at most, whatever the level.
        let best = size(&images, 9).unwrap_or(images.len());
        assert!(best * 4 > images.len() * 3 - images.len() / 20, "{best}");
        let image_bytes = 100 * data_uri_len("image/png", 4096);
        assert_eq!(gzip_level(image_bytes, images.len()), None);
        // Markup: shrinks more than fivefold, and the default level is
        // within 10% of the best.
        let (default, best) = (size(&markup, 6).unwrap(), size(&markup, 9).unwrap());
        assert!(default * 5 < markup.len(), "{default} of {}", markup.len());
        assert!(default * 10 <= best * 11, "{default} against {best}");
        assert_eq!(gzip_level(0, markup.len()), Some(Compression::default()));
    }

    #[test]
    fn messages_escape_their_text() {
        let svg = message("Not found", "<script>alert(1)</script>", Theme::Light);
        assert!(svg.contains("&lt;script&gt;"));
        assert!(!svg.contains("<script"));
    }

    #[test]
    fn messages_wrap_to_a_phones_width_in_their_theme() {
        let detail = "the GitHub API at https://api.github.com did not answer in time; \
                      try again in a minute or two, or ask the operator why";
        for theme in [Theme::Light, Theme::Dark] {
            let svg = message("Upstream timeout", detail, theme);
            assert!(svg.contains("width=\"304\""), "{svg}");
            assert_eq!(svg.matches("<tspan ").count(), 4, "{svg}");
            assert!(svg.contains(theme.message().fill));
        }
        assert_eq!(
            wrap("aaa bb cccccccc d", 5),
            ["aaa", "bb", "ccccc", "ccc d"]
        );
        let short = message("Busy", "try again", Theme::Light);
        assert!(short.contains("width=\"200\" height=\"50\""), "{short}");
    }

    #[test]
    fn names_are_written_under_the_avatars_cut_to_the_cell() {
        let people = [user("short", 1), user("a-very-long-login-indeed", 2)];
        let layout = Layout {
            columns: 2,
            size: 32,
            names: true,
            theme: Theme::Dark,
        };
        let svg = render("o/r", &people, &[None, None], layout);
        // Two 32-px avatars and a 4-px gap; one row with a 16-px line.
        assert!(svg.contains("width=\"68\" height=\"48\""), "{svg}");
        assert!(svg.contains(">short</text>"), "{svg}");
        // A 36-px cell holds 5 characters at 11 px.
        assert!(svg.contains(">a-ve…</text>"), "{svg}");
        assert!(svg.contains(Theme::Dark.text()));
        let plain = Layout {
            names: false,
            ..layout
        };
        assert!(!render("o/r", &people, &[None, None], plain).contains("<text"));
    }
}
