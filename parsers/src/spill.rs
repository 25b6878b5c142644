//! Event texts kept out of memory. The message of every event is appended, as it is read, to one anonymous
//! temporary file (the spill), and the event holds where its text is (offset and length); a report reads the
//! text again when it prints it. Memory then holds about 24 bytes per event for its text instead of the text
//! itself (a few hundred bytes on server logs). Where no temporary file can be made, texts stay in memory.

use std::borrow::Cow;
use std::fs::File;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// The temporary file that holds event texts, written once in order and then read at random.
#[derive(Debug)]
pub struct Spill {
    file: File,
    /// The end of what was written (the next text's offset).
    end: Mutex<u64>,
}

impl Spill {
    /// An anonymous temporary file (removed by the system when the process ends), or the reason none could
    /// be made.
    pub fn new() -> std::io::Result<Arc<Spill>> {
        Ok(Arc::new(Spill { file: tempfile::tempfile()?, end: Mutex::new(0) }))
    }

    /// Append `bytes`; returns the offset they start at.
    pub fn append(&self, bytes: &[u8]) -> std::io::Result<u64> {
        let mut end = self.end.lock().unwrap_or_else(|p| p.into_inner());
        let at = *end;
        (&self.file).write_all(bytes)?;
        *end += bytes.len() as u64;
        Ok(at)
    }

    fn read(&self, offset: u64, len: u32) -> std::io::Result<String> {
        let mut buf = vec![0u8; len as usize];
        read_exact_at(&self.file, &mut buf, offset)?;
        Ok(String::from_utf8(buf).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset)? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

/// The text of an event: in memory, or in the spill.
#[derive(Clone)]
pub enum Text {
    /// In memory.
    Inline(Arc<str>),
    /// In the spill.
    Spilled {
        /// The temporary file.
        spill: Arc<Spill>,
        /// Where the text starts in it.
        offset: u64,
        /// Its length in bytes.
        len: u32,
    },
}

impl Text {
    /// The text (read from the spill when it is there; a read that fails gives a sentence that says so).
    pub fn get(&self) -> Cow<'_, str> {
        match self {
            Text::Inline(s) => Cow::Borrowed(s),
            Text::Spilled { spill, offset, len } => Cow::Owned(
                spill
                    .read(*offset, *len)
                    .unwrap_or_else(|e| format!("(the text could not be read back: {e})")),
            ),
        }
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text::Inline(s.into())
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text::Inline(s.into())
    }
}

impl From<Arc<str>> for Text {
    fn from(s: Arc<str>) -> Self {
        Text::Inline(s)
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&*self.get(), f)
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.get())
    }
}

/// Two texts are equal when they read the same, wherever they are kept.
impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl Eq for Text {}

impl serde::Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.get())
    }
}

/// A text is written as the JSON string it reads (`Serialize` above), wherever it is kept.
#[cfg(feature = "schema")]
impl schemars::JsonSchema for Text {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Text".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        <str as schemars::JsonSchema>::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_read_back_as_written() {
        let spill = Spill::new().unwrap();
        let a = spill.append("first text".as_bytes()).unwrap();
        let b = spill.append("zweiter Text ü €".as_bytes()).unwrap();
        assert_eq!((a, b), (0, 10));
        let t = Text::Spilled { spill: spill.clone(), offset: b, len: "zweiter Text ü €".len() as u32 };
        assert_eq!(t.get(), "zweiter Text ü €");
        assert_eq!(t, Text::from("zweiter Text ü €"));
        let chunk = Text::Spilled { spill: spill.clone(), offset: a, len: 5 };
        assert_eq!(chunk.get(), "first");
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"zweiter Text ü €\"");
        let past_end = Text::Spilled { spill, offset: 1000, len: 4 };
        assert!(past_end.get().starts_with("(the text could not be read back"));
    }
}
