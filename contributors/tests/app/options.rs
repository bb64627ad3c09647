//! The options table, one source of truth: the README lists exactly the
//! options of `views/list_option.rs` (which the page's Embed box renders),
//! and each one listed is read and checked by every route it names.

use crate::common::{TestApp, users};
use contributors::views::list_option::{LIST_OPTIONS, markdown_table};

#[test]
fn the_readme_has_the_table() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
    let readme = std::fs::read_to_string(path).unwrap();
    let table = markdown_table();
    assert!(
        readme.contains(&table),
        "README.md's options table differs; it should read:\n{table}"
    );
    // And only once: one place to keep.
    assert_eq!(readme.matches("| option | values; default |").count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_option_is_read_where_the_table_says() {
    let app = TestApp::start().await;
    app.fake.set_contributors("octo", "hello", users(2));
    let routes = [
        ("page", "/octo/hello?"),
        ("wall", "/octo/hello/wall.svg?"),
        ("wall", "/wall.svg?repos=octo/hello&"),
        ("JSON", "/octo/hello/contributors.json?"),
        ("JSON", "/contributors.json?repos=octo/hello&"),
        ("across", "/wall.svg?"),
        ("across", "/contributors.json?"),
    ];
    let mut checked = 0;
    for option in &LIST_OPTIONS {
        for (on, path) in routes {
            if !option.on.split(", ").any(|o| o == on) {
                continue;
            }
            let url = format!("{path}{}={}", option.name, option.bad);
            let reply = app.get(&url).await;
            assert_eq!(reply.status, 400, "{url}: {}", reply.text());
            // Refused for this option, in words that name it.
            assert!(
                reply.text().contains(option.name),
                "{url}: {}",
                reply.text()
            );
            checked += 1;
        }
    }
    // max, bots, exclude on five routes; anon on four; the four wall
    // options on two; repos and owner on two.
    assert_eq!(checked, 3 * 5 + 4 + 4 * 2 + 2 * 2);
    // The page shows the table too.
    let page = app.get("/octo/hello").await.text();
    for option in &LIST_OPTIONS {
        assert!(page.contains(&format!("<td><code>{}</code></td>", option.name)));
    }
}
