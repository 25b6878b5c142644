//! What the short text outputs (`trace`, `rules`, `error`) need from the terminal: colour (decided by
//! `--color` and `NO_COLOR`, see `cli::ColorChoice::enabled`), the width to wrap to, and word wrapping.

/// Text width when stdout is not a terminal and `COLUMNS` is not set.
pub const DEFAULT_WIDTH: usize = 100;

/// `COLUMNS` when set to a number, else the terminal's width when stdout is one.
pub fn terminal_width(is_tty: bool) -> Option<usize> {
    if let Some(w) = std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse().ok()).filter(|&w| w > 0) {
        return Some(w);
    }
    if is_tty {
        terminal_size::terminal_size().map(|(w, _)| w.0 as usize)
    } else {
        None
    }
}

pub use crate::render::{wrap_lines, Paint};

#[cfg(test)]
mod tests {
    use super::*;
    use cmtrace_parsers::Severity;

    #[test]
    fn words_fill_lines_and_long_words_are_cut() {
        let text = "one two three four five six seven eight nine ten eleven twelve thirteen";
        let lines = wrap_lines(text, 20, 30);
        assert_eq!(lines, ["one two three four", "five six seven eight nine ten", "eleven twelve thirteen"]);
        assert!(lines.iter().skip(1).all(|l| l.chars().count() <= 30));
        let long = "x".repeat(45);
        assert_eq!(wrap_lines(&format!("a {long}"), 20, 20), ["a", &long[..20], &long[20..40], &long[40..]]);
        assert_eq!(wrap_lines(&long, 20, 30), [&long[..20], &long[20..]]);
        assert_eq!(wrap_lines("", 20, 20), [""]);
        assert_eq!(wrap_lines("  é ü  ", 20, 20), ["é ü"]);
    }

    #[test]
    fn colour_only_when_on() {
        assert_eq!(Paint { on: false }.severity("error", Severity::Error), "error");
        assert!(Paint { on: true }.severity("error", Severity::Error).contains("\u{1b}["));
    }
}
