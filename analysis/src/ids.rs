//! Identifiers carried by flow events: which ones an event names, their canonical spelling, and which
//! of them may key a device (SMS client GUIDs, Azure AD device ids, domain SIDs) and which may not.

use std::borrow::Cow;

use cmtrace_parsers::{EventKind, SharedStr};

/// The type of an identifier named by an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IdKind {
    /// SMS client GUID, canonical `GUID:` + upper case.
    ClientGuid,
    /// Azure AD device object id, lower case.
    AadDevice,
    /// Azure AD user object id, lower case.
    AadUser,
    /// Azure AD tenant id, lower case. Never a grouping key (shared by every device of the tenant).
    AadTenant,
    /// A SID naming a user or the local system account (client token caches, `OnPrem_UserSid`).
    Sid,
    /// `OnPrem_DeviceSid`: the computer account's SID.
    DeviceSid,
    /// Message ids (client messaging, connector `MessageID`).
    MessageId,
    /// URLs, host names and URL paths.
    Url,
    /// Other ids kept for `trace` only (hierarchy id, ConfigMgr user id, Azure AD app id).
    Other,
}

const ZERO_GUID: &str = "00000000-0000-0000-0000-000000000000";

/// Strips blanks, surrounding quotes and braces.
fn bare(raw: &str) -> &str {
    raw.trim().trim_matches(|c| c == '\'' || c == '"').trim().trim_matches(|c| c == '{' || c == '}').trim()
}

// The canonical forms, borrowed when the spelling already is canonical (the extractors normalise most
// identifiers, and the engine asks for them millions of times on a fleet collection).

/// `GUID:XXXXXXXX-...` in upper case, from any spelling (with or without prefix or braces).
pub fn canonical_client_guid(raw: &str) -> Option<Cow<'_, str>> {
    let s = bare(raw);
    let (prefixed, body) = match s.get(..5) {
        Some(p) if p.eq_ignore_ascii_case("GUID:") => (p == "GUID:", bare(&s[5..])),
        _ => (false, s),
    };
    if body.is_empty() || body == ZERO_GUID {
        return None;
    }
    match ascii_case(body, true) {
        Cow::Borrowed(_) if prefixed && body.len() + 5 == s.len() => Some(Cow::Borrowed(s)),
        upper => Some(Cow::Owned(format!("GUID:{upper}"))),
    }
}

/// Azure AD object ids (device, user, tenant) in lower case; `None` for empty or all-zero ids
/// (device-only tokens carry a zero user id).
pub fn canonical_aad_id(raw: &str) -> Option<Cow<'_, str>> {
    let s = bare(raw);
    if s.is_empty() || s == ZERO_GUID {
        return None;
    }
    Some(ascii_case(s, false))
}

/// SIDs in upper case (`S-1-5-21-...`).
pub fn canonical_sid(raw: &str) -> Option<Cow<'_, str>> {
    let s = bare(raw);
    if s.is_empty() {
        return None;
    }
    Some(ascii_case(s, true))
}

/// `s` in ASCII upper (or lower) case, borrowed when it already is.
fn ascii_case(s: &str, upper: bool) -> Cow<'_, str> {
    let other_case = |b: &u8| if upper { b.is_ascii_lowercase() } else { b.is_ascii_uppercase() };
    match (s.bytes().any(|b| other_case(&b)), upper) {
        (false, _) => Cow::Borrowed(s),
        (true, true) => Cow::Owned(s.to_ascii_uppercase()),
        (true, false) => Cow::Owned(s.to_ascii_lowercase()),
    }
}

/// Whether a SID names one account that can tie events to a device or user: domain / local account
/// SIDs (`S-1-5-21-...`) and Azure AD account SIDs (`S-1-12-1-...`). Well-known SIDs such as
/// `S-1-5-18` (SYSTEM, the account every client caches its device token for) are shared by all
/// machines and never key anything.
pub fn is_account_sid(sid: &str) -> bool {
    let prefixed = |p: &str| sid.get(..p.len()).is_some_and(|s| s.eq_ignore_ascii_case(p));
    (prefixed("S-1-5-21-") || prefixed("S-1-12-1-")) && sid.bytes().filter(|&b| b == b'-').count() >= 6
}

/// The spelling used to compare a `trace` query with an identifier: no blanks, quotes, braces or
/// `GUID:` prefix, lower case.
pub fn match_form(raw: &str) -> String {
    match_core(raw).to_ascii_lowercase()
}

/// `match_form` before lower-casing (borrowed).
fn match_core(raw: &str) -> &str {
    let s = bare(raw);
    match s.get(..5) {
        Some(p) if p.eq_ignore_ascii_case("GUID:") => bare(&s[5..]),
        _ => s,
    }
}

/// Calls `f` with every identifier the event names, in canonical form (see `IdKind`), borrowed from
/// the event where it is already spelled canonically.
pub fn for_each_id<'e>(kind: &'e EventKind, mut f: impl FnMut(IdKind, Cow<'e, str>)) {
    for_each_shared_id(kind, |k, v, _| f(k, v));
}

/// `for_each_id`, with the event's own shared string when the canonical form is the whole of it (client
/// GUIDs, Azure AD ids and SIDs; `None` for the others): the correlation keeps that string instead of a
/// copy of it.
pub fn for_each_shared_id<'e>(
    kind: &'e EventKind,
    mut f: impl FnMut(IdKind, Cow<'e, str>, Option<&'e SharedStr>),
) {
    type Sink<'f, 'e> = &'f mut dyn FnMut(IdKind, Cow<'e, str>, Option<&'e SharedStr>);
    // An id in its canonical spelling, with the field's own string when that spelling is the whole of it.
    let id = |f: Sink<'_, 'e>,
              k: IdKind,
              v: Option<&'e SharedStr>,
              canonical: fn(&str) -> Option<Cow<'_, str>>| {
        if let Some((c, field)) = v.and_then(|v| Some((canonical(v)?, v))) {
            let shared = matches!(c, Cow::Borrowed(b) if b.len() == field.len()).then_some(field);
            f(k, c, shared);
        }
    };
    let guid = |f: Sink<'_, 'e>, v: &'e Option<SharedStr>| {
        id(f, IdKind::ClientGuid, v.as_ref(), canonical_client_guid)
    };
    let aad = |f: Sink<'_, 'e>, k: IdKind, v: &'e Option<SharedStr>| id(f, k, v.as_ref(), canonical_aad_id);
    let sid = |f: Sink<'_, 'e>, k: IdKind, v: Option<&'e SharedStr>| id(f, k, v, canonical_sid);
    let text = |f: Sink<'_, 'e>, k: IdKind, v: Option<&'e str>| {
        if let Some(s) = v.map(bare).filter(|s| !s.is_empty()) {
            f(k, Cow::Borrowed(s), None);
        }
    };
    let f: Sink<'_, 'e> = &mut f;
    match kind {
        EventKind::AadInfoRequested { cmg, tenant } => {
            text(f, IdKind::Url, cmg.as_deref());
            aad(f, IdKind::AadTenant, tenant);
        }
        EventKind::AadTokenRequested { client_app_id, resource, .. } => {
            text(f, IdKind::Other, client_app_id.as_deref());
            text(f, IdKind::Url, resource.as_deref());
        }
        EventKind::AadTokenFailed { sid: s, .. } => sid(f, IdKind::Sid, s.as_ref()),
        EventKind::AadTokenFallbackToUser { sid: s } => sid(f, IdKind::Sid, s.as_ref()),
        EventKind::AadTokenAcquired { aad_user, aad_device, .. } => {
            aad(f, IdKind::AadUser, aad_user);
            aad(f, IdKind::AadDevice, aad_device);
        }
        EventKind::CcmTokenRequested { sts_url } => text(f, IdKind::Url, Some(sts_url)),
        EventKind::CcmTokenCached { sid: s, .. } | EventKind::CcmTokenExpiring { sid: s, .. } => {
            sid(f, IdKind::Sid, Some(s))
        }
        EventKind::StsRequestReceived { url } => text(f, IdKind::Url, url.as_deref()),
        EventKind::AadTokenValidated { tenant, aad_user, aad_device, onprem, .. } => {
            aad(f, IdKind::AadTenant, tenant);
            aad(f, IdKind::AadUser, aad_user);
            aad(f, IdKind::AadDevice, aad_device);
            sid(f, IdKind::Sid, onprem.user_sid());
            sid(f, IdKind::DeviceSid, onprem.device_sid());
        }
        EventKind::CcmTokenIssued { hierarchy, cm_user, client_guid, .. } => {
            text(f, IdKind::Other, hierarchy.as_deref());
            text(f, IdKind::Other, cm_user.as_deref());
            guid(f, client_guid);
        }
        EventKind::ProxyUrlRewritten { from, to } => {
            text(f, IdKind::Url, Some(from));
            text(f, IdKind::Url, Some(to));
        }
        EventKind::ProxyRequest { message_id, uri, .. } => {
            text(f, IdKind::MessageId, message_id.as_deref());
            text(f, IdKind::Url, uri.as_deref());
        }
        EventKind::CmgRequestStats { uri, .. } => text(f, IdKind::Url, Some(uri)),
        EventKind::RegistrationRequested { client_guid }
        | EventKind::Registered { client_guid, .. }
        | EventKind::RegistrationPending { client_guid } => guid(f, client_guid),
        EventKind::MpRegistration { aad_device, tenant, client_guid } => {
            aad(f, IdKind::AadDevice, aad_device);
            aad(f, IdKind::AadTenant, tenant);
            guid(f, client_guid);
        }
        EventKind::ContentLocation { url } => text(f, IdKind::Url, Some(url)),
        EventKind::CcmsetupCommandLine { mp, cmg } => {
            text(f, IdKind::Url, mp.as_deref());
            text(f, IdKind::Url, cmg.as_deref());
        }
        EventKind::CertificateError { url, .. } | EventKind::HttpError { url, .. } => {
            text(f, IdKind::Url, url.as_deref())
        }
        EventKind::MessageSent { message_id, host, .. } => {
            text(f, IdKind::MessageId, Some(message_id));
            text(f, IdKind::Url, host.as_deref());
        }
        EventKind::MessageReplied { message_id, reply_id } => {
            text(f, IdKind::MessageId, Some(message_id));
            text(f, IdKind::MessageId, reply_id.as_deref());
        }
        EventKind::ClientInstallStarted { product_code, .. } => {
            text(f, IdKind::Other, product_code.as_deref())
        }
        EventKind::AadTokenRejected { .. }
        | EventKind::CcmTokenFailed { .. }
        | EventKind::CcmTokenReturned
        | EventKind::RegistrationStarted { .. }
        | EventKind::RegistrationUsingAad
        | EventKind::RegistrationFailed { .. }
        | EventKind::CcmsetupExit { .. }
        | EventKind::CcmsetupStarted { .. }
        | EventKind::CcmsetupVersion { .. }
        | EventKind::ClientStartup { .. }
        | EventKind::CcmsetupRetryScheduled { .. }
        | EventKind::PkiCertSelected { .. }
        | EventKind::RevocationCheckEnabled
        | EventKind::ErrorLogged { .. } => {}
    }
}

/// Whether the event names `query` (already in `match_form`): any identifier equal to it, or, for a
/// query that looks like a URL or host part (has a `/` or `.`), any URL containing it.
pub fn event_matches(kind: &EventKind, query: &str) -> bool {
    if query.is_empty() {
        return false;
    }
    let url_like = query.contains('/') || query.contains('.');
    let mut hit = false;
    for_each_id(kind, |k, v| {
        if hit {
            return;
        }
        // Compared without allocating (this runs over every event of a fleet collection).
        let v = match_core(&v);
        hit = v.eq_ignore_ascii_case(query)
            || (k == IdKind::Url && url_like && v.to_ascii_lowercase().contains(query));
    });
    hit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_guid_spellings_are_canonical() {
        let canonical = "GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139";
        let want = Some(canonical);
        assert_eq!(canonical_client_guid("GUID:c66ee0fd-08e7-4b38-b282-7e6954b71139").as_deref(), want);
        assert_eq!(canonical_client_guid("{C66EE0FD-08E7-4B38-B282-7E6954B71139}").as_deref(), want);
        assert_eq!(canonical_client_guid(" 'guid:C66EE0FD-08E7-4B38-B282-7E6954B71139' ").as_deref(), want);
        assert_eq!(canonical_client_guid("GUID:"), None);
        // Already canonical: borrowed, not copied.
        assert!(matches!(canonical_client_guid(canonical), Some(Cow::Borrowed(_))));
    }

    #[test]
    fn aad_ids_trim_and_drop_zero() {
        assert_eq!(
            canonical_aad_id("8D2B4FF9-0172-4998-9851-b5324303385f ").as_deref(),
            Some("8d2b4ff9-0172-4998-9851-b5324303385f")
        );
        assert_eq!(canonical_aad_id(ZERO_GUID), None);
        assert_eq!(canonical_aad_id("  "), None);
    }

    #[test]
    fn only_account_sids_key() {
        assert!(is_account_sid("S-1-5-21-1527250992-855612568-2252598708-1604"));
        assert!(is_account_sid("s-1-12-1-1111-2222-3333-4444"));
        assert!(!is_account_sid("S-1-5-18"));
        assert!(!is_account_sid("S-1-5-21"));
        assert!(!is_account_sid("S-1-5-20"));
    }

    #[test]
    fn match_form_ignores_prefix_braces_case() {
        assert_eq!(match_form("GUID:ABC-D"), "abc-d");
        assert_eq!(match_form("{BD03DEED-D09A}"), "bd03deed-d09a");
    }

    #[test]
    fn url_queries_match_parts() {
        let k = EventKind::CcmTokenRequested { sts_url: "https://MP.MYCORP.COM/CCM_STS".into() };
        assert!(event_matches(&k, &match_form("mp.mycorp.com")));
        assert!(event_matches(&k, &match_form("https://mp.mycorp.com/ccm_sts")));
        assert!(!event_matches(&k, &match_form("CCM_STS")));
        assert!(!event_matches(&k, ""));
    }
}
