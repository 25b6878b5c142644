//! Inputs a hostile tester (or a live ConfigMgr client) gives: zips that inflate past every limit or lie
//! about their sizes, zips inside zips, entries sharing a name or with odd names, FIFOs and devices, files
//! truncated while they are read, overlapping paths, `.zip` files that are logs, paths that cannot be
//! read, and `--host` overrides that do nothing. Each must be read within bounds, never block, never
//! crash, and be reported with its reason.

mod common;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use cmtrace_parsers::input::{discover, load, load_opened, Discovery, HostOverride, Limits, Location};
use cmtrace_parsers::LineFormat;
use cmtrace_parsers::ReadError;
use common::{cm, patch_bytes, patch_declared_size, zip_of, Scratch};
use rayon::prelude::*;

const SMALL: Limits = Limits { max_entry_bytes: 1 << 20, max_archive_bytes: 4 << 20 };

/// `discover` on another thread, failing the test if it does not return within 20 s (a FIFO would block).
fn discover_bounded(paths: Vec<PathBuf>, overrides: Vec<HostOverride>, limits: Limits) -> Discovery {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(discover(&paths, &overrides, limits));
    });
    rx.recv_timeout(Duration::from_secs(20)).expect("discover returned (did not block)")
}

fn problem<'a>(d: &'a Discovery, path_end: &str) -> &'a str {
    d.problems
        .iter()
        .find(|p| p.path.ends_with(path_end))
        .map(|p| p.error.as_str())
        .unwrap_or_else(|| panic!("no problem for {path_end}: {:?}", d.problems))
}

fn paths(d: &Discovery) -> Vec<String> {
    d.files.iter().map(|f| f.path.clone()).collect()
}

#[test]
fn an_entry_inflating_past_the_entry_limit_is_reported() {
    let s = Scratch::new("bomb");
    // 8 MiB of zeros deflate to a few KiB: past the 1 MiB entry limit.
    let zeros = vec![0u8; 8 << 20];
    let ok = cm(1);
    let zip = zip_of(&[("big.log", &zeros, true), ("ok.log", ok.as_bytes(), true)]);
    assert!(zip.len() < 64 << 10);
    let p = s.file("bundle.zip", &zip);
    let d = discover(&[p], &[], SMALL);
    assert_eq!(d.files.len(), 2, "{:?}", d.problems);
    for f in &d.files {
        // The window charge is bounded by the entry limit, not the declared size.
        assert!(f.load_bound() <= SMALL.max_entry_bytes);
    }
    let big = d.files.iter().find(|f| f.path.ends_with("big.log")).unwrap();
    let too_big = load(big).err().unwrap();
    assert!(matches!(too_big, ReadError::EntryLimit { limit: 0x10_0000 }), "{too_big:?}");
    assert_eq!(too_big.to_string(), "inflates past the 1 MiB limit (raise it with --max-entry-size)");
    let ok = d.files.iter().find(|f| f.path.ends_with("ok.log")).unwrap();
    assert_eq!(load(ok).unwrap().text(), cm(1));
}

#[test]
fn declared_sizes_are_never_trusted() {
    let s = Scratch::new("liar");
    let text: String = (0..2000).map(cm).collect();
    let mut zip = zip_of(&[("small.log", text.as_bytes(), true), ("huge.log", text.as_bytes(), false)]);
    // One says it is 10 bytes, the other 4 GiB.
    patch_declared_size(&mut zip, "small.log", 10);
    patch_declared_size(&mut zip, "huge.log", u32::MAX - 1);
    let p = s.file("liar.zip", &zip);
    let d = discover(&[p], &[], Limits::default());
    assert_eq!(d.files.len(), 2, "{:?}", d.problems);
    for f in &d.files {
        let bound = f.load_bound();
        assert!(bound < 64 << 20, "{} charged {bound}", f.path);
        assert_eq!(load(f).unwrap().text(), text, "{}", f.path);
    }
}

#[test]
fn an_archive_inflates_at_most_its_budget_however_its_entries_are_loaded() {
    let s = Scratch::new("budget");
    let zeros = vec![b'a'; 900 << 10];
    let names: Vec<String> = (0..10).map(|i| format!("e{i}.log")).collect();
    let entries: Vec<(&str, &[u8], bool)> = names.iter().map(|n| (n.as_str(), &zeros[..], true)).collect();
    let p = s.file("many.zip", &zip_of(&entries));
    let d = discover(&[p], &[], SMALL);
    assert_eq!(d.files.len(), 10);
    let results: Vec<Result<usize, String>> =
        d.files.par_iter().map(|f| load(f).map(|l| l.text().len()).map_err(|e| e.to_string())).collect();
    let read: usize = results.iter().filter_map(|r| r.as_ref().ok()).sum();
    assert!(read <= 4 << 20, "{read}");
    let over = results.iter().filter_map(|r| r.as_ref().err()).collect::<Vec<_>>();
    assert!(!over.is_empty());
    for e in over {
        assert_eq!(
            e,
            "the archive inflates past the 4 MiB limit, nested archives included (raise it with --max-archive-size)"
        );
    }
}

#[test]
fn a_zip_inside_a_zip_is_read_one_level_deep() {
    let s = Scratch::new("nested");
    let deep = zip_of(&[("a.log", cm(1).as_bytes(), true)]);
    let inner = zip_of(&[
        ("Windows/CCM/Logs/ccmsetup.log", cm(2).as_bytes(), true),
        ("deeper.zip", &deep, true),
        ("readme.txt", b"hi", true),
    ]);
    let client = zip_of(&[("ClientIDManagerStartup.log", cm(3).as_bytes(), true)]);
    // A zip stands for its stem as a folder: `Logs` is part of the layout, `CLIENT9` names a host.
    let outer = zip_of(&[("HOST1/Logs.zip", &inner, false), ("CLIENT9.zip", &client, true)]);
    let p = s.file("case.zip", &outer);
    let d = discover(&[p], &[], Limits::default());
    let shown = paths(&d);
    assert!(
        shown.iter().any(|p| p.ends_with("case.zip/HOST1/Logs.zip/Windows/CCM/Logs/ccmsetup.log")),
        "{shown:?}"
    );
    assert!(
        shown.iter().any(|p| p.ends_with("case.zip/CLIENT9.zip/ClientIDManagerStartup.log")),
        "{shown:?}"
    );
    assert_eq!(d.files.len(), 2);
    for f in &d.files {
        let expected = if f.path.contains("HOST1") { ("HOST1", cm(2)) } else { ("CLIENT9", cm(3)) };
        assert_eq!(f.host, expected.0);
        assert_eq!(load(f).unwrap().text(), expected.1);
    }
    assert_eq!(
        problem(&d, "case.zip/HOST1/Logs.zip/deeper.zip"),
        "a zip inside a zip inside a zip: nested too deep (one level is read), not read"
    );
    assert!(d.skipped.iter().any(|(p, _)| p.ends_with("Logs.zip/readme.txt")));
}

/// Nested zips stay in memory while the run lasts: all of them together get one entry's limit, so many
/// nested archives cannot add up past the memory bound.
#[test]
fn nested_archives_held_in_memory_share_one_entry_limit() {
    let s = Scratch::new("nested-held");
    let log: String = (0..40).map(cm).collect();
    let inner = zip_of(&[("ccmsetup.log", log.as_bytes(), false)]);
    let outer = zip_of(&[("A.zip", &inner, false), ("B.zip", &inner, false), ("C.zip", &inner, false)]);
    let p = s.file("case.zip", &outer);
    // Room for two nested archives, not three.
    let limits = Limits { max_entry_bytes: inner.len() as u64 * 5 / 2, max_archive_bytes: 1 << 30 };
    let d = discover(std::slice::from_ref(&p), &[], limits);
    assert_eq!(d.files.len(), 2, "{:?}", paths(&d));
    assert!(problem(&d, "case.zip/C.zip").contains("held in memory"), "{:?}", d.problems);
    // With the default limits all three are read.
    assert_eq!(discover(&[p], &[], Limits::default()).files.len(), 3);
}

#[test]
fn two_entries_with_one_name_are_both_read() {
    let s = Scratch::new("dup");
    let (one, two) = (cm(1), cm(2));
    let mut zip = zip_of(&[("Logs/x.log", one.as_bytes(), true), ("Logs/y.log", two.as_bytes(), false)]);
    patch_bytes(&mut zip, b"Logs/y.log", b"Logs/x.log");
    let p = s.file("bundle.zip", &zip);
    let d = discover(&[p], &[], Limits::default());
    let shown = paths(&d);
    assert_eq!(shown.len(), 2, "{shown:?} {:?}", d.problems);
    assert!(
        shown[0].ends_with("bundle.zip/Logs/x.log") && shown[1].ends_with("bundle.zip/Logs/x.log#2"),
        "{shown:?}"
    );
    assert_eq!(load(&d.files[0]).unwrap().text(), one);
    assert_eq!(load(&d.files[1]).unwrap().text(), two);
    // Same kind and rotated set as the name it shares.
    assert_eq!(d.files[1].kind_by_name, d.files[0].kind_by_name);
    assert!(problem(&d, "bundle.zip/Logs/x.log").contains("an earlier entry of the archive has this name"));
}

#[test]
fn odd_entry_names_never_make_a_host() {
    let s = Scratch::new("odd");
    let names = [
        "../../etc/evil.log",
        "./a.log",
        "C:\\Windows\\CCM\\Logs\\b.log",
        "/etc/c.log",
        "x//.//d.log",
        "../e.log",
        "..\\..\\f.log",
        "C:/g.log",
    ];
    let entries: Vec<(&str, &[u8], bool)> =
        names.iter().map(|n| (*n, cm(1).leak().as_bytes(), true)).collect();
    let p = s.file("..zip", &zip_of(&entries));
    let d = discover(&[p], &[], Limits::default());
    assert_eq!(d.files.len(), names.len(), "{:?} {:?}", paths(&d), d.problems);
    for f in &d.files {
        let h = &f.host;
        assert!(
            !h.is_empty() && h != "." && h != ".." && !h.contains([':', '/', '\\']),
            "{} has host {h:?}",
            f.path
        );
        assert!(load(f).is_ok());
    }
    // Nothing left the scratch folder (entries are never extracted).
    assert_eq!(std::fs::read_dir(s.path()).unwrap().count(), 1);
}

#[cfg(unix)]
fn mkfifo(p: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
}

#[cfg(unix)]
#[test]
fn fifos_and_devices_are_reported_never_read() {
    let s = Scratch::new("fifo");
    let fifo = s.path().join("pipe.log");
    mkfifo(&fifo);
    let folder = s.path().join("HOST7/Logs");
    std::fs::create_dir_all(&folder).unwrap();
    mkfifo(&folder.join("ccmsetup.log"));
    s.file("HOST7/Logs/ok.log", cm(1).as_bytes());
    let d = discover_bounded(
        vec![fifo, s.path().join("HOST7"), "/dev/zero".into(), "/dev/null".into()],
        vec![],
        Limits::default(),
    );
    assert_eq!(problem(&d, "pipe.log"), "not a regular file (FIFO): passed over");
    assert_eq!(problem(&d, "/dev/zero"), "not a regular file (character device): passed over");
    assert_eq!(problem(&d, "/dev/null"), "not a regular file (character device): passed over");
    let in_folder = d.problems.iter().find(|p| p.path.ends_with("Logs/ccmsetup.log")).unwrap();
    assert_eq!(in_folder.error, "not a regular file (FIFO): passed over");
    assert_eq!(in_folder.host.as_deref(), Some("HOST7"));
    assert_eq!(d.files.len(), 1);
    assert!(d.files[0].path.ends_with("ok.log"));

    // A FIFO swapped in after discovery: loading it fails at once, it does not block.
    let swapped = d.files[0].clone();
    let Location::File(path) = &swapped.location else { panic!() };
    std::fs::remove_file(path).unwrap();
    mkfifo(path);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(load(&swapped).err());
    });
    let err = rx.recv_timeout(Duration::from_secs(20)).expect("load did not block").unwrap();
    assert!(matches!(err, ReadError::NotRegular { kind: "FIFO" }), "{err:?}");
    assert_eq!(err.to_string(), "not a regular file (FIFO): passed over");
}

#[test]
fn a_file_truncated_while_it_is_read_keeps_what_was_read() {
    let s = Scratch::new("trunc");
    let text: String = (0..20000).map(cm).collect();
    let p = s.file("ccmsetup.log", text.as_bytes());
    let d = discover(std::slice::from_ref(&p), &[], Limits::default());
    let mut file = std::fs::File::open(&p).unwrap();
    let len = file.metadata().unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&p).unwrap().set_len(5000).unwrap();
    let loaded = load_opened(&d.files[0], &mut file, len).unwrap();
    assert_eq!(loaded.text(), &text[..5000]);
    assert_eq!(
        loaded.warning.as_deref(),
        Some(
            format!(
                "the file changed while it was read: {len} bytes at open, 5000 read; what was read is used"
            )
            .as_str()
        )
    );
    // Read whole: no warning.
    let again = load(&d.files[0]).unwrap();
    assert_eq!((again.text().len(), again.warning.as_deref()), (5000, None));
}

#[test]
fn a_file_rewritten_while_it_is_loaded_never_crashes() {
    let s = Scratch::new("churn");
    let text: String = (0..20000).map(cm).collect();
    let p = s.file("ccmsetup.log", text.as_bytes());
    let d = discover(std::slice::from_ref(&p), &[], Limits::default());
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (p, stop, text) = (p.clone(), stop.clone(), text.clone());
        std::thread::spawn(move || {
            use std::io::Write;
            let mut i = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
                match i % 4 {
                    0 => f.set_len(0).unwrap(),
                    1 => f.set_len(777).unwrap(),
                    2 => std::fs::write(&p, &text).unwrap(),
                    _ => {
                        let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
                        f.write_all(&text.as_bytes()[..50000]).unwrap();
                    }
                }
                i += 1;
            }
        })
    };
    let mut warned = 0;
    for _ in 0..200 {
        if let Ok(f) = load(&d.files[0]) {
            assert!(f.text().len() <= 2 * text.len());
            if f.warning.is_some() {
                warned += 1;
            }
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
    eprintln!("{warned} of 200 loads saw the file change");
}

#[cfg(unix)]
#[test]
fn overlapping_paths_read_each_file_once() {
    let s = Scratch::new("overlap");
    let case = s.path().join("case");
    s.file("case/HOST/Logs/ccmsetup.log", cm(1).as_bytes());
    s.file("case/OTHER/Logs/ccmsetup.log", cm(2).as_bytes());
    std::os::unix::fs::symlink(case.join("HOST/Logs/ccmsetup.log"), case.join("OTHER/Logs/link.log"))
        .unwrap();
    let zip = s.file("b.zip", &zip_of(&[("ccmsetup.log", cm(3).as_bytes(), true)]));
    let host = case.join("HOST");
    for roots in [
        vec![case.clone(), host.clone()],
        vec![host.clone(), case.clone()],
        vec![case.clone(), case.clone(), zip.clone(), zip.clone()],
    ] {
        let d = discover(&roots, &[], Limits::default());
        let mut seen: Vec<(String, String)> = d
            .files
            .iter()
            .map(|f| (f.host.clone(), f.path.rsplit('/').next().unwrap().to_string()))
            .collect();
        seen.sort();
        let with_zip = roots.contains(&zip);
        let mut expected =
            vec![("HOST".to_string(), "ccmsetup.log".to_string()), ("OTHER".into(), "ccmsetup.log".into())];
        if with_zip {
            expected.push(("b".into(), "ccmsetup.log".into()));
        }
        assert_eq!(seen, expected, "{roots:?} {:?}", d.skipped);
        assert!(d.skipped.iter().any(|(_, why)| why.contains("read once")), "{:?}", d.skipped);
    }
}

#[test]
fn a_zip_named_file_is_read_by_its_content() {
    let s = Scratch::new("notzip");
    let log = s.file("HOST/notes.zip", (0..10).map(cm).collect::<String>().as_bytes());
    let broken = s.file("HOST/broken.zip", b"PK\x03\x04 this is no zip at all, only its first bytes");
    let empty = s.file("HOST/empty.zip", &zip_of(&[]));
    let d = discover(&[log, broken], &[], Limits::default());
    assert_eq!(d.files.len(), 1);
    let f = load(&d.files[0]).unwrap();
    assert_eq!(f.format, LineFormat::Cmtrace);
    assert!(problem(&d, "broken.zip").starts_with("not a readable zip: "));
    // In a folder walk too; an empty archive gives nothing and no problem.
    let d = discover(&[s.path().join("HOST")], &[], Limits::default());
    assert_eq!(paths(&d).len(), 1, "{:?}", paths(&d));
    assert_eq!(d.problems.len(), 1, "{:?}", d.problems);
    drop(empty);
}

#[test]
fn paths_that_cannot_be_read_are_reported() {
    let s = Scratch::new("missing");
    let long = s.path().join("x".repeat(5000));
    let d = discover(&[s.path().join("nope"), long], &[], Limits::default());
    assert!(problem(&d, "nope").contains("No such file"), "{:?}", d.problems);
    assert!(problem(&d, "xxxx").contains("too long"), "{:?}", d.problems);
}

#[cfg(unix)]
#[test]
fn an_unreadable_folder_is_reported() {
    use std::os::unix::fs::PermissionsExt;
    let s = Scratch::new("perm");
    s.file("HOST/Logs/ccmsetup.log", cm(1).as_bytes());
    let locked = s.path().join("HOST/Logs");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let readable_anyway = std::fs::read_dir(&locked).is_ok();
    let d = discover(&[s.path().join("HOST")], &[], Limits::default());
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    if readable_anyway {
        eprintln!("running with the rights to read a folder of mode 000 (root): nothing to test");
        return;
    }
    assert!(problem(&d, "HOST/Logs").contains("Permission denied"), "{:?}", d.problems);
}

#[test]
fn host_overrides_that_do_nothing_are_reported() {
    let s = Scratch::new("hosts");
    s.file("A/ccmsetup.log", cm(1).as_bytes());
    s.file("B/ccmsetup.log", cm(1).as_bytes());
    let o = |t: &str| t.parse::<HostOverride>().unwrap();
    let given = [
        o("X=/nonexistent/for/sure"),
        o(&format!("MP01={}", s.path().join("A").display())),
        o(&format!("CP01={}", s.path().join("B").display())),
    ];
    let d = discover(&[s.path().join("A")], &given, Limits::default());
    assert_eq!(d.files[0].host, "MP01");
    let unused: Vec<&str> = d.unused_overrides.iter().map(|(g, _)| g.as_str()).collect();
    assert_eq!(
        unused,
        ["X=/nonexistent/for/sure".to_string(), format!("CP01={}", s.path().join("B").display())]
    );
    assert!(d.unused_overrides[0].1.starts_with("the path does not exist"));
    assert!(d.unused_overrides[1].1.starts_with("no file read is under this path"));
}
