//! The logs of the machine `cmtrace-rs` runs on. With no PATH on a Windows ConfigMgr client, `analyze` and
//! `watch` read the client's own log folders (`%WINDIR%\CCM\Logs`, `%WINDIR%\ccmsetup\Logs`) as the host
//! named after the computer (`COMPUTERNAME`): the support engineer's first move on the device. Elsewhere, or
//! on a Windows machine that is no client, the current folder. The decision is a plain function of the
//! values the system gives (`client_log_inputs`), which the tests drive with made-up ones; only reading
//! those values is Windows-only.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use cmtrace_parsers::input::HostOverride;

/// The client's log folders under `windir` that `usable` accepts (they exist and hold a file), and the
/// overrides that name their host `computer` (none when the name is unknown: the folder layout then
/// decides, as for collected logs). `None` when no folder is usable: this is no ConfigMgr client.
pub fn client_log_inputs(
    windir: Option<&OsStr>,
    computer: Option<&str>,
    usable: impl Fn(&Path) -> bool,
) -> Option<(Vec<PathBuf>, Vec<HostOverride>)> {
    let windir = PathBuf::from(windir.filter(|w| !w.is_empty())?);
    let folders: Vec<PathBuf> = [("CCM", "Logs"), ("ccmsetup", "Logs")]
        .iter()
        .map(|(a, b)| windir.join(a).join(b))
        .filter(|p| usable(p))
        .collect();
    if folders.is_empty() {
        return None;
    }
    let host = computer.map(str::trim).filter(|c| !c.is_empty());
    let overrides = match host {
        Some(h) => folders.iter().map(|f| HostOverride { name: h.to_string(), path: f.clone() }).collect(),
        None => Vec::new(),
    };
    Some((folders, overrides))
}

/// The inputs of `analyze` and `watch`: the PATHs given (with their `--host` overrides); with none, on
/// Windows the client's log folders when this machine is a client (`client_log_inputs`), else the current
/// folder.
pub fn inputs_or_default(paths: &[PathBuf], hosts: &[HostOverride]) -> (Vec<PathBuf>, Vec<HostOverride>) {
    if !paths.is_empty() {
        return (paths.to_vec(), hosts.to_vec());
    }
    #[cfg(windows)]
    {
        let holds_a_file = |p: &Path| std::fs::read_dir(p).is_ok_and(|mut d| d.next().is_some());
        let windir = std::env::var_os("WINDIR");
        let computer = std::env::var("COMPUTERNAME").ok();
        if let Some((folders, mut overrides)) =
            client_log_inputs(windir.as_deref(), computer.as_deref(), holds_a_file)
        {
            // A --host given with no PATH still wins where it is more specific.
            overrides.extend(hosts.iter().cloned());
            return (folders, overrides);
        }
    }
    (vec![PathBuf::from(".")], hosts.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_reads_its_own_log_folders_as_its_own_host() {
        let windir = OsStr::new(r"C:\Windows");
        let both = |_: &Path| true;
        let (folders, overrides) = client_log_inputs(Some(windir), Some("LAPTOP-K9X1"), both).unwrap();
        let w = PathBuf::from(r"C:\Windows");
        assert_eq!(folders, [w.join("CCM").join("Logs"), w.join("ccmsetup").join("Logs")]);
        assert_eq!(overrides.len(), 2);
        assert!(overrides.iter().all(|o| o.name == "LAPTOP-K9X1"));
        assert_eq!(overrides.iter().map(|o| o.path.clone()).collect::<Vec<_>>(), folders);
        // Before the client is installed only ccmsetup's folder is there.
        let only_setup = |p: &Path| p.to_string_lossy().contains("ccmsetup");
        let (folders, _) = client_log_inputs(Some(windir), Some("PC1"), only_setup).unwrap();
        assert_eq!(folders, [w.join("ccmsetup").join("Logs")]);
        // No computer name: no override (the layout decides); a blank one is none.
        assert!(client_log_inputs(Some(windir), Some("  "), both).unwrap().1.is_empty());
        assert!(client_log_inputs(Some(windir), None, both).unwrap().1.is_empty());
    }

    #[test]
    fn not_a_client() {
        assert!(client_log_inputs(Some(OsStr::new(r"C:\Windows")), Some("PC1"), |_| false).is_none());
        assert!(client_log_inputs(None, Some("PC1"), |_| true).is_none());
        assert!(client_log_inputs(Some(OsStr::new("")), Some("PC1"), |_| true).is_none());
    }

    #[test]
    fn paths_given_are_kept() {
        let given = [PathBuf::from("logs")];
        let (paths, hosts) = inputs_or_default(&given, &[]);
        assert_eq!(paths, given);
        assert!(hosts.is_empty());
        #[cfg(not(windows))]
        assert_eq!(inputs_or_default(&[], &[]).0, [PathBuf::from(".")]);
    }
}
