//! Certificate failures: the one table of the `CertificateError.flag` values (each with the WinHTTP callback
//! flag and the X509 chain statuses that set it), and the one table of the WinHTTP errors and HRESULTs that
//! say a TLS certificate failed, each with its symbolic name, the flag it sets, its meaning and its source.
//! The extractors' certificate patterns (`crate::extract`: the WinHTTP callback flags, the connection
//! point's chain statuses, the `Code=` form and the bare HRESULT form) and their flags are built from
//! them, and cmtrace-analysis's error-code table takes the code rows from here.

/// One `CertificateError.flag`: what it says, and the names that set it in the logs.
#[derive(Debug)]
pub struct CertificateFlag {
    /// The flag of the event (`invalid_ca`).
    pub flag: &'static str,
    /// The WinHTTP callback flag that sets it: `WINHTTP_CALLBACK_STATUS_FLAG_<this> is set` (client logs).
    pub winhttp_callback: Option<&'static str>,
    /// The X509 chain statuses that set it: `Chain 0 status: <one of these>` (SMS_CLOUD_PROXYCONNECTOR.log).
    pub chain_status: &'static [&'static str],
    /// What it means, in one line.
    pub meaning: &'static str,
}

const fn flag(
    flag: &'static str,
    winhttp_callback: Option<&'static str>,
    chain_status: &'static [&'static str],
    meaning: &'static str,
) -> CertificateFlag {
    CertificateFlag { flag, winhttp_callback, chain_status, meaning }
}

/// The flags (WinHTTP's `WINHTTP_CALLBACK_STATUS_SECURE_FAILURE` flags, winhttp.h; .NET's
/// `X509ChainStatusFlags`).
pub const CERTIFICATE_FLAGS: &[CertificateFlag] = &[
    flag(
        "invalid_ca",
        Some("INVALID_CA"),
        &[],
        "the server certificate was issued by a CA the client does not know",
    ),
    flag(
        "untrusted_root",
        None,
        &["UntrustedRoot", "PartialChain"],
        "the certificate chains to an untrusted root, or to none",
    ),
    flag(
        "cert_rev_failed",
        Some("CERT_REV_FAILED"),
        &[],
        "revocation checking is on and could not tell whether the certificate is revoked",
    ),
    flag(
        "revocation_offline",
        None,
        &["OfflineRevocation", "RevocationStatusUnknown"],
        "the revocation list could not be reached, so revocation is unknown",
    ),
    flag(
        "cert_cn_invalid",
        Some("CERT_CN_INVALID"),
        &[],
        "the certificate's name does not match the host name asked for",
    ),
    flag("cert_revoked", Some("CERT_REVOKED"), &["Revoked"], "the certificate was revoked"),
    flag(
        "cert_date_invalid",
        Some("CERT_DATE_INVALID"),
        &["NotTimeValid"],
        "the certificate is expired or not valid yet",
    ),
    flag("cert_wrong_usage", Some("CERT_WRONG_USAGE"), &[], "the certificate is not valid for this use"),
    flag("invalid_cert", Some("INVALID_CERT"), &[], "the certificate is invalid"),
    flag(
        "secure_failure",
        None,
        &[],
        "the TLS connection failed on the server certificate (any other WinHTTP flag)",
    ),
    flag(
        "no_client_auth_cert",
        None,
        &[],
        "the connection point has no certificate for client authentication",
    ),
];

/// The flag a WinHTTP callback flag name sets (`INVALID_CA`, any case); an unknown one is `secure_failure`.
pub fn flag_of_winhttp_callback(name: &str) -> &'static str {
    CERTIFICATE_FLAGS
        .iter()
        .find(|f| f.winhttp_callback.is_some_and(|n| n.eq_ignore_ascii_case(name)))
        .map_or("secure_failure", |f| f.flag)
}

/// The flag an X509 chain status sets (`UntrustedRoot`), if it is one of a certificate failure.
pub fn flag_of_chain_status(status: &str) -> Option<&'static str> {
    CERTIFICATE_FLAGS.iter().find(|f| f.chain_status.contains(&status)).map(|f| f.flag)
}

/// Which numbering a certificate code belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateCodeSpace {
    /// A WinHTTP error (decimal 12xxx), also met as the HRESULT 0x80072Fxx (`HRESULT_FROM_WIN32`).
    Winhttp,
    /// A 32-bit HRESULT (crypto, certificate trust, SSPI).
    Hresult,
}

/// One certificate failure code.
#[derive(Debug)]
pub struct CertificateCode {
    /// As the error-code table writes it: decimal for WinHTTP (`12045`), `0x` and upper-case hex for an
    /// HRESULT (`0x800B0109`).
    pub code: &'static str,
    /// Whether the code is a WinHTTP error or an HRESULT.
    pub space: CertificateCodeSpace,
    /// The symbolic name (`ERROR_WINHTTP_SECURE_FAILURE`, `CERT_E_UNTRUSTEDROOT`).
    pub name: &'static str,
    /// The `CertificateError.flag` a line with this code gives.
    pub flag: &'static str,
    /// What the code means, in one line.
    pub meaning: &'static str,
    /// Where the code and its meaning are documented.
    pub source: &'static str,
}

const WINHTTP_H: &str = "winhttp.h; https://learn.microsoft.com/windows/win32/winhttp/error-messages";
const WINERROR_H: &str = "winerror.h; https://learn.microsoft.com/windows/win32/com/com-error-codes-4";

/// The flags whose codes the extractors find by their HRESULT anywhere in a client line (`Error: 800B0109`,
/// `0x80092013`): the chain, revocation and name failures. The others only in the `Code=` form.
const FOUND_ANYWHERE: [&str; 3] = ["untrusted_root", "revocation_offline", "cert_cn_invalid"];

/// The table: WinHTTP codes and HRESULTs, grouped by flag.
pub const CERTIFICATE_CODES: &[CertificateCode] = &[
    CertificateCode {
        code: "12175",
        space: CertificateCodeSpace::Winhttp,
        name: "ERROR_WINHTTP_SECURE_FAILURE",
        flag: "secure_failure",
        meaning: "one or more errors in the server's TLS certificate (see the SECURE_FAILURE flags)",
        source: WINHTTP_H,
    },
    CertificateCode {
        code: "12045",
        space: CertificateCodeSpace::Winhttp,
        name: "ERROR_WINHTTP_SECURE_INVALID_CA",
        flag: "untrusted_root",
        meaning: "the server certificate chains to an untrusted root",
        source: WINHTTP_H,
    },
    CertificateCode {
        code: "0x800B0109",
        space: CertificateCodeSpace::Hresult,
        name: "CERT_E_UNTRUSTEDROOT",
        flag: "untrusted_root",
        meaning: "the chain builds, but its root CA is not in this machine's Trusted Root store: import the root (and intermediates)",
        source: WINERROR_H,
    },
    CertificateCode {
        code: "0x80090325",
        space: CertificateCodeSpace::Hresult,
        name: "SEC_E_UNTRUSTED_ROOT",
        flag: "untrusted_root",
        meaning: "TLS: the peer's certificate chains to a root this machine does not trust",
        source: WINERROR_H,
    },
    CertificateCode {
        code: "0x800B010A",
        space: CertificateCodeSpace::Hresult,
        name: "CERT_E_CHAINING",
        flag: "untrusted_root",
        meaning: "no chain could be built up to a trusted root (an intermediate CA certificate is missing)",
        source: WINERROR_H,
    },
    CertificateCode {
        code: "0x800B0112",
        space: CertificateCodeSpace::Hresult,
        name: "CERT_E_UNTRUSTEDCA",
        flag: "untrusted_root",
        meaning: "the chain builds, but one of its CA certificates is not trusted by policy",
        source: WINERROR_H,
    },
    CertificateCode {
        code: "12057",
        space: CertificateCodeSpace::Winhttp,
        name: "ERROR_WINHTTP_SECURE_CERT_REV_FAILED",
        flag: "revocation_offline",
        meaning: "revocation of the server certificate could not be checked (CRL offline)",
        source: WINHTTP_H,
    },
    CertificateCode {
        code: "0x80092013",
        space: CertificateCodeSpace::Hresult,
        name: "CRYPT_E_REVOCATION_OFFLINE",
        flag: "revocation_offline",
        meaning: "crypto: revocation could not be checked because the CRL/OCSP server could not be reached (offline CRL, proxy, firewall)",
        source: WINERROR_H,
    },
    CertificateCode {
        code: "0x80092012",
        space: CertificateCodeSpace::Hresult,
        name: "CRYPT_E_NO_REVOCATION_CHECK",
        flag: "revocation_offline",
        meaning: "crypto: no revocation check could be done for the certificate (no CRL/OCSP location)",
        source: WINERROR_H,
    },
    CertificateCode {
        code: "0x800B010E",
        space: CertificateCodeSpace::Hresult,
        name: "CERT_E_REVOCATION_FAILURE",
        flag: "revocation_offline",
        meaning: "revocation checking could not complete for the chain (CRL unreachable or invalid)",
        source: WINERROR_H,
    },
    CertificateCode {
        code: "12038",
        space: CertificateCodeSpace::Winhttp,
        name: "ERROR_WINHTTP_SECURE_CERT_CN_INVALID",
        flag: "cert_cn_invalid",
        meaning: "the server certificate's name does not match the host name",
        source: WINHTTP_H,
    },
    CertificateCode {
        code: "0x800B010F",
        space: CertificateCodeSpace::Hresult,
        name: "CERT_E_CN_NO_MATCH",
        flag: "cert_cn_invalid",
        meaning: "the certificate's subject/SAN names do not include the host name that was used (e.g. the MP/CMG FQDN)",
        source: WINERROR_H,
    },
    CertificateCode {
        code: "12037",
        space: CertificateCodeSpace::Winhttp,
        name: "ERROR_WINHTTP_SECURE_CERT_DATE_INVALID",
        flag: "cert_date_invalid",
        meaning: "the server certificate is expired or not yet valid",
        source: WINHTTP_H,
    },
    CertificateCode {
        code: "0x800B0101",
        space: CertificateCodeSpace::Hresult,
        name: "CERT_E_EXPIRED",
        flag: "cert_date_invalid",
        meaning: "a certificate in the chain is expired or not yet valid (check the clock too)",
        source: WINERROR_H,
    },
    CertificateCode {
        code: "0x80090328",
        space: CertificateCodeSpace::Hresult,
        name: "SEC_E_CERT_EXPIRED",
        flag: "cert_date_invalid",
        meaning: "TLS: the peer's certificate is past its end date",
        source: WINERROR_H,
    },
    CertificateCode {
        code: "12170",
        space: CertificateCodeSpace::Winhttp,
        name: "ERROR_WINHTTP_SECURE_CERT_REVOKED",
        flag: "cert_revoked",
        meaning: "the server certificate has been revoked",
        source: WINHTTP_H,
    },
    CertificateCode {
        code: "0x80092010",
        space: CertificateCodeSpace::Hresult,
        name: "CRYPT_E_REVOKED",
        flag: "cert_revoked",
        meaning: "crypto: the certificate is on its issuer's revocation list",
        source: WINERROR_H,
    },
    CertificateCode {
        code: "0x800B010C",
        space: CertificateCodeSpace::Hresult,
        name: "CERT_E_REVOKED",
        flag: "cert_revoked",
        meaning: "the certificate was revoked by the CA that issued it",
        source: WINERROR_H,
    },
    CertificateCode {
        code: "12179",
        space: CertificateCodeSpace::Winhttp,
        name: "ERROR_WINHTTP_SECURE_CERT_WRONG_USAGE",
        flag: "cert_wrong_usage",
        meaning: "the server certificate is not valid for the requested usage",
        source: WINHTTP_H,
    },
    CertificateCode {
        code: "0x800B0110",
        space: CertificateCodeSpace::Hresult,
        name: "CERT_E_WRONG_USAGE",
        flag: "cert_wrong_usage",
        meaning: "the certificate is not valid for the requested usage",
        source: WINERROR_H,
    },
    CertificateCode {
        code: "12169",
        space: CertificateCodeSpace::Winhttp,
        name: "ERROR_WINHTTP_SECURE_INVALID_CERT",
        flag: "invalid_cert",
        meaning: "the server certificate is invalid",
        source: WINHTTP_H,
    },
];

impl CertificateCode {
    /// The HRESULT it is (a WinHTTP error as `HRESULT_FROM_WIN32`: 12045 is 0x80072F0D).
    pub fn hresult(&self) -> u32 {
        match self.space {
            CertificateCodeSpace::Winhttp => 0x8007_0000 | self.code.parse::<u32>().expect("decimal code"),
            CertificateCodeSpace::Hresult => {
                u32::from_str_radix(self.code.trim_start_matches("0x"), 16).expect("hex code")
            }
        }
    }

    /// Whether the extractors find it by its HRESULT anywhere in a client line, not only as `Code=`.
    pub fn found_anywhere(&self) -> bool {
        FOUND_ANYWHERE.contains(&self.flag)
    }
}

/// The certificate code `code` stands for: a WinHTTP error in decimal (`12175`) or an HRESULT in hex, with
/// or without `0x` (any case).
pub fn certificate_code(code: &str) -> Option<&'static CertificateCode> {
    let code = code.trim();
    if let Some(c) =
        CERTIFICATE_CODES.iter().find(|c| c.space == CertificateCodeSpace::Winhttp && c.code == code)
    {
        return Some(c);
    }
    let hex = code.strip_prefix("0x").or_else(|| code.strip_prefix("0X")).unwrap_or(code);
    let value = u32::from_str_radix(hex, 16).ok()?;
    CERTIFICATE_CODES.iter().find(|c| c.hresult() == value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for c in CERTIFICATE_CODES {
            assert!(seen.insert(c.hresult()), "two rows for {}", c.code);
            match c.space {
                CertificateCodeSpace::Winhttp => {
                    assert!(c.code.parse::<u32>().is_ok_and(|n| (12000..13000).contains(&n)), "{}", c.code);
                    assert!(c.name.starts_with("ERROR_WINHTTP_"), "{}", c.name);
                }
                CertificateCodeSpace::Hresult => {
                    assert_eq!(c.code, format!("0x{:08X}", c.hresult()), "upper-case hex with 0x");
                }
            }
            assert!(!c.meaning.is_empty() && !c.flag.is_empty() && !c.source.is_empty());
        }
    }

    #[test]
    fn every_flag_is_in_the_flag_table_once() {
        let mut seen = std::collections::HashSet::new();
        for f in CERTIFICATE_FLAGS {
            assert!(seen.insert(f.flag), "two rows for {}", f.flag);
            assert!(!f.meaning.is_empty());
        }
        for c in CERTIFICATE_CODES {
            assert!(seen.contains(c.flag), "{} sets {}, which the flag table does not have", c.code, c.flag);
        }
        for f in FOUND_ANYWHERE {
            assert!(seen.contains(f), "{f}");
        }
    }

    #[test]
    fn flags_by_their_names_in_the_logs() {
        assert_eq!(flag_of_winhttp_callback("INVALID_CA"), "invalid_ca");
        assert_eq!(flag_of_winhttp_callback("cert_rev_failed"), "cert_rev_failed");
        assert_eq!(flag_of_winhttp_callback("SECURITY_CHANNEL_ERROR"), "secure_failure");
        assert_eq!(flag_of_chain_status("PartialChain"), Some("untrusted_root"));
        assert_eq!(flag_of_chain_status("RevocationStatusUnknown"), Some("revocation_offline"));
        assert_eq!(flag_of_chain_status("NotTimeValid"), Some("cert_date_invalid"));
        assert_eq!(flag_of_chain_status("NoError"), None);
    }

    #[test]
    fn codes_by_either_form() {
        assert_eq!(certificate_code("12175").map(|c| c.flag), Some("secure_failure"));
        assert_eq!(certificate_code("80072f8f").map(|c| c.name), Some("ERROR_WINHTTP_SECURE_FAILURE"));
        assert_eq!(certificate_code("0x800b0109").map(|c| c.flag), Some("untrusted_root"));
        assert_eq!(certificate_code("800B0109").map(|c| c.name), Some("CERT_E_UNTRUSTEDROOT"));
        assert_eq!(certificate_code("0X80092013").map(|c| c.flag), Some("revocation_offline"));
        assert!(certificate_code("12007").is_none());
        assert!(certificate_code("0x80070005").is_none());
    }
}
