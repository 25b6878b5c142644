//! The failure catalog: the classes of failure that support engineers meet when a ConfigMgr client does not
//! install, register or keep its CCM token, each with the message texts and codes that identify it, a
//! one-sentence summary filled from the log line, and a fix. No terminal code: the rules
//! (`rules::evaluate`) use it to say what the error lines before a failure show ("never silent").
//!
//! A line is classified by the first class (in table order) whose texts occur in it (ASCII
//! case-insensitive) or whose codes it mentions (decoded with `codes::decode_message`: `0x80190194`,
//! `Code=12007`, `HTTP status 404` does not count, its HRESULT does). The table is ordered from the most
//! specific cause to the broadest: transport failures (certificate name, TLS, proxy, DNS, time-out) before
//! the step that suffered them (location, download), so that `Failed to download ... 0x80072ee7` reads as
//! a name resolution failure. `generic` matches anything else.
//!
//! WMI: `0x8004100E` (WBEM_E_INVALID_NAMESPACE) is logged by every machine without the client (ccmsetup
//! probes `root\ccm` before it exists: real ccmsetup.log:221-226): it is *noise*, ranked below every other
//! error line and never named as the cause. `0x80041002` (WBEM_E_NOT_FOUND) is as often a harmless lookup
//! of an object that does not exist yet, so it identifies `wmi-repository` only with a WMI text (`WMI is
//! corrupt`, `unable to create the WMI namespace`, `MOF`). Codes that say the repository itself failed
//! (`0x80041001` WBEM_E_FAILED, `0x8004100A` WBEM_E_CRITICAL_ERROR, `0x80041013`/`0x80041014` provider load /
//! initialisation failure) identify it alone.

use crate::codes::{self, CodeMention};

/// One failure class.
pub struct Class {
    /// Kebab-case id: the finding's `cause`.
    pub id: &'static str,
    /// Lower-case texts, any of which in a line identifies the class.
    pub texts: &'static [&'static str],
    /// HRESULTs (Win32 and WinHTTP codes as their HRESULT) that identify the class.
    pub codes: &'static [u32],
    /// HRESULT prefixes (the high 16 bits) that identify the class (e.g. `0x8019`: BITS HTTP statuses).
    pub facilities: &'static [u32],
    /// ccmsetup.exe exit codes (0-255) that identify the class.
    pub exits: &'static [i64],
    /// One sentence: `{url}` becomes ` from <url>` (or nothing), `{code}` `: <decoded code>` (or nothing),
    /// `{line}` the line quoted.
    pub summary: &'static str,
    /// The fix, for the reports.
    pub fix: &'static str,
    /// Present on healthy machines: ranked below every other error line, never named as the cause.
    pub noise: bool,
}

/// The catalog, most specific first (see the module comment). `generic` is last and matches anything.
pub static CLASSES: &[Class] = &[
    Class {
        id: "cert-name-mismatch",
        texts: &["cert_cn_invalid", "cn_no_match"],
        codes: &[0x8007_2F06, 0x800B_010F],
        facilities: &[],
        exits: &[],
        summary: "The server certificate's name does not match the host name the client connected to{url}{code}.",
        fix: "Make the server certificate's subject / SAN hold the FQDN the client uses (for a CMG the CMG service \
name, e.g. the name in CCMHOSTNAME); check what the server presents at https://<FQDN>/CCM_Proxy_MutualAuth/ServiceMetadata. \
A TLS-inspecting proxy that presents its own certificate must bypass the CMG / MP.",
        noise: false,
    },
    Class {
        id: "tls",
        texts: &["secure_failure", "secure channel", "schannel"],
        codes: &[
            0x8007_2F8F, 0x8007_2F7D, 0x8007_2F0D, 0x8007_2F05, 0x8007_2F89, 0x8007_2F93, 0x8007_2F0C, 0x8009_0326,
            0x8009_0325, 0x8009_0322, 0x8009_0328, 0x800B_0109, 0x800B_010A, 0x800B_0101, 0x800B_0110,
        ],
        facilities: &[],
        exits: &[],
        summary: "The TLS connection{url} failed{code}.",
        fix: "Check the server certificate the client sees (trusted root and intermediate CAs in the device's Local \
Computer stores, validity dates, server authentication usage, revocation list reachable) and that client and server \
share a TLS version and cipher suite (TLS 1.2 enabled in SCHANNEL and WinHTTP on older Windows).",
        noise: false,
    },
    Class {
        id: "proxy-auth",
        texts: &["proxy authentication required", "http_error_407", "status 407", "statuscode=407"],
        codes: &[0x8019_0197],
        facilities: &[],
        exits: &[],
        summary: "A proxy asked for authentication{url}{code}: the client, running as SYSTEM, cannot authenticate to it.",
        fix: "Let the computer account (SYSTEM) through the proxy without user authentication for the MP, CMG and DP \
URLs, or bypass the proxy for them; set the proxy for the system context (netsh winhttp / the client's proxy settings).",
        noise: false,
    },
    Class {
        id: "name-resolution",
        texts: &["name_not_resolved", "name not resolved", "could not be resolved"],
        codes: &[0x8007_2EE7, 0x8007_2AF9, 0x8007_2AFC],
        facilities: &[],
        exits: &[],
        summary: "The client could not resolve the server's name{url}{code}.",
        fix: "Check DNS from the device (Resolve-DnsName <server FQDN>): the MP / CMG / DP FQDN must resolve on the \
network the device is on (internal names do not resolve on the internet: use the CMG FQDN there).",
        noise: false,
    },
    Class {
        id: "timeout",
        texts: &["timed out", "winhttp_timeout", "operation timeout"],
        codes: &[0x8007_2EE2, 0x8007_05B4, 0x87D0_0213, 0x8007_2EFD],
        facilities: &[],
        exits: &[],
        summary: "The connection to the server timed out or could not be made{url}{code}.",
        fix: "Check that the device reaches the server on its port (Test-NetConnection <FQDN> -Port 443 / 80): \
firewalls, proxy, VPN split tunnel, and that the server (IIS on the MP / DP, the CMG) is up.",
        noise: false,
    },
    Class {
        id: "https-mp-no-client-cert",
        texts: &["failed to get client certificate for transportation", "ccm_e_no_client_pki_cert"],
        codes: &[],
        facilities: &[],
        exits: &[],
        summary: "The client has no PKI client authentication certificate for the HTTPS management point{url}{code}.",
        fix: "Deploy a client authentication certificate to the device (Local Computer Personal store, private key, \
chaining to a root the MP trusts), or let the client authenticate otherwise: Enhanced HTTP, a bulk registration token \
or Entra ID through the CMG.",
        noise: false,
    },
    Class {
        id: "mp-location",
        texts: &[
            "have already tried all mps",
            "no valid source or mp locations",
            "couldn't find an mp source",
            "failed to find an mp",
            "no mp is available",
        ],
        codes: &[0x87D0_0269],
        facilities: &[],
        exits: &[],
        summary: "ccmsetup found no management point it could use{url}{code}.",
        fix: "Check the MP the install names (/mp:, SMSMP, CCMHOSTNAME for the CMG) and that the device reaches it; \
check the site's boundaries and boundary groups for the device's network, MP publishing in AD or DNS, and the MP's \
health (mpcontrol.log).",
        noise: false,
    },
    Class {
        id: "dp-location",
        texts: &[
            "failed to get dp locations",
            "getdplocations failed",
            "couldn't find dp locations",
            "no dp locations",
            "getdirectorylist failed",
        ],
        codes: &[0x87D0_0454, 0x87D0_0607],
        facilities: &[],
        exits: &[],
        summary: "ccmsetup could not get a distribution point for the client content{url}{code}.",
        fix: "Distribute the 'Configuration Manager Client Package' to a distribution point of a boundary group the \
device is in (or allow fallback), check the boundaries for the device's network, and MP_Location.log on the MP; for \
internet clients enable content on the CMG or a cloud DP.",
        noise: false,
    },
    Class {
        id: "content-download",
        texts: &["failed to download", "bits job", "bits download", "download files through bits"],
        codes: &[0x8020_0010],
        facilities: &[0x8019, 0x8020],
        exits: &[],
        summary: "ccmsetup could not download the client files{url}{code}.",
        fix: "Check that the content URL serves the client files: the management point's CCM_Client virtual directory \
(or the DP's package) exists and holds the client.msi of the site's version (HTTP 404: missing or wrong path, e.g. the \
MP's IIS, WebDAV or BITS server extension; 401 / 403: IIS authentication or permissions), and that BITS works on the \
device (Get-BitsTransfer, the BITS service).",
        noise: false,
    },
    Class {
        id: "prerequisites",
        texts: &[
            "prerequisite",
            "returned failure exit code",
            "vcredist",
            "dotnetfx",
            ".net framework",
            "microsoftpolicyplatformsetup",
            "windowsupdateagent",
        ],
        codes: &[],
        facilities: &[],
        exits: &[9],
        summary: "A client prerequisite failed to install{code}: {line}.",
        fix: "Read the prerequisite's own log in %WinDir%\\ccmsetup\\Logs (e.g. vcredist, .NET, MicrosoftPolicyPlatformSetup \
.msi.log), install or repair that prerequisite, then rerun ccmsetup (ccmsetup exit 9: prerequisite evaluation failure).",
        noise: false,
    },
    Class {
        id: "msi-1603",
        texts: &["exitcode: 1603", "exit code 1603", "error code 1603", "client.msi installation failed"],
        codes: &[0x8007_0643],
        facilities: &[],
        exits: &[],
        summary: "client.msi failed to install (fatal error during installation, MSI 1603){code}.",
        fix: "Read %WinDir%\\ccmsetup\\Logs\\client.msi.log: search for 'Return value 3' and read the lines just above it \
(a custom action, a locked file, WMI, a failed service start). Repair the cause, then rerun ccmsetup.",
        noise: false,
    },
    Class {
        id: "reboot-pending",
        texts: &["reboot is pending", "pending reboot", "reboot required", "restart is required"],
        codes: &[0x8007_0BC2, 0x8007_0BC3],
        facilities: &[],
        exits: &[7],
        summary: "A restart is pending on the device: ccmsetup stops until it restarts{code}.",
        fix: "Restart the device; ccmsetup resumes after the restart (a prerequisite such as .NET asked for it).",
        noise: false,
    },
    Class {
        id: "ccmsetup-already-running",
        texts: &["already running", "another instance"],
        codes: &[],
        facilities: &[],
        exits: &[8],
        summary: "Another ccmsetup was already running on the device{code}.",
        fix: "Let the running ccmsetup finish (Get-Process ccmsetup; its log is ccmsetup.log), do not start installs \
in parallel (GPO, Intune and client push at once); stop a hung ccmsetup service before rerunning.",
        noise: false,
    },
    Class {
        id: "wmi-namespace-absent",
        texts: &[],
        codes: &[0x8004_100E],
        facilities: &[],
        exits: &[],
        summary: "Only WMI 'invalid namespace' errors (0x8004100E) precede it: a machine without the client logs them \
(root\\ccm does not exist yet), they do not explain the failure.",
        fix: "Read the log before the failure for the step that failed.",
        noise: true,
    },
    Class {
        id: "wmi-repository",
        texts: &[
            "wmi is corrupt",
            "wmi repository",
            "unable to create the wmi namespace",
            "unable to delete the wmi namespace",
            "mofcomp",
        ],
        codes: &[0x8004_1001, 0x8004_100A, 0x8004_1013, 0x8004_1014],
        facilities: &[],
        exits: &[],
        summary: "WMI failed on the device{code}: {line}.",
        fix: "Check the WMI repository ('winmgmt /verifyrepository'; if inconsistent, 'winmgmt /salvagerepository'), \
then rerun ccmsetup; rebuild the repository only as a last resort (it drops every provider's registrations).",
        noise: false,
    },
    Class {
        id: "registration-pending",
        texts: &["registration is pending"],
        codes: &[],
        facilities: &[],
        exits: &[],
        summary: "The site assigned a client id but has not approved the registration{code}.",
        fix: "Approve the device in the console (Assets and Compliance > Devices > Approve) or review the hierarchy's \
client approval setting; for Entra ID and token registration check MP_RegistrationManager.log on the MP.",
        noise: false,
    },
    Class {
        id: "access-denied",
        texts: &["access is denied", "access denied"],
        codes: &[0x8007_0005],
        facilities: &[],
        exits: &[],
        summary: "Access was denied{url}{code}.",
        fix: "Run ccmsetup as a local administrator / SYSTEM; check what denied it in the line (a file or registry ACL, \
an antivirus, DCOM permissions, a share or IIS permission on the server).",
        noise: false,
    },
    Class {
        id: "generic",
        texts: &[],
        codes: &[],
        facilities: &[],
        exits: &[],
        summary: "The error logged before it: {line}{code}.",
        fix: "Look up the decoded code of the line below (cmtrace-rs error <code>) and fix what it names; the lines just \
before it in the same log usually say which step failed.",
        noise: false,
    },
];

/// The class of that id.
pub fn class(id: &str) -> Option<&'static Class> {
    CLASSES.iter().find(|c| c.id == id)
}

fn generic() -> &'static Class {
    class("generic").expect("generic class")
}

/// The HRESULT values a line mentions (decoded codes with a value of HRESULT form).
fn hresults(mentions: &[CodeMention]) -> impl Iterator<Item = u32> + '_ {
    mentions.iter().filter_map(|m| m.value).filter(|v| v & 0x8000_0000 != 0)
}

fn contains_ci(hay: &str, needle: &str) -> bool {
    hay.as_bytes().windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// The class of a log line (`generic` when none): texts first, across the table, then codes.
pub fn classify(text: &str) -> &'static Class {
    classify_with(text, &codes::decode_message(text))
}

fn classify_with(text: &str, mentions: &[CodeMention]) -> &'static Class {
    said_with(text, mentions)
        .or_else(|| CLASSES.iter().find(|c| by_code(c, mentions)))
        .unwrap_or_else(generic)
}

/// Whether one of the HRESULTs mentioned is among the class's codes or facilities.
fn by_code(c: &Class, mentions: &[CodeMention]) -> bool {
    hresults(mentions).any(|v| c.codes.contains(&v) || c.facilities.contains(&(v >> 16)))
}

/// The class a line says in words, or a transport class (the first five: they win on their codes over the
/// texts of the step they broke); `None` for a line that only a shared code would classify
/// (`Failed to send location message ... Error 0x87d00454`: the code is also a content-location one).
pub fn said(text: &str) -> Option<&'static Class> {
    said_with(text, &codes::decode_message(text))
}

fn said_with(text: &str, mentions: &[CodeMention]) -> Option<&'static Class> {
    CLASSES
        .iter()
        .take(5)
        .find(|c| by_code(c, mentions))
        .or_else(|| CLASSES.iter().find(|c| c.texts.iter().any(|t| contains_ci(text, t))))
}

/// The class a ccmsetup exit code names (7, 8, 9), or the class of an HRESULT exit code.
pub fn classify_exit(code: i64) -> Option<&'static Class> {
    if (0..=255).contains(&code) {
        return CLASSES.iter().find(|c| c.exits.contains(&code));
    }
    let v = code as u32;
    CLASSES.iter().find(|c| c.codes.contains(&v) || c.facilities.contains(&(v >> 16)))
}

/// Whether a line is noise that healthy machines log too.
pub fn is_noise(text: &str) -> bool {
    classify(text).noise
}

/// Whether the line mentions this HRESULT.
pub fn mentions_code(text: &str, code: u32) -> bool {
    hresults(&codes::decode_message(text)).any(|v| v == code)
}

/// The first HRESULT a line mentions.
pub fn first_code(text: &str) -> Option<u32> {
    hresults(&codes::decode_message(text)).next()
}

/// A decoded code as a sentence fragment: `HTTP 404, BG_E_HTTP_ERROR_404`, `ERROR_WINHTTP_TIMEOUT (0x80072EE2)`.
fn code_phrase(m: &CodeMention) -> String {
    let name = m.known.map(|k| k.name).filter(|n| !n.is_empty() && *n != "—" && *n != "-");
    match (m.value, name) {
        (Some(v), Some(n)) if v >> 16 == 0x8019 => format!("HTTP {}, {n}", v & 0xFFFF),
        (Some(v), None) if v >> 16 == 0x8019 => format!("HTTP {}, 0x{v:08X}", v & 0xFFFF),
        (Some(v), Some(n)) if v & 0x8000_0000 != 0 => format!("{n} (0x{v:08X})"),
        (Some(v), None) if v & 0x8000_0000 != 0 => format!("0x{v:08X}"),
        (_, Some(n)) => format!("{} {n}", m.raw),
        (_, None) => m.raw.clone(),
    }
}

/// The first URL of a text (`http://`, `https://`, as written, without trailing punctuation).
pub fn first_url(text: &str) -> Option<&str> {
    let lower = text.to_ascii_lowercase();
    let start = lower.find("http://").or_else(|| lower.find("https://"))?;
    let rest = &text[start..];
    let end = rest
        .find(|c: char| c.is_whitespace() || matches!(c, '\'' | '"' | ',' | '<' | '>'))
        .unwrap_or(rest.len());
    Some(rest[..end].trim_end_matches(['.', ';', ')', ']']))
}

/// The first line of a message, at most 200 characters.
fn quote(text: &str) -> String {
    let first = text.lines().next().unwrap_or("").trim();
    let mut s: String = first.chars().take(200).collect();
    if first.chars().count() > 200 {
        s.push('…');
    }
    format!("'{s}'")
}

/// The class's sentence for `text`; `context` are the other lines of the attempt (for a URL the line
/// itself does not name).
pub fn summarize(class: &Class, text: &str, context: &[&str]) -> String {
    let mentions = codes::decode_message(text);
    let code = mentions.iter().find(|m| m.value.is_some_and(|v| v & 0x8000_0000 != 0)).or(mentions.first());
    let url = first_url(text).or_else(|| context.iter().find_map(|t| first_url(t)));
    class
        .summary
        .replace("{url}", &url.map(|u| format!(" from {u}")).unwrap_or_default())
        .replace("{code}", &code.map(|m| format!(": {}", code_phrase(m))).unwrap_or_default())
        .replace("{line}", &quote(text))
}

/// Fixes for Entra ID / IdentityModel errors in CCM_STS.log (`aad-token-rejected`).
pub static IDX_FIXES: &[(&str, &str)] = &[
    (
        "IDX10214",
        "IDX10214 (audience validation failed): the token was requested for another resource than the site's server \
app. Check the App ID URI of the ConfigMgr server (web) app registration in Entra ID against the resource the client \
asks for (AADRESOURCEURI, 'ResourceUrl =' in ccmsetup.log) and the server app imported in Administration > Cloud Services \
> Azure Services; re-import the app with the App ID URI actually configured in the portal.",
    ),
    (
        "IDX10223",
        "IDX10223 (lifetime validation failed, the token is expired): reinstall with a new bulk registration token \
(BulkRegistrationTokenTool.exe /new) or connect the client to an internal MP; if the token is fresh, fix the clocks of \
the device and the MP (w32tm /query /status).",
    ),
    (
        "IDX10222",
        "IDX10222 (the token is not yet valid): the device's or the MP's clock is wrong: fix the time source \
(w32tm /query /status) on both.",
    ),
    (
        "IDX10501",
        "IDX10501 (signature validation failed, no matching key): the MP does not have the tenant's current signing \
keys: check that the MP reaches login.microsoftonline.com (the Local System proxy), that the token's tenant is the \
onboarded one, and restart SMS_EXECUTIVE to refresh the keys.",
    ),
    (
        "IDX10503",
        "IDX10503 (signature validation failed): the token was signed with a key the MP does not know: check the \
token's tenant against the onboarded tenant and that the MP can refresh the tenant's signing keys (internet access, \
Local System proxy).",
    ),
    (
        "IDX10205",
        "IDX10205 (issuer validation failed): the token comes from another tenant (or v1 / v2 issuer) than the one \
onboarded in Azure Services: check the device's tenant ('dsregcmd /status') and the onboarded tenant.",
    ),
];

/// The fix of the first IdentityModel error a text names.
pub fn idx_fix(text: &str) -> Option<&'static str> {
    IDX_FIXES.iter().find(|(id, _)| text.contains(id)).map(|(_, fix)| *fix)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> &'static str {
        classify(text).id
    }

    #[test]
    fn every_class_has_a_positive_and_a_near_miss() {
        let cases: &[(&str, &str, &str)] = &[
            // (class, positive line, near-miss line that must not be that class)
            (
                "content-download",
                "Failed to download client files by BITS. Error 0x80190194",
                "Adding file 'HTTP://server.dmz:80/CCM_Client/x64/client.msi' to BITS queue",
            ),
            (
                "mp-location",
                "Have already tried all MPs. Couldn't find DP locations.",
                "Found a valid online MP 'http://MP01.CONTOSO.COM'",
            ),
            (
                "dp-location",
                "Failed to get DP locations as the expected version from MP 'http://MP01'. Error 0x87d00215",
                "Searching for DP locations from MP(s)...",
            ),
            (
                "https-mp-no-client-cert",
                "Failed to get client certificate for transportation. Error 0x87d00215",
                "Client certificate for transportation found",
            ),
            (
                "name-resolution",
                "Failed to download client files by BITS. Error 0x80072ee7",
                "Resolved MP01.CONTOSO.COM to 10.0.0.4",
            ),
            ("timeout", "Request to https://CMG/CCM_STS failed with 0x80072ee2", "Timeout set to 60 seconds"),
            ("proxy-auth", "Failed to download files through BITS. Error: 0x80190197", "Proxy is set to PROXY01:8080"),
            (
                "tls",
                "[CCMHTTP] ERROR: URL=https://CMG/CCM_STS, Port=443, Options=63, Code=12175, Text=ERROR_WINHTTP_SECURE_FAILURE",
                "Target URL scheme is HTTPS: https://CMG/CCM_STS",
            ),
            (
                "cert-name-mismatch",
                "Request failed with 0x80072f06",
                "Certificate name CMG.CONTOSO.COM matches",
            ),
            ("msi-1603", "CcmSetup failed with error code 0x80070643", "Installation succeeded. Exit code 0"),
            (
                "reboot-pending",
                "A reboot is pending. CcmSetup will continue after the reboot",
                "No reboot needed",
            ),
            (
                "wmi-repository",
                "Setup was unable to create the WMI namespace CCM. The error code is 8004100A",
                "Failed to connect to policy namespace. Error 0x8004100e",
            ),
            (
                "ccmsetup-already-running",
                "Another instance of ccmsetup is already running",
                "ccmsetup is running as a service",
            ),
            (
                "prerequisites",
                "File 'C:\\WINDOWS\\ccmsetup\\vcredist_x64.exe' returned failure exit code 1603. Fail the installation.",
                "Client.msi is installed",
            ),
            (
                "registration-pending",
                "[RegTask] - Client registration is pending. Server assigned ClientID is GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139",
                "[RegTask] - Client is registered. Server assigned ClientID is GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139. Approval status 1",
            ),
            ("access-denied", "Failed to open registry key. Error 0x80070005", "Access check passed"),
            ("generic", "Something odd happened 0x87d00231", "Failed to download client files by BITS. Error 0x80190194"),
        ];
        for (class, yes, no) in cases {
            assert_eq!(id(yes), *class, "{yes}");
            assert_ne!(id(no), *class, "{no}");
        }
        // Every class of the table is covered.
        for c in CLASSES.iter().filter(|c| !c.noise) {
            assert!(cases.iter().any(|(id, _, _)| *id == c.id), "{}", c.id);
        }
    }

    #[test]
    fn wmi_namespace_is_noise() {
        assert!(is_noise("Failed to connect to policy namespace. Error 0x8004100e"));
        assert!(!is_noise("Failed to download client files by BITS. Error 0x80190194"));
    }

    #[test]
    fn exit_codes() {
        assert_eq!(classify_exit(7).map(|c| c.id), Some("reboot-pending"));
        assert_eq!(classify_exit(8).map(|c| c.id), Some("ccmsetup-already-running"));
        assert_eq!(classify_exit(9).map(|c| c.id), Some("prerequisites"));
        assert_eq!(classify_exit(6).map(|c| c.id), None);
        assert_eq!(classify_exit(0x80070643).map(|c| c.id), Some("msi-1603"));
        assert_eq!(classify_exit(0x80190194).map(|c| c.id), Some("content-download"));
    }

    #[test]
    fn summary_of_the_real_download_failure() {
        let line = "Failed to download client files by BITS. Error 0x80190194";
        let ctx = ["[] Params to send '5.0.8458.1007 Deployment Error 0x80190194. Path HTTP://server.dmz/CCM_Client'"];
        assert_eq!(
            summarize(classify(line), line, &ctx),
            "ccmsetup could not download the client files from HTTP://server.dmz/CCM_Client: HTTP 404, BG_E_HTTP_ERROR_404."
        );
    }

    #[test]
    fn idx_fixes() {
        assert!(idx_fix("IDX10214: Audience validation failed.").unwrap().contains("App ID URI"));
        assert!(idx_fix("IDX10223: Lifetime validation failed. The token is expired.")
            .unwrap()
            .contains("clock"));
        assert!(idx_fix("Return code: 401").is_none());
    }
}
