//! `cmtrace-rs watch` follows logs as ConfigMgr writes them. The binary runs with its stdout in a pipe (one
//! NDJSON line per new input, device, finding and flow event) while the test appends records, splits one
//! across two writes, rolls a log over, truncates one and creates new files and host folders; each step
//! waits for the line it expects, with a deadline, never a fixed sleep. `scripts/replay.py` replays whole
//! bundles under `watch`, whose last word per device must be `analyze`'s on the same files. In a
//! pseudo-terminal (util-linux `script`, as in tests/terminal.rs) the screen is drawn, redrawn as lines
//! arrive, and the terminal is restored on `q` and on Ctrl-C.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The longest any expected line may take to come (a loaded CI machine; it comes in milliseconds).
const DEADLINE: Duration = Duration::from_secs(20);

/// A running `watch` whose NDJSON lines are read as they come.
struct Watch {
    child: Child,
    rx: Receiver<String>,
    lines: Vec<Value>,
}

impl Watch {
    fn start(args: &[&str], dir: &Path) -> Watch {
        let mut child = crate::common::cmtrace()
            .arg("watch")
            .arg(dir)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("cmtrace-rs runs");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Watch { child, rx, lines: Vec::new() }
    }

    /// Reads lines until `done` holds for all the lines read so far; fails after `DEADLINE`.
    fn wait_for(&mut self, what: &str, done: impl Fn(&[Value]) -> bool) {
        let end = Instant::now() + DEADLINE;
        while !done(&self.lines) {
            let left = end.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(line) => {
                    let value: Value =
                        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                    assert!(value["type"].is_string() && value["schema_version"] == 2, "{line}");
                    self.lines.push(value);
                }
                Err(_) => panic!("no {what} within {DEADLINE:?}; lines so far:\n{}", self.dump()),
            }
        }
    }

    fn dump(&self) -> String {
        self.lines.iter().map(|v| v.to_string()).collect::<Vec<_>>().join("\n")
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The event lines whose message is `text`.
fn events<'a>(lines: &'a [Value], text: &str) -> Vec<&'a Value> {
    lines.iter().filter(|v| v["type"] == "event" && v["text"] == text).collect()
}

fn has_event(text: &str) -> impl Fn(&[Value]) -> bool + '_ {
    move |lines| !events(lines, text).is_empty()
}

/// A ccmsetup record (CMTrace format) that gives a `ccmsetup_started` event with process id `pid`, at
/// 23:MM:SS UTC on the demo's day (after all of its events).
fn started(pid: u32) -> (String, String) {
    let message = format!("==========[ ccmsetup started in process {pid} ]==========");
    let record = format!(
        "<![LOG[{message}]LOG]!><time=\"23:{:02}:{:02}.000+0\" date=\"11-20-2026\" component=\"ccmsetup\" \
         context=\"\" type=\"1\" thread=\"{pid}\" file=\"ccmsetup.cpp:9498\">\r\n",
        (pid / 60) % 60,
        pid % 60
    );
    (message, record)
}

fn append(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
    f.write_all(bytes).unwrap();
}

/// Appends, a record split across two writes, a rollover with a record finished in the renamed file, a
/// truncation, a new host folder and a new log: every entry comes once, at its line, and nothing is read
/// twice.
fn follow_as_configmgr_writes(extra: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let setup_dir = dir.join("CLIENT01/Windows/ccmsetup/Logs");
    let log = setup_dir.join("ccmsetup.log");
    let other = dir.join("CLIENT02/Windows/ccmsetup/Logs/ccmsetup.log");
    let (m1, r1) = started(1);
    let (m2, r2) = started(2);
    append(&log, format!("{r1}{r2}").as_bytes());
    let (o1, ro1) = started(101);
    append(&other, ro1.as_bytes());

    // What is there is read first.
    let mut w = Watch::start(extra, dir);
    w.wait_for("the files there at start", |l| has_event(&m2)(l) && has_event(&o1)(l));
    assert!(w
        .lines
        .iter()
        .any(|v| v["type"] == "input" && v["path"].as_str().unwrap().ends_with("ccmsetup.log")));
    assert_eq!(events(&w.lines, &m1)[0]["line"], 1);
    assert_eq!(events(&w.lines, &m2)[0]["line"], 2);
    assert_eq!(events(&w.lines, &m2)[0]["host"], "CLIENT01");

    // An append.
    let (m3, r3) = started(3);
    append(&log, r3.as_bytes());
    w.wait_for("an appended record", has_event(&m3));
    assert_eq!(events(&w.lines, &m3)[0]["line"], 3);

    // A record (whose message spans two lines) in two writes: the first half waits. A record appended to
    // the other file after it, and read with it, shows the first half was seen and held back.
    let (m4, r4) = started(4);
    let r4 = r4.replace(" ]==========]LOG]", "\r\nsecond line ]==========]LOG]");
    let m4 = m4.replace(" ]==========", "\nsecond line ]==========");
    let half = r4.len() / 2;
    append(&log, &r4.as_bytes()[..half]);
    let (o2, ro2) = started(102);
    append(&other, ro2.as_bytes());
    w.wait_for("the other file's record", has_event(&o2));
    assert!(events(&w.lines, &m4).is_empty(), "half a record was read as an entry:\n{}", w.dump());
    append(&log, &r4.as_bytes()[half..]);
    w.wait_for("the record completed", has_event(&m4));
    assert_eq!(events(&w.lines, &m4)[0]["line"], 4);

    // Rolled over mid-record: the record's first half before the rename, its end written to the renamed
    // file; then a new ccmsetup.log.
    let (m5, r5) = started(5);
    append(&log, &r5.as_bytes()[..40]);
    let rolled = setup_dir.join("ccmsetup.lo_");
    std::fs::rename(&log, &rolled).unwrap();
    append(&rolled, &r5.as_bytes()[40..]);
    let (m6, r6) = started(6);
    append(&log, r6.as_bytes());
    w.wait_for("the rolled file's last record and the new file's first", |l| {
        has_event(&m5)(l) && has_event(&m6)(l)
    });
    let e5 = events(&w.lines, &m5)[0];
    assert!(e5["path"].as_str().unwrap().ends_with("ccmsetup.lo_"), "{e5}");
    assert_eq!(e5["line"], 6, "lines go on in the renamed file (record 4 spans lines 4 and 5)");
    let e6 = events(&w.lines, &m6)[0];
    assert!(e6["path"].as_str().unwrap().ends_with("ccmsetup.log"), "{e6}");
    assert_eq!(e6["line"], 1, "the new file is read from its start");

    // Truncated and written again: read from its start.
    std::fs::OpenOptions::new().write(true).open(&log).unwrap().set_len(0).unwrap();
    let (m7, r7) = started(7);
    append(&log, r7.as_bytes());
    w.wait_for("the truncated file's new record", has_event(&m7));
    assert_eq!(events(&w.lines, &m7)[0]["line"], 1);

    // A new host folder, a server-format record in two writes (a message line, then its trailer line).
    let connector =
        dir.join("CPSRV01/Program Files/Microsoft Configuration Manager/Logs/SMS_CLOUD_PROXYCONNECTOR.log");
    let first = "MessageID: 3087bd34-b82c-4950-b972-e82bb0fb8385 RequestURI: https://MP01.CONTOSO.COM/CCM_STS \
                 EndpointName: CCM_STS ResponseHeader: HTTP/1.1 200 OK ~~ ResponseBodySize: 0 ElapsedTime: 88 ms~~";
    append(&connector, format!("{first}  $$<SMS_CLOUD_PROXYCONNECTOR><11-20-2026 10:31").as_bytes());
    let (o3, ro3) = started(103);
    append(&other, ro3.as_bytes());
    w.wait_for("the other file's record", has_event(&o3));
    assert!(
        !w.lines.iter().any(|v| v["event"] == "proxy_request"),
        "half a server line was read:\n{}",
        w.dump()
    );
    append(&connector, b":42.890+300><thread=7788 (0x1E6C)>\r\n");
    w.wait_for("the new host's event", |l| l.iter().any(|v| v["event"] == "proxy_request"));
    let proxy = w.lines.iter().find(|v| v["event"] == "proxy_request").unwrap();
    assert_eq!((&proxy["host"], &proxy["line"]), (&Value::from("CPSRV01"), &Value::from(1)));

    // A log that appears after the client install: CcmAad.log (UTF-16, as the client writes it).
    let aad = "Retrieved AAD token for AAD device '8d2b4ff9-0172-4998-9851-b5324303385f'";
    let record = format!(
        "<![LOG[{aad}]LOG]!><time=\"10:01:00.000+0\" date=\"11-20-2026\" component=\"CcmAad\" context=\"\" \
         type=\"1\" thread=\"1\" file=\"x\">\r\n"
    );
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(record.encode_utf16().flat_map(u16::to_le_bytes));
    append(&dir.join("CLIENT01/Windows/CCM/Logs/CcmAad.log"), &utf16[..31]);
    append(&dir.join("CLIENT01/Windows/CCM/Logs/CcmAad.log"), &utf16[31..]);
    w.wait_for("the new log's event", has_event(aad));
    assert_eq!(events(&w.lines, aad)[0]["log_kind"], "adal_operation_provider");

    // Nothing was read twice: each record's event came once.
    for m in [&m1, &m2, &m3, &m4, &m5, &m6, &m7, &o1, &o2, &o3] {
        assert_eq!(events(&w.lines, m).len(), 1, "{m}:\n{}", w.dump());
    }
}

#[test]
fn follows_appends_splits_rollovers_truncations_and_new_files() {
    follow_as_configmgr_writes(&[]);
}

#[test]
fn follows_the_same_by_polling() {
    follow_as_configmgr_writes(&["--poll", "--interval", "50"]);
}

/// Per device key, the statuses of its phases, from the last device line of each key.
fn last_phases(lines: &[Value]) -> std::collections::BTreeMap<String, Vec<(String, String)>> {
    let mut out = std::collections::BTreeMap::new();
    for v in lines.iter().filter(|v| v["type"] == "device") {
        let phases = v["phases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["id"].as_str().unwrap().to_string(), p["status"].as_str().unwrap().to_string()))
            .collect();
        out.insert(v["key"].as_str().unwrap().to_string(), phases);
    }
    out
}

/// (rule, device) of every finding line.
fn findings(lines: &[Value]) -> std::collections::BTreeSet<(String, String)> {
    lines
        .iter()
        .filter(|v| v["type"] == "finding")
        .map(|v| (v["rule"].as_str().unwrap().to_string(), v["device"].as_str().unwrap_or("").to_string()))
        .collect()
}

fn analyze_ndjson(dir: &Path) -> Vec<Value> {
    let out = crate::common::cmtrace()
        .args(["analyze", "--format", "ndjson", "--fail-on", "never"])
        .arg(dir)
        .output()
        .expect("cmtrace-rs runs");
    String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// `scripts/replay.py` writes a bundle into a folder record by record in time order (some records in two
/// writes, a log rolled over halfway); `watch`, started on the empty folder, ends where `analyze` of the
/// folder does: the same phases for every device, the same findings, every flow event once.
fn replay_under_watch(bundle: &str, replay_args: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("live");
    std::fs::create_dir_all(&target).unwrap();
    let mut w = Watch::start(&["--settle", "1"], &target);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new("python3")
        .arg(root.join("scripts/replay.py"))
        .arg(root.join(bundle))
        .arg(&target)
        .args(["--speed", "100000", "--max-gap", "0.01", "--split-pause", "0.01"])
        .args(replay_args)
        .status()
        .expect("python3 runs scripts/replay.py");
    assert!(status.success(), "{bundle}: replay.py failed");

    let expected = analyze_ndjson(&target);
    let phases = last_phases(&expected);
    let wanted_findings = findings(&expected);
    let event_count = expected.iter().filter(|v| v["type"] == "event").count();
    assert!(
        !phases.is_empty() && event_count > 20,
        "{bundle}: {} devices, {event_count} events",
        phases.len()
    );
    w.wait_for("the phases, findings and events of analyze", |lines| {
        let got = last_phases(lines);
        phases.iter().all(|(k, p)| got.get(k) == Some(p))
            && wanted_findings.is_subset(&findings(lines))
            && lines.iter().filter(|v| v["type"] == "event").count() >= event_count
    });
    // Every event once: as many event lines as analyze has events (an event read before its file was
    // rolled over keeps the name it was read under, so they are counted, not compared by path).
    let mut times: Vec<(String, String, String)> = w
        .lines
        .iter()
        .filter(|v| v["type"] == "event")
        .map(|v| (v["event"].to_string(), v["text"].to_string(), v["host"].to_string()))
        .collect();
    let mut want: Vec<(String, String, String)> = expected
        .iter()
        .filter(|v| v["type"] == "event")
        .map(|v| (v["event"].to_string(), v["text"].to_string(), v["host"].to_string()))
        .collect();
    times.sort();
    want.sort();
    assert_eq!(times, want, "{bundle}: the events differ");
}

#[test]
fn replaying_the_demo_ends_as_analyze_does() {
    replay_under_watch("fixtures/demo/case-1234", &["--roll", "ccmsetup.log"]);
}

#[test]
fn replaying_a_utf16_fleet_with_a_stamped_rollover_ends_as_analyze_does() {
    replay_under_watch(
        "fixtures/bundles/healthy-multi",
        &["--roll", "CcmMessaging.log", "--roll-style", "stamp"],
    );
}

/// Runs `watch` in a pseudo-terminal of 120×40 (`script`), feeding `keys` once the screen shows `ready`
/// and after `between` ran; returns everything the terminal received and the exit status.
fn in_pty(dir: &Path, ready: &str, between: impl FnOnce(), then: &str, keys: &[u8]) -> (String, Option<i32>) {
    assert!(
        Command::new("script").arg("--version").output().is_ok(),
        "util-linux `script` is needed to run the binary in a pseudo-terminal: install Debian's bsdutils"
    );
    let cmd = format!(
        "stty cols 120 rows 40; exec '{}' watch '{}' --color always",
        crate::common::BIN,
        dir.display()
    );
    let child = Command::new("script")
        .args(["-qefc", &cmd, "/dev/null"])
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("script runs");
    // Killed however the test ends (`watch` ends with `script`'s terminal).
    let mut child = Killed(child);
    let child = &mut child.0;
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                return;
            }
        }
    });
    let mut seen = Vec::new();
    let wait_for = |what: &str, seen: &mut Vec<u8>| {
        let end = Instant::now() + DEADLINE;
        while !String::from_utf8_lossy(seen).contains(what) {
            match rx.recv_timeout(end.saturating_duration_since(Instant::now())) {
                Ok(bytes) => seen.extend(bytes),
                Err(_) => panic!("the screen never showed {what:?}: {:?}", String::from_utf8_lossy(seen)),
            }
        }
    };
    wait_for(ready, &mut seen);
    between();
    wait_for(then, &mut seen);
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(keys).unwrap();
    stdin.flush().unwrap();
    let end = Instant::now() + DEADLINE;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s.code();
        }
        if Instant::now() > end {
            let _ = child.kill();
            panic!("watch did not quit on {keys:?}: {:?}", String::from_utf8_lossy(&seen));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(stdin);
    while let Ok(bytes) = rx.recv_timeout(Duration::from_secs(2)) {
        seen.extend(bytes);
    }
    (String::from_utf8_lossy(&seen).into_owned(), status)
}

/// The live screen: the demo's failed install with its finding and fix, redrawn when a record is appended,
/// and the terminal restored (main screen, cursor shown) on `q` and on Ctrl-C.
#[test]
fn the_screen_redraws_in_place_and_restores_the_terminal() {
    for key in [&b"q"[..], &b"\x03"[..]] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("case");
        copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/case-1234"), &dir);
        let log = dir.join("LAPTOP-K9X1/Windows/ccmsetup/Logs/ccmsetup.log");
        let (message, record) = started(4242);
        let (screen, status) =
            in_pty(&dir, "root-ca-untrusted", || append(&log, record.as_bytes()), &message, key);
        assert_eq!(status, Some(0), "{key:?}: {screen:?}");
        let enter = screen.find("\u{1b}[?1049h").expect("the alternate screen is used");
        let leave = screen.rfind("\u{1b}[?1049l").expect("the main screen is restored");
        assert!(enter < leave);
        assert!(screen.rfind("\u{1b}[?25h") > screen.rfind("\u{1b}[?25l"), "the cursor is shown again");
        // Redrawn in place: the cursor goes home for each frame, and frames came before and after the append.
        assert!(screen.matches("\u{1b}[1;1H").count() >= 2, "{screen:?}");
        let after_append = screen.find(&message).unwrap();
        assert!(screen[..after_append].contains("FAILED"), "the failed install shows before the append");
        assert!(screen.contains("fix: "), "the finding's fix is on screen");
        assert!(screen.contains("\u{1b}[31"), "--color always colours FAILED");
    }
}

/// A child process killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A reader that has gone (`| head`) ends `watch` quietly, as any command: status 0.
#[test]
fn a_closed_stdout_ends_watch() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/case-1234");
    let mut child = crate::common::cmtrace()
        .arg("watch")
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut byte = [0u8; 1];
    stdout.read_exact(&mut byte).unwrap();
    drop(stdout);
    let end = Instant::now() + DEADLINE;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert_eq!(status.code(), Some(0));
            let mut stderr = String::new();
            child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
            assert_eq!(stderr, "");
            return;
        }
        assert!(Instant::now() < end, "watch goes on with nobody reading");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_path_that_does_not_exist_is_an_error() {
    let out = crate::common::cmtrace().args(["watch", "no/such/folder"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/folder"));
}
