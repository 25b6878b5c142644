//! Finding and loading inputs: folders (walked recursively), single files and `.zip` bundles (read in
//! place); each file's host (from the folder layout, or `--host NAME=PATH`), its log kind (by name,
//! including rotated and synced-CMG names, else by content), rotated sets in order, and the decoded text
//! (memory-mapped UTF-8 borrowed as is; UTF-16 and ANSI decoded).

use std::borrow::Cow;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use crate::decode::decode;
use crate::entry::{LineFormat, TextEncoding};
use crate::format::sniff_format;
use crate::kind::LogKind;

/// Folder names that are part of ConfigMgr's log layout, never a host name.
const LAYOUT_FOLDERS: &[&str] = &[
    "logs",
    "log",
    "ccmsetup",
    "ccm",
    "sms_ccm",
    "windows",
    "program files",
    "program files (x86)",
    "microsoft configuration manager",
    "configmgr",
    "sms",
    "c",
    "c$",
];

/// `--host NAME=PATH`: every file under PATH belongs to host NAME.
#[derive(Debug, Clone)]
pub struct HostOverride {
    pub name: String,
    pub path: PathBuf,
}

impl std::str::FromStr for HostOverride {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (name, path) = s.split_once('=').ok_or_else(|| format!("expected NAME=PATH, got '{s}'"))?;
        if name.trim().is_empty() || path.trim().is_empty() {
            return Err(format!("expected NAME=PATH, got '{s}'"));
        }
        Ok(HostOverride { name: name.trim().to_string(), path: PathBuf::from(path.trim()) })
    }
}

/// Where a file's bytes are.
#[derive(Debug, Clone)]
pub enum Location {
    File(PathBuf),
    ZipEntry { archive: PathBuf, index: usize },
}

/// One log file found in the inputs.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as found (for zip entries: `bundle.zip/inner/path.log`), with `/` separators.
    pub path: String,
    pub host: String,
    /// The kind by file name; `None` when the name is not one of the flow's logs (content decides).
    pub kind_by_name: Option<LogKind>,
    pub location: Location,
    pub size: u64,
    /// Sort key of the rotated set this file belongs to, and its rank inside the set (older first).
    pub rotation_set: String,
    pub rotation_rank: (u8, String),
}

/// A path that could not be read at all (a folder that does not exist, a broken zip).
#[derive(Debug, Clone)]
pub struct InputProblem {
    pub path: String,
    pub error: String,
}

#[derive(Debug, Default)]
pub struct Discovery {
    pub files: Vec<SourceFile>,
    pub problems: Vec<InputProblem>,
    /// Files passed over because their names are not log names (path, reason).
    pub skipped: Vec<(String, String)>,
}

/// Is this a log file name: `*.log`, `*.lo_`, `*.log.N`?
fn is_log_name(name: &str) -> bool {
    let l = name.to_ascii_lowercase();
    if l.ends_with(".log") || l.ends_with(".lo_") {
        return true;
    }
    if let Some((stem, n)) = l.rsplit_once('.') {
        return stem.ends_with(".log") && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit());
    }
    false
}

/// Split a log file name into (base name, rotation rank). `ccmsetup.lo_` → (`ccmsetup`, 1);
/// `ccmsetup-20200204-151029.log` → (`ccmsetup`, 0 + stamp); `x.log.2` → (`x`, 0 + inverted n); `x.log` → (`x`, 2).
pub fn rotation_of(file_name: &str) -> (String, (u8, String)) {
    let lower = file_name.to_ascii_lowercase();
    if let Some(stem) = lower.strip_suffix(".lo_") {
        return (stem.to_string(), (1, String::new()));
    }
    if let Some((stem, n)) = lower.rsplit_once('.') {
        if let Some(base) = stem.strip_suffix(".log") {
            if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) {
                // `.log.1` is newer than `.log.2`: order older (higher n) first.
                let n: u32 = n.parse().unwrap_or(0);
                return (base.to_string(), (0, format!("b{:010}", u32::MAX - n)));
            }
        }
    }
    let stem = lower.strip_suffix(".log").unwrap_or(&lower);
    // name-YYYYMMDD-HHMMSS
    let b = stem.as_bytes();
    if b.len() > 16 {
        let tail = &stem[stem.len() - 16..];
        let tb = tail.as_bytes();
        let dated = tb[0] == b'-'
            && tb[9] == b'-'
            && tb[1..9].iter().all(u8::is_ascii_digit)
            && tb[10..].iter().all(u8::is_ascii_digit);
        if dated {
            return (stem[..stem.len() - 16].to_string(), (0, format!("a{}", &tail[1..])));
        }
    }
    (stem.to_string(), (2, String::new()))
}

/// The log kind a base name (rotation stripped, lower case) stands for.
pub fn kind_from_base_name(base: &str) -> Option<LogKind> {
    let k = match base {
        "ccmsetup" => LogKind::Ccmsetup,
        "clientidmanagerstartup" => LogKind::ClientIdManagerStartup,
        "adaloperationprovider" | "ccmaad" => LogKind::AdalOperationProvider,
        "ccmmessaging" => LogKind::CcmMessaging,
        "locationservices" => LogKind::LocationServices,
        "ccm_sts" => LogKind::CcmSts,
        "cmgservice" => LogKind::CmgService,
        "sms_cloud_proxyconnector" | "sms_cloudconnector" => LogKind::CloudProxyConnector,
        "mp_registrationmanager" => LogKind::MpRegistrationManager,
        // Synced from the CMG to the site server: CMG-<name>-ProxyService_IN_<n>-CMGService.log
        b if b.starts_with("cmg-") && b.ends_with("-cmgservice") => LogKind::CmgService,
        _ => return None,
    };
    Some(k)
}

/// The log kind from the components of the first records, for files whose names say nothing.
pub fn kind_from_component(component: &str) -> Option<LogKind> {
    kind_from_base_name(&component.trim().to_ascii_lowercase()).or_else(|| {
        match component.trim().to_ascii_lowercase().as_str() {
            "clientidmanagerstartup" | "clientidmanager" => Some(LogKind::ClientIdManagerStartup),
            "adaloperationprovider" => Some(LogKind::AdalOperationProvider),
            "sms_cloud_proxyconnector" => Some(LogKind::CloudProxyConnector),
            "mp_registrationmanager" => Some(LogKind::MpRegistrationManager),
            _ => None,
        }
    })
}

fn is_layout_folder(name: &str) -> bool {
    let l = name.to_ascii_lowercase();
    LAYOUT_FOLDERS.contains(&l.as_str())
}

/// The host of a file: the nearest folder above it that is not part of the ConfigMgr log layout, looking
/// no higher than `root` (the PATH given). `root` itself counts only when it holds the file directly, or
/// when no folder below it names a host.
pub fn infer_host(rel_dirs: &[&str], root_name: &str) -> String {
    for d in rel_dirs.iter().rev() {
        if !d.is_empty() && !is_layout_folder(d) {
            return d.to_string();
        }
    }
    if root_name.is_empty() {
        "unknown".to_string()
    } else {
        root_name.to_string()
    }
}

fn path_string(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

fn name_of(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// The host name a root path stands for when it holds logs directly.
fn root_host_name(root: &Path) -> String {
    let abs = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let mut cur: &Path = &abs;
    loop {
        let n = name_of(cur);
        if n.is_empty() {
            return String::new();
        }
        if !is_layout_folder(&n) {
            return n;
        }
        match cur.parent() {
            Some(p) => cur = p,
            None => return String::new(),
        }
    }
}

/// The `--host NAME=PATH` overrides with each path also in canonical form, worked out once per run.
struct Overrides<'a> {
    list: Vec<(&'a HostOverride, Option<PathBuf>)>,
}

impl<'a> Overrides<'a> {
    fn new(overrides: &'a [HostOverride]) -> Overrides<'a> {
        Overrides { list: overrides.iter().map(|o| (o, std::fs::canonicalize(&o.path).ok())).collect() }
    }

    /// The host of the most specific override holding `path`. Resolving `path` costs a system call per
    /// folder level, so it is done only when there are overrides: never on a plain run.
    fn host_for(&self, path: &Path) -> Option<String> {
        if self.list.is_empty() {
            return None;
        }
        let abs = std::fs::canonicalize(path).ok();
        self.list
            .iter()
            .filter(|(o, canonical)| {
                path.starts_with(&o.path)
                    || match (&abs, canonical) {
                        (Some(a), Some(op)) => a.starts_with(op),
                        _ => false,
                    }
            })
            .max_by_key(|(o, _)| o.path.components().count())
            .map(|(o, _)| o.name.clone())
    }
}

fn make_source(path: String, file_name: &str, host: String, location: Location, size: u64) -> SourceFile {
    let (base, rank) = rotation_of(file_name);
    let dir = path.rsplit_once('/').map_or("", |(d, _)| d).to_string();
    SourceFile {
        kind_by_name: kind_from_base_name(&base),
        rotation_set: format!("{}/{}", dir, base),
        rotation_rank: rank,
        path,
        host,
        location,
        size,
    }
}

/// Find every log under the given paths. Files are returned in path order, rotated sets oldest first.
pub fn discover(paths: &[PathBuf], overrides: &[HostOverride]) -> Discovery {
    let overrides = &Overrides::new(overrides);
    let mut d = Discovery::default();
    for root in paths {
        let meta = match std::fs::metadata(root) {
            Ok(m) => m,
            Err(e) => {
                d.problems.push(InputProblem { path: path_string(root), error: e.to_string() });
                continue;
            }
        };
        if meta.is_dir() {
            discover_dir(root, overrides, &mut d);
        } else if is_zip_name(&name_of(root)) {
            discover_zip(root, overrides, &mut d);
        } else {
            // A single file given by name is read whatever its name.
            let host = overrides.host_for(root).unwrap_or_else(|| {
                let parent = root.parent().map(|p| p.to_path_buf()).unwrap_or_default();
                let abs = std::fs::canonicalize(&parent).unwrap_or(parent);
                let dirs: Vec<String> = abs.iter().map(|c| c.to_string_lossy().into_owned()).collect();
                let refs: Vec<&str> = dirs.iter().map(|s| s.as_str()).skip(1).collect();
                infer_host(&refs, "")
            });
            let name = name_of(root);
            d.files.push(make_source(
                path_string(root),
                &name,
                host,
                Location::File(root.clone()),
                meta.len(),
            ));
        }
    }
    d.files.sort_by(|a, b| {
        (&a.rotation_set, &a.rotation_rank, &a.path).cmp(&(&b.rotation_set, &b.rotation_rank, &b.path))
    });
    d
}

fn is_zip_name(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with(".zip")
}

fn discover_dir(root: &Path, overrides: &Overrides<'_>, d: &mut Discovery) {
    let root_name = root_host_name(root);
    for entry in walkdir::WalkDir::new(root).follow_links(true).sort_by_file_name() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let p = e.path().map(path_string).unwrap_or_else(|| path_string(root));
                d.problems.push(InputProblem { path: p, error: e.to_string() });
                continue;
            }
        };
        if !entry.file_type().is_file() {
            continue;
        }
        let path = entry.path();
        let name = name_of(path);
        if is_zip_name(&name) {
            discover_zip(path, overrides, d);
            continue;
        }
        if !is_log_name(&name) {
            d.skipped.push((path_string(path), "not a log file name (*.log, *.lo_, *.log.N)".into()));
            continue;
        }
        let rel = path.strip_prefix(root).unwrap_or(path);
        let dirs: Vec<String> = rel
            .parent()
            .map(|p| p.iter().map(|c| c.to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        let refs: Vec<&str> = dirs.iter().map(|s| s.as_str()).collect();
        let host = overrides.host_for(path).unwrap_or_else(|| infer_host(&refs, &root_name));
        let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
        d.files.push(make_source(path_string(path), &name, host, Location::File(path.to_path_buf()), size));
    }
}

fn discover_zip(archive: &Path, overrides: &Overrides<'_>, d: &mut Discovery) {
    let file = match File::open(archive) {
        Ok(f) => f,
        Err(e) => {
            d.problems.push(InputProblem { path: path_string(archive), error: e.to_string() });
            return;
        }
    };
    let mut zip = match zip::ZipArchive::new(file) {
        Ok(z) => z,
        Err(e) => {
            d.problems
                .push(InputProblem { path: path_string(archive), error: format!("not a readable zip: {e}") });
            return;
        }
    };
    let stem = name_of(archive);
    let stem = stem.strip_suffix(".zip").or_else(|| stem.strip_suffix(".ZIP")).unwrap_or(&stem).to_string();
    let host_override = overrides.host_for(archive);
    for i in 0..zip.len() {
        let entry = match zip.by_index_raw(i) {
            Ok(e) => e,
            Err(e) => {
                d.problems.push(InputProblem {
                    path: format!("{}#{i}", path_string(archive)),
                    error: e.to_string(),
                });
                continue;
            }
        };
        if entry.is_dir() {
            continue;
        }
        let inner = entry.name().replace('\\', "/");
        let display = format!("{}/{}", path_string(archive), inner);
        let name = inner.rsplit('/').next().unwrap_or(&inner).to_string();
        if !is_log_name(&name) {
            d.skipped.push((display, "not a log file name (*.log, *.lo_, *.log.N)".into()));
            continue;
        }
        let dirs: Vec<&str> = inner.split('/').collect();
        let dirs = &dirs[..dirs.len() - 1];
        let host = host_override.clone().unwrap_or_else(|| infer_host(dirs, &stem));
        let size = entry.size();
        d.files.push(make_source(
            display,
            &name,
            host,
            Location::ZipEntry { archive: archive.to_path_buf(), index: i },
            size,
        ));
    }
}

/// The bytes of a loaded file, mapped or owned.
enum Data {
    Mapped { map: Mmap, offset: usize },
    Owned(String),
}

/// A file read and decoded, ready to parse.
pub struct LoadedFile {
    data: Data,
    pub encoding: TextEncoding,
    pub format: LineFormat,
    /// The log kind: by name, else by the first records' component, else `Other`.
    pub kind: LogKind,
}

impl LoadedFile {
    pub fn text(&self) -> &str {
        match &self.data {
            // SAFETY: these bytes were validated as UTF-8 (simdutf8) in `decode`, called by `load`, and the
            // mapping is private and read-only.
            Data::Mapped { map, offset } => unsafe { std::str::from_utf8_unchecked(&map[*offset..]) },
            Data::Owned(s) => s,
        }
    }
}

fn read_zip_entry(archive: &Path, index: usize) -> Result<Vec<u8>, String> {
    let file = File::open(archive).map_err(|e| e.to_string())?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| format!("not a readable zip: {e}"))?;
    let mut entry = zip.by_index(index).map_err(|e| e.to_string())?;
    let mut buf = Vec::with_capacity(entry.size().min(1 << 30) as usize);
    entry.read_to_end(&mut buf).map_err(|e| format!("zip entry could not be read: {e}"))?;
    Ok(buf)
}

/// Read and decode one file. Errors are a clear sentence for `inputs[].error`.
pub fn load(src: &SourceFile) -> Result<LoadedFile, String> {
    let (data, encoding) = match &src.location {
        Location::File(path) => {
            let file = File::open(path).map_err(|e| e.to_string())?;
            let len = file.metadata().map_err(|e| e.to_string())?.len();
            if len == 0 {
                (Data::Owned(String::new()), TextEncoding::Utf8)
            } else {
                // SAFETY: the mapping is read-only; a log rewritten while we read it may yield odd
                // text, which the parser tolerates (the bytes are validated as UTF-8 before use).
                let map = unsafe { Mmap::map(&file) }.map_err(|e| e.to_string())?;
                let (offset, enc, owned) = {
                    let (text, enc) = decode(&map);
                    match text {
                        Cow::Borrowed(s) => (s.as_ptr() as usize - map.as_ptr() as usize, enc, None),
                        Cow::Owned(s) => (0, enc, Some(s)),
                    }
                };
                match owned {
                    Some(s) => (Data::Owned(s), enc),
                    None => (Data::Mapped { map, offset }, enc),
                }
            }
        }
        Location::ZipEntry { archive, index } => {
            let bytes = read_zip_entry(archive, *index)?;
            let (text, enc) = decode(&bytes);
            (Data::Owned(text.into_owned()), enc)
        }
    };
    let mut loaded = LoadedFile { data, encoding, format: LineFormat::Unknown, kind: LogKind::Other };
    loaded.format = sniff_format(loaded.text());
    loaded.kind =
        src.kind_by_name.or_else(|| sniff_kind(loaded.text(), loaded.format)).unwrap_or(LogKind::Other);
    Ok(loaded)
}

/// The kind from the first few records' components.
fn sniff_kind(text: &str, format: LineFormat) -> Option<LogKind> {
    crate::format::Records::new(&text[..floor_char_boundary(text, 64 * 1024)], format, 1)
        .take(20)
        .filter_map(|r| match r {
            crate::entry::Record::Entry(e) => kind_from_component(e.component),
            _ => None,
        })
        .next()
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_names_and_rotation() {
        assert!(is_log_name("ccmsetup.log"));
        assert!(is_log_name("ccmsetup.lo_"));
        assert!(is_log_name("PolicyAgent.log.1"));
        assert!(!is_log_name("notes.txt"));
        assert_eq!(rotation_of("ccmsetup.lo_").0, "ccmsetup");
        assert_eq!(rotation_of("ccmsetup-20200204-151029.log").0, "ccmsetup");
        assert_eq!(rotation_of("CCMSetup.log").0, "ccmsetup");
        let mut names =
            ["ccmsetup.log", "ccmsetup.lo_", "ccmsetup-20200204-151029.log", "ccmsetup-20190101-000000.log"];
        names.sort_by_key(|n| rotation_of(n).1);
        assert_eq!(
            names,
            ["ccmsetup-20190101-000000.log", "ccmsetup-20200204-151029.log", "ccmsetup.lo_", "ccmsetup.log"]
        );
    }

    #[test]
    fn kinds_by_name() {
        let k = |n: &str| kind_from_base_name(&rotation_of(n).0);
        assert_eq!(k("CMG-contosocmg-ProxyService_IN_0-CMGService.log"), Some(LogKind::CmgService));
        assert_eq!(k("CMG-contosocmg-ProxyService_IN_0-CMGSetup.log"), None);
        assert_eq!(k("SMS_CLOUD_PROXYCONNECTOR.log"), Some(LogKind::CloudProxyConnector));
        assert_eq!(k("CCM_STS.lo_"), Some(LogKind::CcmSts));
        assert_eq!(k("CcmAad.log"), Some(LogKind::AdalOperationProvider));
        assert_eq!(k("MP_RegistrationManager-20200101-101010.log"), Some(LogKind::MpRegistrationManager));
        assert_eq!(k("execmgr.log"), None);
    }

    #[test]
    fn host_walks_past_layout_folders() {
        assert_eq!(infer_host(&["CLIENT01", "Windows", "CCM", "Logs"], "case-1234"), "CLIENT01");
        assert_eq!(infer_host(&["MP01", "SMS_CCM", "Logs"], "case"), "MP01");
        assert_eq!(
            infer_host(&["CP01", "Program Files", "Microsoft Configuration Manager", "Logs"], "x"),
            "CP01"
        );
        assert_eq!(infer_host(&[], "client-logs"), "client-logs");
        assert_eq!(infer_host(&["Logs"], "DESKTOP7"), "DESKTOP7");
    }

    #[test]
    fn host_override_parses() {
        let o: HostOverride = "MP01=/tmp/x".parse().unwrap();
        assert_eq!(o.name, "MP01");
        assert!("nonsense".parse::<HostOverride>().is_err());
    }
}
