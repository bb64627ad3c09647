//! How a wall looks, against a fake GitHub over real TLS: `names=1` writes
//! each login under its avatar (escaped, cut to the cell) and makes the
//! wall taller; `theme=light|dark` sets the colours of names, placeholders
//! and the error SVG, whose box fits a phone; and the page's Embed box
//! offers a `<picture>` with a dark source and a preview.

use crate::common::{TestApp, users};
use contributors::views::theme::Theme;
use contributors::views::wall::MESSAGE_WIDTH;
use fake_github::{Contributor, hostile};

/// The texts written under the avatars, in order.
fn names(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("{e}: {svg}"));
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or_default().to_string())
        .collect()
}

/// The root element's `width` and `height`.
fn size_of(svg: &str) -> (usize, usize) {
    let doc = roxmltree::Document::parse(svg).unwrap();
    let root = doc.root_element();
    let number = |name| root.attribute(name).unwrap().parse().unwrap();
    (number("width"), number("height"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_are_written_under_the_avatars_and_the_wall_grows() {
    let app = TestApp::start().await;
    let mut list = users(3);
    list.push(Contributor::user("a-login-far-too-long-for-a-cell", 9, 1));
    app.fake.set_contributors("octo", "hello", list);

    let plain = app.get("/octo/hello/wall.svg?columns=2&size=48").await;
    assert_eq!(plain.status, 200, "{}", plain.text());
    assert!(names(&plain.text()).is_empty());
    let named = app
        .get("/octo/hello/wall.svg?columns=2&size=48&names=1")
        .await;
    assert_eq!(named.status, 200, "{}", named.text());
    let svg = named.text();
    // 48-px cells and a 6-px gap hold 8 characters of 11-px text.
    assert_eq!(names(&svg), ["user1", "user2", "user3", "a-login…"]);
    // Two rows, each one line of names (16 px) taller.
    let ((w0, h0), (w1, h1)) = (size_of(&plain.text()), size_of(&svg));
    assert_eq!((w0, h0), (102, 102));
    assert_eq!((w1, h1), (102, 102 + 2 * 16));
    assert!(svg.contains(&format!("fill=\"{}\"", Theme::Light.text())));
    // Another wall, drawn from the same list and the same avatars.
    assert_ne!(named.header("etag"), plain.header("etag"));
    assert_eq!(app.fake.contributors_requests(), 1);
    assert_eq!(app.fake.avatar_requests(), 4);

    // Hostile logins stay text.
    app.fake.set_contributors("octo", "evil", hostile(5000));
    let evil = app.get("/octo/evil/wall.svg?names=1&size=96").await;
    assert_eq!(evil.status, 200);
    let written = names(&evil.text());
    // 96-px cells hold 16 characters.
    assert_eq!(written[0], "<script>alert(1…");
    assert!(!evil.text().contains("<script"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_theme_colours_names_placeholders_and_errors() {
    let app = TestApp::start().await;
    let mut list = users(2);
    list.push(Contributor::anonymous("Jane Doe", 1));
    app.fake.set_contributors("octo", "hello", list);

    let light = app.get("/octo/hello/wall.svg?anon=1&names=1").await.text();
    let dark = app
        .get("/octo/hello/wall.svg?anon=1&names=1&theme=dark")
        .await
        .text();
    assert!(light.contains(Theme::Light.placeholder()));
    assert!(!light.contains(Theme::Dark.placeholder()));
    assert!(dark.contains(Theme::Dark.placeholder()));
    assert!(dark.contains(&format!("fill=\"{}\"", Theme::Dark.text())));
    assert!(!dark.contains(Theme::Light.text()));
    // `light` is the default, spelt out or not: one wall.
    let spelt = app
        .get("/octo/hello/wall.svg?theme=light&names=1&anon=1")
        .await;
    assert_eq!(spelt.text(), light);
    assert_eq!(app.fake.contributors_requests(), 1);
    assert_eq!(app.fake.avatar_requests(), 2);

    // Errors in the theme asked for, narrow enough for a phone.
    let missing = app
        .get("/octo/nothing-by-this-rather-long-name/wall.svg?theme=dark")
        .await;
    assert_eq!(missing.status, 404);
    let svg = missing.text();
    assert!(svg.contains(Theme::Dark.message().fill), "{svg}");
    let (width, height) = size_of(&svg);
    assert!(width <= MESSAGE_WIDTH, "{width}");
    assert!(height > 32, "wrapped: {height}");
    let bad = app.get("/octo/hello/wall.svg?theme=blue").await;
    assert_eq!(bad.status, 400);
    assert!(bad.text().contains("theme must be light or dark"));
    assert!(bad.text().contains(Theme::Light.message().fill));
    let bad = app.get("/octo/hello/wall.svg?theme=dark&names=2").await;
    assert_eq!(bad.status, 400);
    assert!(bad.text().contains(Theme::Dark.message().fill));
    assert!(size_of(&bad.text()).0 <= MESSAGE_WIDTH);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embed_box_offers_a_picture_and_a_preview() {
    let app = TestApp::start_with(|config| {
        config.public_url = Some("https://walls.example.org".into());
    })
    .await;
    app.fake.set_contributors("octo", "hello", users(2));
    let page = app.get("/octo/hello").await;
    assert_eq!(page.status, 200);
    let html = page.text();
    let wall = "https://walls.example.org/octo/hello/wall.svg";
    // The snippet, as the textarea shows it (askama escapes it).
    let source = format!(
        "&#60;source media=&#34;(prefers-color-scheme: dark)&#34; srcset=&#34;{wall}?theme=dark&#34;&#62;"
    );
    assert!(html.contains(&source), "{html}");
    assert!(html.contains(&format!("&#60;img src=&#34;{wall}?theme=light&#34;")));
    // The preview: this very wall, light and dark.
    assert!(
        html.contains("srcset=\"/octo/hello/wall.svg?theme=dark\""),
        "{html}"
    );
    assert!(html.contains("<img src=\"/octo/hello/wall.svg\""), "{html}");
    let preview = app.get("/octo/hello/wall.svg?theme=dark").await;
    assert_eq!(preview.status, 200);
    assert_eq!(app.fake.contributors_requests(), 1);
}
