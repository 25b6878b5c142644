//! Snapshots of the human and CI renderings (text without colour at 80 and 120 columns, Markdown, JUnit
//! with `--fail-on error`, so that its failures show)
//! for several bundles. Review changes with `cargo insta review` (or `INSTA_UPDATE=always cargo test --test it snapshots::`).

use crate::common::cmtrace;

fn render(bundle: &str, args: &[&str]) -> String {
    let out = cmtrace()
        .env_remove("NO_COLOR")
        .env("COLUMNS", args.iter().find_map(|a| a.strip_prefix("cols=")).unwrap_or("80"))
        .arg("analyze")
        .arg(bundle)
        .args(args.iter().filter(|a| !a.starts_with("cols=")))
        .args(if args.contains(&"junit") { ["--fail-on", "error"] } else { ["--fail-on", "never"] })
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn demo_case() {
    insta::assert_snapshot!("demo_text_80", render("fixtures/demo/case-1234", &[]));
    insta::assert_snapshot!(
        "demo_text_120_timeline",
        render("fixtures/demo/case-1234", &["cols=120", "--timeline"])
    );
    insta::assert_snapshot!("demo_markdown", render("fixtures/demo/case-1234", &["--format", "markdown"]));
    insta::assert_snapshot!("demo_junit", render("fixtures/demo/case-1234", &["--format", "junit"]));
}

#[test]
fn rule_bundles() {
    for name in ["healthy-multi", "ccm-token-failed", "clock-skew", "registration-not-approved"] {
        let dir = format!("fixtures/rules/{name}");
        insta::assert_snapshot!(format!("{name}_text_80"), render(&dir, &[]));
        insta::assert_snapshot!(format!("{name}_markdown"), render(&dir, &["--format", "markdown"]));
        insta::assert_snapshot!(format!("{name}_junit"), render(&dir, &["--format", "junit"]));
    }
}
