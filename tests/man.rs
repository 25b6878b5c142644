//! The man pages in `man/` must match the clap definition. `UPDATE_MAN=1 cargo test --test man` rewrites them.

use std::path::Path;

#[test]
fn man_pages_are_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let update = std::env::var_os("UPDATE_MAN").is_some();
    let mut stale = Vec::new();
    for (name, text) in cmtrace_rs::man::pages() {
        let path = dir.join(&name);
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &text).unwrap();
        } else if std::fs::read(&path).ok().as_deref() != Some(&text[..]) {
            stale.push(name);
        }
    }
    assert!(stale.is_empty(), "stale man pages {stale:?}: run `UPDATE_MAN=1 cargo test --test man`");
}
