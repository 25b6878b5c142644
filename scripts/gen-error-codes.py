#!/usr/bin/env python3
"""Generate analysis/data/error_codes.tsv, the error-code table behind `cmtrace-rs error` and the decoded codes in
reports. Each block below is transcribed from ONE named source (the symbolic names and values as that source gives
them; meanings paraphrased); the script derives the HRESULT form of Win32/WinHTTP codes (0x8007xxxx) and checks for
duplicates. Run: python3 scripts/gen-error-codes.py  (writes the TSV; commit both).

Columns: code, space, name, meaning, source.
  space hresult|configmgr: code is the 32-bit value in hex.   win32|winhttp: decimal Win32 code (HRESULT = 0x8007xxxx).
  ccmsetup: ccmsetup.exe exit code.   http: HTTP status with the status text as name.   identity: Entra/IdentityModel id.
"""
import os

SRC_WINHTTP = "winhttp.h; learn.microsoft.com/windows/win32/winhttp/error-messages"
WINHTTP = [
    (12001, "ERROR_WINHTTP_OUT_OF_HANDLES", "no more handles could be generated"),
    (12002, "ERROR_WINHTTP_TIMEOUT", "the request timed out"),
    (12004, "ERROR_WINHTTP_INTERNAL_ERROR", "an internal error occurred"),
    (12005, "ERROR_WINHTTP_INVALID_URL", "the URL is not valid"),
    (12006, "ERROR_WINHTTP_UNRECOGNIZED_SCHEME", "the URL scheme is not http or https"),
    (12007, "ERROR_WINHTTP_NAME_NOT_RESOLVED", "the server name could not be resolved (DNS)"),
    (12009, "ERROR_WINHTTP_INVALID_OPTION", "an invalid option value was specified"),
    (12011, "ERROR_WINHTTP_OPTION_NOT_SETTABLE", "the option can only be queried, not set"),
    (12012, "ERROR_WINHTTP_SHUTDOWN", "WinHTTP support is shut down or unloaded"),
    (12015, "ERROR_WINHTTP_LOGIN_FAILURE", "the login attempt failed"),
    (12017, "ERROR_WINHTTP_OPERATION_CANCELLED", "the operation was canceled (handle closed)"),
    (12018, "ERROR_WINHTTP_INCORRECT_HANDLE_TYPE", "the handle type is not correct for this operation"),
    (12019, "ERROR_WINHTTP_INCORRECT_HANDLE_STATE", "the handle is in the wrong state for this operation"),
    (12029, "ERROR_WINHTTP_CANNOT_CONNECT", "the connection to the server failed (port blocked, server down)"),
    (12030, "ERROR_WINHTTP_CONNECTION_ERROR", "the connection was reset or terminated, or an incompatible TLS protocol was used"),
    (12032, "ERROR_WINHTTP_RESEND_REQUEST", "the request must be resent"),
    (12037, "ERROR_WINHTTP_SECURE_CERT_DATE_INVALID", "the server certificate is expired or not yet valid"),
    (12038, "ERROR_WINHTTP_SECURE_CERT_CN_INVALID", "the server certificate's name does not match the host name"),
    (12044, "ERROR_WINHTTP_CLIENT_AUTH_CERT_NEEDED", "the server requires a client certificate"),
    (12045, "ERROR_WINHTTP_SECURE_INVALID_CA", "the server certificate chains to an untrusted root"),
    (12057, "ERROR_WINHTTP_SECURE_CERT_REV_FAILED", "revocation of the server certificate could not be checked (CRL offline)"),
    (12100, "ERROR_WINHTTP_CANNOT_CALL_BEFORE_OPEN", "the call is not allowed before the request is opened"),
    (12101, "ERROR_WINHTTP_CANNOT_CALL_BEFORE_SEND", "the call is not allowed before the request is sent"),
    (12102, "ERROR_WINHTTP_CANNOT_CALL_AFTER_SEND", "the call is not allowed after the request is sent"),
    (12103, "ERROR_WINHTTP_CANNOT_CALL_AFTER_OPEN", "the call is not allowed after the request is opened"),
    (12150, "ERROR_WINHTTP_HEADER_NOT_FOUND", "the requested header was not found"),
    (12152, "ERROR_WINHTTP_INVALID_SERVER_RESPONSE", "the server response could not be parsed"),
    (12153, "ERROR_WINHTTP_INVALID_HEADER", "the header is not valid"),
    (12154, "ERROR_WINHTTP_INVALID_QUERY_REQUEST", "the header query request is not valid"),
    (12155, "ERROR_WINHTTP_HEADER_ALREADY_EXISTS", "the header already exists"),
    (12156, "ERROR_WINHTTP_REDIRECT_FAILED", "the redirection failed (scheme change or all attempts failed)"),
    (12157, "ERROR_WINHTTP_SECURE_CHANNEL_ERROR", "an error occurred in the secure channel (Schannel/TLS)"),
    (12166, "ERROR_WINHTTP_BAD_AUTO_PROXY_SCRIPT", "the proxy auto-config script has an error"),
    (12167, "ERROR_WINHTTP_UNABLE_TO_DOWNLOAD_SCRIPT", "the proxy auto-config file could not be downloaded"),
    (12169, "ERROR_WINHTTP_SECURE_INVALID_CERT", "the server certificate is invalid"),
    (12170, "ERROR_WINHTTP_SECURE_CERT_REVOKED", "the server certificate has been revoked"),
    (12172, "ERROR_WINHTTP_NOT_INITIALIZED", "WinHTTP is not initialized"),
    (12175, "ERROR_WINHTTP_SECURE_FAILURE", "one or more errors in the server's TLS certificate (see the SECURE_FAILURE flags)"),
    (12176, "ERROR_WINHTTP_UNHANDLED_SCRIPT_TYPE", "the proxy script type is not supported"),
    (12177, "ERROR_WINHTTP_SCRIPT_EXECUTION_ERROR", "the proxy script failed to run"),
    (12178, "ERROR_WINHTTP_AUTO_PROXY_SERVICE_ERROR", "no proxy could be found for the URL"),
    (12179, "ERROR_WINHTTP_SECURE_CERT_WRONG_USAGE", "the server certificate is not valid for the requested usage"),
    (12180, "ERROR_WINHTTP_AUTODETECTION_FAILED", "WPAD proxy auto-detection failed"),
    (12181, "ERROR_WINHTTP_HEADER_COUNT_EXCEEDED", "the response has too many headers"),
    (12182, "ERROR_WINHTTP_HEADER_SIZE_OVERFLOW", "the response headers are too large"),
    (12183, "ERROR_WINHTTP_CHUNKED_ENCODING_HEADER_SIZE_OVERFLOW", "a chunked-encoding header is too large"),
    (12184, "ERROR_WINHTTP_RESPONSE_DRAIN_OVERFLOW", "the response exceeded the drain size limit"),
    (12185, "ERROR_WINHTTP_CLIENT_CERT_NO_PRIVATE_KEY", "the client certificate has no private key"),
    (12186, "ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY", "the client certificate's private key cannot be accessed"),
]

SRC_WIN32 = "winerror.h; learn.microsoft.com/windows/win32/debug/system-error-codes"
WIN32 = [
    (0, "ERROR_SUCCESS", "the operation completed successfully"),
    (1, "ERROR_INVALID_FUNCTION", "incorrect function"),
    (2, "ERROR_FILE_NOT_FOUND", "the file was not found"),
    (3, "ERROR_PATH_NOT_FOUND", "the path was not found"),
    (5, "ERROR_ACCESS_DENIED", "access is denied"),
    (6, "ERROR_INVALID_HANDLE", "the handle is invalid"),
    (8, "ERROR_NOT_ENOUGH_MEMORY", "not enough memory"),
    (13, "ERROR_INVALID_DATA", "the data is invalid"),
    (32, "ERROR_SHARING_VIOLATION", "the file is in use by another process"),
    (53, "ERROR_BAD_NETPATH", "the network path was not found"),
    (64, "ERROR_NETNAME_DELETED", "the network name is no longer available"),
    (87, "ERROR_INVALID_PARAMETER", "the parameter is incorrect"),
    (112, "ERROR_DISK_FULL", "there is not enough space on the disk"),
    (122, "ERROR_INSUFFICIENT_BUFFER", "the data area passed to a system call is too small"),
    (183, "ERROR_ALREADY_EXISTS", "the file already exists"),
    (258, "WAIT_TIMEOUT", "the wait operation timed out"),
    (1008, "ERROR_NO_TOKEN", "an attempt was made to reference a token that does not exist"),
    (1053, "ERROR_SERVICE_REQUEST_TIMEOUT", "the service did not respond in time"),
    (1056, "ERROR_SERVICE_ALREADY_RUNNING", "an instance of the service is already running"),
    (1058, "ERROR_SERVICE_DISABLED", "the service is disabled"),
    (1060, "ERROR_SERVICE_DOES_NOT_EXIST", "the service does not exist"),
    (1168, "ERROR_NOT_FOUND", "element not found"),
    (1223, "ERROR_CANCELLED", "the operation was canceled by the user"),
    (1326, "ERROR_LOGON_FAILURE", "unknown user name or bad password"),
    (1355, "ERROR_NO_SUCH_DOMAIN", "the domain does not exist or could not be contacted"),
    (1460, "ERROR_TIMEOUT", "the operation timed out"),
    (1603, "ERROR_INSTALL_FAILURE", "fatal error during installation (Windows Installer)"),
    (1618, "ERROR_INSTALL_ALREADY_RUNNING", "another installation is already in progress"),
    (1619, "ERROR_INSTALL_PACKAGE_OPEN_FAILED", "the installation package could not be opened"),
    (1638, "ERROR_PRODUCT_VERSION", "another version of this product is already installed"),
    (1641, "ERROR_SUCCESS_REBOOT_INITIATED", "the installer started a reboot"),
    (1722, "RPC_S_SERVER_UNAVAILABLE", "the RPC server is unavailable"),
    (1726, "RPC_S_CALL_FAILED", "the remote procedure call failed"),
    (3010, "ERROR_SUCCESS_REBOOT_REQUIRED", "the operation succeeded; a reboot is required"),
    (6000, "ERROR_ENCRYPTION_FAILED", "the specified file could not be encrypted"),
    (10054, "WSAECONNRESET", "the connection was reset by the remote host"),
    (10060, "WSAETIMEDOUT", "the connection attempt timed out"),
    (10061, "WSAECONNREFUSED", "the connection was refused"),
    (11001, "WSAHOST_NOT_FOUND", "no such host is known"),
]

SRC_COM = "winerror.h; learn.microsoft.com/windows/win32/com/com-error-codes-1..10"
HRESULT = [
    (0x00000000, "S_OK", "success"),
    (0x80004001, "E_NOTIMPL", "not implemented"),
    (0x80004002, "E_NOINTERFACE", "no such interface supported"),
    (0x80004003, "E_POINTER", "invalid pointer"),
    (0x80004004, "E_ABORT", "operation aborted"),
    (0x80004005, "E_FAIL", "unspecified failure"),
    (0x8000FFFF, "E_UNEXPECTED", "catastrophic failure"),
    (0x8007000E, "E_OUTOFMEMORY", "ran out of memory"),
    (0x80010108, "RPC_E_DISCONNECTED", "the object invoked has disconnected from its clients"),
    (0x80080005, "CO_E_SERVER_EXEC_FAILURE", "server execution failed"),
]

SRC_CERT = "winerror.h; learn.microsoft.com/windows/win32/seccrypto/certificate-and-trust-return-values; com-error-codes-4"
CERT = [
    (0x80090003, "NTE_BAD_KEY", "bad key"),
    (0x8009000D, "NTE_NO_KEY", "key does not exist"),
    (0x80090010, "NTE_PERM", "access denied to the key"),
    (0x80090016, "NTE_BAD_KEYSET", "keyset does not exist (device key lost: TPM cleared, reimaged, board replaced)"),
    (0x80090303, "SEC_E_TARGET_UNKNOWN", "the specified target is unknown or unreachable"),
    (0x80090304, "SEC_E_INTERNAL_ERROR", "the Local Security Authority cannot be contacted"),
    (0x8009030C, "SEC_E_LOGON_DENIED", "the logon attempt failed"),
    (0x8009030E, "SEC_E_NO_CREDENTIALS", "no credentials are available in the security package"),
    (0x80090322, "SEC_E_WRONG_PRINCIPAL", "the target principal name is incorrect"),
    (0x80090325, "SEC_E_UNTRUSTED_ROOT", "the certificate chain was issued by an authority that is not trusted"),
    (0x80090326, "SEC_E_ILLEGAL_MESSAGE", "the message received was unexpected or badly formatted (TLS)"),
    (0x80090327, "SEC_E_CERT_UNKNOWN", "an unknown error occurred while processing the certificate"),
    (0x80090328, "SEC_E_CERT_EXPIRED", "the received certificate has expired"),
    (0x80090331, "SEC_E_ALGORITHM_MISMATCH", "client and server cannot communicate: no common algorithm (TLS)"),
    (0x80092004, "CRYPT_E_NOT_FOUND", "cannot find object or property"),
    (0x80092010, "CRYPT_E_REVOKED", "the certificate is revoked"),
    (0x80092012, "CRYPT_E_NO_REVOCATION_CHECK", "the revocation function was unable to check revocation for the certificate"),
    (0x80092013, "CRYPT_E_REVOCATION_OFFLINE", "the revocation function was unable to check revocation because the revocation server was offline"),
    (0x80096004, "TRUST_E_CERT_SIGNATURE", "the signature of the certificate cannot be verified"),
    (0x800B0100, "TRUST_E_NOSIGNATURE", "no signature was present in the subject"),
    (0x800B0101, "CERT_E_EXPIRED", "a required certificate is not within its validity period"),
    (0x800B0109, "CERT_E_UNTRUSTEDROOT", "a certificate chain processed correctly but terminated in a root certificate that is not trusted"),
    (0x800B010A, "CERT_E_CHAINING", "a certificate chain could not be built to a trusted root authority"),
    (0x800B010C, "CERT_E_REVOKED", "a certificate was explicitly revoked by its issuer"),
    (0x800B010E, "CERT_E_REVOCATION_FAILURE", "the revocation process could not continue: the certificate(s) could not be checked"),
    (0x800B010F, "CERT_E_CN_NO_MATCH", "the certificate's CN name does not match the passed value"),
    (0x800B0110, "CERT_E_WRONG_USAGE", "the certificate is not valid for the requested usage"),
    (0x800B0112, "CERT_E_UNTRUSTEDCA", "a certification chain processed correctly, but one of the CA certificates is not trusted"),
]

SRC_WMI = "wbemcli.h; learn.microsoft.com/windows/win32/wmisdk/wmi-error-constants"
WMI = [
    (0x80041001, "WBEM_E_FAILED", "WMI call failed"),
    (0x80041002, "WBEM_E_NOT_FOUND", "WMI object not found"),
    (0x80041003, "WBEM_E_ACCESS_DENIED", "WMI access denied"),
    (0x8004100E, "WBEM_E_INVALID_NAMESPACE", "WMI namespace not found (e.g. root\\ccm before the client is installed)"),
    (0x80041010, "WBEM_E_INVALID_CLASS", "WMI class not found"),
    (0x80041017, "WBEM_E_INVALID_QUERY", "WMI query is not valid"),
    (0x8004106C, "WBEM_E_QUOTA_VIOLATION", "WMI quota violation"),
]

SRC_BITS = "bitsmsg.h; learn.microsoft.com/windows/win32/bits/bits-return-values (BG_E_HTTP_ERROR_* = 0x8019 + HTTP status)"
BITS = [
    (0x80190190, "BG_E_HTTP_ERROR_400", "HTTP 400 bad request (BITS download)"),
    (0x80190191, "BG_E_HTTP_ERROR_401", "HTTP 401 unauthorized (BITS download)"),
    (0x80190193, "BG_E_HTTP_ERROR_403", "HTTP 403 forbidden (BITS download)"),
    (0x80190194, "BG_E_HTTP_ERROR_404", "HTTP 404 not found (BITS download): the content is not at that location"),
    (0x801901F4, "BG_E_HTTP_ERROR_500", "HTTP 500 server error (BITS download)"),
    (0x801901F7, "BG_E_HTTP_ERROR_503", "HTTP 503 service unavailable (BITS download)"),
]

SRC_OTHER = "reference.md §4 [MS-KI2006]; .NET corerror.h"
OTHER = [
    (0x80131040, "FUSION_E_REF_DEF_MISMATCH", "the located assembly's manifest definition does not match the reference (CCM_STS JWT assembly, 2006)"),
]

SRC_CM = "reference.md §4 [SCOTT] (CMTrace/OneTrace error lookup list) [MS-CMGERR] [MS-CDP] [MATT1]"
CONFIGMGR = [
    (0x87D00213, "CCM_E_TIMEOUT", "timeout occurred"),
    (0x87D00215, "CCM_E_NOT_FOUND", "item not found (also seen for a WMI / OS query failure in ccmsetup)"),
    (0x87D00227, "CCM_E_DISABLED", "functionality disabled"),
    (0x87D00231, "CCM_E_TRANSIENT", "transient error (retryable messaging failure: Entra user not discovered, MP cannot validate the token, CMG not relaying)"),
    (0x87D00232, "CCM_E_MESSAGE_NOT_SIGNED", "message not signed"),
    (0x87D00233, "CCM_E_MESSAGE_NOT_TRUSTED", "message not trusted"),
    (0x87D00239, "CCM_E_CLIENTID_NOT_FOUND", "client id not found"),
    (0x87D0025E, "CCM_E_INSUFFICIENT_TRUST", "message not sufficiently trusted to forward to an endpoint"),
    (0x87D00269, "CCM_E_NO_MP", "required management point not found"),
    (0x87D0027E, "CCM_E_BAD_HTTP_STATUS_CODE", "bad HTTP status code: read the StatusCode/StatusText line next to it"),
    (0x87D00280, "CCM_E_EMPTY_CERT_STORE", "empty certificate store"),
    (0x87D00281, "CCM_E_NO_MATCHING_CERT", "no certificate matching criteria specified"),
    (0x87D00283, "CCM_E_MISSING_PRIVATE_KEY", "missing private key"),
    (0x87D00287, "CCM_E_MISSING_SIGNING_CERT", "the signing certificate is missing"),
    (0x87D00293, "CCM_E_SITE_SIGNING_CERT_REFRESH", "client unable to refresh site server signing certificate"),
    (0x87D00295, "CCM_E_REGISTRATION_CERT", "registration certificate is either missing or invalid"),
    (0x87D00298, "CCM_E_CLIENT_RECORD_INVALID", "the client's database record could not be validated"),
    (0x87D00454, "CCM_E_NON_RECOVERABLE_DIRLIST", "seen as 'GetDirectoryList failed with a non-recoverable failure' (CMG cloud DP certificate name)"),
    (0x87D00455, "CCM_E_NON_RECOVERABLE_DOWNLOAD", "seen as 'DownloadFileByWinHTTP failed with a non-recoverable failure'"),
    (0x87D00607, "CCM_E_CONTENT_NOT_FOUND", "content not found"),
]
SRC_CM_APP = "ConfigMgr application deployment codes as CMTrace's error lookup shows them (community-reproduced lists)"
CONFIGMGR_APP = [
    (0x87D00324, "CCM_E_APP_NOT_DETECTED", "the application was not detected after installation completed"),
    (0x87D01106, "CCM_E_APP_COMMANDLINE", "failed to verify that the executable file is valid or to construct the associated command line"),
]
# The CCM_E_ names above are descriptive labels where ConfigMgr does not publish symbolic names; only
# CCM_E_BAD_HTTP_STATUS_CODE appears verbatim in logs ([CCMHTTP] ... Text=CCM_E_BAD_HTTP_STATUS_CODE).

SRC_CCMSETUP = "learn.microsoft.com .../about-client-installation-properties#ccmsetupReturnCodes [MS-PROPS]"
CCMSETUP = [
    (0, "CCMSETUP_SUCCESS", "success"),
    (6, "CCMSETUP_ERROR", "error: read ccmsetup.log for the cause"),
    (7, "CCMSETUP_REBOOT_REQUIRED", "reboot required"),
    (8, "CCMSETUP_ALREADY_RUNNING", "setup already running"),
    (9, "CCMSETUP_PREREQ_FAILURE", "prerequisite evaluation failure"),
    (10, "CCMSETUP_MANIFEST_HASH_FAILURE", "setup manifest hash validation failure"),
]

SRC_HTTP = "reference.md §3.5/§3.8 [MS-CMGERR] [MS-BOOT] [MATT1] [MS-KI2006]; RFC 9110"
HTTP = [
    (401, "CMGService_Invalid_Token", "the CMG rejected the token (expired or invalid pre-auth / bulk registration token)"),
    (401, "CMGConnector_Unauthorized", "the MP refused the token request relayed by the connection point (e.g. an IIS redirect on the MP)"),
    (403, "CMGConnector_Clientcertificaterequired", "the CMG connection point has no valid client authentication certificate for the HTTPS MP (missing, invalid, or CRL offline)"),
    (403, "CMGConnector_Forbidden", "the MP's IIS binding or certificate does not match the MP mode (HTTPS vs enhanced HTTP)"),
    (500, "CMGConnector_InternalServerError", "the MP failed while serving the request (e.g. a CCM_STS exception)"),
    (400, "Bad Request", "HTTP 400 bad request"),
    (401, "Unauthorized", "HTTP 401 unauthorized"),
    (403, "Forbidden", "HTTP 403 forbidden"),
    (404, "Not Found", "HTTP 404 not found"),
    (500, "Internal Server Error", "HTTP 500 internal server error"),
    (503, "Service Unavailable", "HTTP 503 service unavailable"),
]

SRC_ID = "reference.md §3.4/§3.5 [MS-CMGERR] [SCCMDOCS1135] [MS-PROXY]; Microsoft.IdentityModel log messages"
IDENTITY = [
    ("IDX10223", "IDX10223", "token lifetime validation failed: the token is expired"),
    ("IDX10222", "IDX10222", "token lifetime validation failed: the token is not yet valid (clock skew?) [UNCERTAIN in ConfigMgr logs]"),
    ("IDX10214", "IDX10214", "audience validation failed (App ID URI of the ConfigMgr server app)"),
    ("AADSTS50001", "AADSTS50001", "the resource (App ID URI) was not found in the tenant: import the server app with the App ID URI configured in the portal"),
    ("AADSTS50019", "AADSTS50019", "the device's key no longer matches its Entra device object (reimaged / TPM cleared)"),
    ("MISE12034", "MISE12034", "the MP (2603+) could not reach Entra ID to validate the token: give it internet access (Local System WinINET proxy)"),
]


def main():
    rows = []
    seen = set()

    def add(code, space, name, meaning, source):
        key = (space, str(code), name)
        if key in seen:
            raise SystemExit(f"duplicate {key}")
        seen.add(key)
        rows.append((str(code), space, name, meaning, source))

    for n, name, m in WINHTTP:
        add(n, "winhttp", name, m, SRC_WINHTTP)
    for n, name, m in WIN32:
        add(n, "win32", name, m, SRC_WIN32)
    for block, src in ((HRESULT, SRC_COM), (CERT, SRC_CERT), (WMI, SRC_WMI), (BITS, SRC_BITS), (OTHER, SRC_OTHER)):
        for v, name, m in block:
            add(f"0x{v:08X}", "hresult", name, m, src)
    for v, name, m in CONFIGMGR:
        add(f"0x{v:08X}", "configmgr", name, m, SRC_CM)
    for v, name, m in CONFIGMGR_APP:
        add(f"0x{v:08X}", "configmgr", name, m, SRC_CM_APP)
    for n, name, m in CCMSETUP:
        add(n, "ccmsetup", name, m, SRC_CCMSETUP)
    for n, name, m in HTTP:
        add(n, "http", name, m, SRC_HTTP)
    for code, name, m in IDENTITY:
        add(code, "identity", name, m, SRC_ID)

    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "analysis", "data", "error_codes.tsv")
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        f.write("# generated by scripts/gen-error-codes.py: do not edit by hand\n")
        f.write("code\tspace\tname\tmeaning\tsource\n")
        for r in rows:
            assert all("\t" not in c and "\n" not in c for c in r)
            f.write("\t".join(r) + "\n")
    print(f"{len(rows)} codes written to {os.path.normpath(out)}")


if __name__ == "__main__":
    main()
