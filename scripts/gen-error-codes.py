#!/usr/bin/env python3
"""Generate analysis/data/error_codes.tsv, the error-code table behind `cmtrace-rs error` and the decoded codes in
reports. The TSV is committed: building and testing never run this script, need the headers or the network.

Two kinds of rows:
  * hand-written blocks below: the codes that matter most in ConfigMgr logs, each block from one named source
    (symbolic names and values as that source gives them; meanings written by us, never copied);
  * generated rows: every other code of the families we keep, with the name and value read from the MinGW-w64
    headers (winerror.h, winhttp.h, ntstatus.h, bitsmsg.h, wbemcli.h, wuerror.h) and a short meaning derived from
    the symbolic name (derive_meaning: ERROR_FILE_NOT_FOUND -> "file not found"). A generated row is added only
    for a code no earlier row stands for (same value, or for HRESULTs the same 32-bit value).

Run (Debian/Ubuntu; the table in the repository was made from mingw-w64-common 10.0.0-3, Debian bookworm):
    apt-get download mingw-w64-common && dpkg-deb -x mingw-w64-common_*.deb /tmp/mingw
    python3 scripts/gen-error-codes.py --include /tmp/mingw/usr/share/mingw-w64/include
    (or MINGW_INCLUDE=/tmp/mingw/usr/share/mingw-w64/include python3 scripts/gen-error-codes.py)
then commit the script and the TSV together.

Columns: code, space, name, meaning, source.
  space hresult|configmgr: code is the 32-bit value in hex.   ntstatus: NTSTATUS in hex (HRESULT_FROM_NT sets 0x10000000).
  win32|winhttp: decimal Win32 code (HRESULT = 0x8007xxxx).   ccmsetup: ccmsetup.exe exit code.
  http: HTTP status with the status text as name (several texts share a status).   identity: Entra/IdentityModel id.
  source: header file names and/or full URLs, separated by "; ".
"""
import os
import re
import sys

SRC_WINHTTP = "winhttp.h; https://learn.microsoft.com/windows/win32/winhttp/error-messages"
WINHTTP = [
    (12001, "ERROR_WINHTTP_OUT_OF_HANDLES", "WinHTTP ran out of handles"),
    (12002, "ERROR_WINHTTP_TIMEOUT", "the server did not answer in time (timeout; server busy, or a firewall silently dropping the traffic)"),
    (12004, "ERROR_WINHTTP_INTERNAL_ERROR", "WinHTTP failed internally"),
    (12005, "ERROR_WINHTTP_INVALID_URL", "the URL is not valid"),
    (12006, "ERROR_WINHTTP_UNRECOGNIZED_SCHEME", "the URL scheme is not http or https"),
    (12007, "ERROR_WINHTTP_NAME_NOT_RESOLVED", "the server name could not be resolved (DNS): check the MP/DP/CMG FQDN, DNS and the proxy"),
    (12009, "ERROR_WINHTTP_INVALID_OPTION", "an invalid option value was specified"),
    (12011, "ERROR_WINHTTP_OPTION_NOT_SETTABLE", "the option can only be queried, not set"),
    (12012, "ERROR_WINHTTP_SHUTDOWN", "WinHTTP support is shut down or unloaded"),
    (12015, "ERROR_WINHTTP_LOGIN_FAILURE", "the login attempt failed"),
    (12017, "ERROR_WINHTTP_OPERATION_CANCELLED", "the operation was canceled (handle closed)"),
    (12018, "ERROR_WINHTTP_INCORRECT_HANDLE_TYPE", "the handle type is not correct for this operation"),
    (12019, "ERROR_WINHTTP_INCORRECT_HANDLE_STATE", "the handle is in the wrong state for this operation"),
    (12029, "ERROR_WINHTTP_CANNOT_CONNECT", "no connection to the server could be made (port blocked by a firewall, server down, or wrong proxy)"),
    (12030, "ERROR_WINHTTP_CONNECTION_ERROR", "the connection was reset or terminated, or an incompatible TLS protocol was used"),
    (12032, "ERROR_WINHTTP_RESEND_REQUEST", "the request must be resent"),
    (12044, "ERROR_WINHTTP_CLIENT_AUTH_CERT_NEEDED", "the server requires a client certificate"),
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
    (12157, "ERROR_WINHTTP_SECURE_CHANNEL_ERROR", "the TLS (Schannel) handshake or channel failed: protocol/cipher mismatch, or a certificate problem"),
    (12166, "ERROR_WINHTTP_BAD_AUTO_PROXY_SCRIPT", "the proxy auto-config script has an error"),
    (12167, "ERROR_WINHTTP_UNABLE_TO_DOWNLOAD_SCRIPT", "the proxy auto-config file could not be downloaded"),
    (12172, "ERROR_WINHTTP_NOT_INITIALIZED", "WinHTTP is not initialized"),
    (12176, "ERROR_WINHTTP_UNHANDLED_SCRIPT_TYPE", "the proxy script type is not supported"),
    (12177, "ERROR_WINHTTP_SCRIPT_EXECUTION_ERROR", "the proxy script failed to run"),
    (12178, "ERROR_WINHTTP_AUTO_PROXY_SERVICE_ERROR", "no proxy could be found for the URL"),
    (12180, "ERROR_WINHTTP_AUTODETECTION_FAILED", "WPAD proxy auto-detection failed"),
    (12181, "ERROR_WINHTTP_HEADER_COUNT_EXCEEDED", "the response has too many headers"),
    (12182, "ERROR_WINHTTP_HEADER_SIZE_OVERFLOW", "the response headers are too large"),
    (12183, "ERROR_WINHTTP_CHUNKED_ENCODING_HEADER_SIZE_OVERFLOW", "a chunked-encoding header is too large"),
    (12184, "ERROR_WINHTTP_RESPONSE_DRAIN_OVERFLOW", "the response exceeded the drain size limit"),
    (12185, "ERROR_WINHTTP_CLIENT_CERT_NO_PRIVATE_KEY", "the client certificate has no private key"),
    (12186, "ERROR_WINHTTP_CLIENT_CERT_NO_ACCESS_PRIVATE_KEY", "the client certificate's private key cannot be accessed"),
]

SRC_WIN32 = "winerror.h; https://learn.microsoft.com/windows/win32/debug/system-error-codes"
WIN32 = [
    (0, "ERROR_SUCCESS", "success: no error"),
    (1, "ERROR_INVALID_FUNCTION", "the function is not valid for this object or call (often: a feature or driver not present)"),
    (2, "ERROR_FILE_NOT_FOUND", "the file was not found (wrong path, or it was deleted or never downloaded)"),
    (3, "ERROR_PATH_NOT_FOUND", "a folder in the path does not exist"),
    (5, "ERROR_ACCESS_DENIED", "access denied: the account lacks the permission (NTFS/registry ACL, UAC, or blocked by security software)"),
    (6, "ERROR_INVALID_HANDLE", "a handle passed to a call is not (or no longer) valid"),
    (8, "ERROR_NOT_ENOUGH_MEMORY", "not enough memory to run the command"),
    (13, "ERROR_INVALID_DATA", "the data given is not valid for the call"),
    (32, "ERROR_SHARING_VIOLATION", "the file is opened by another process in a way that blocks this access (sharing violation)"),
    (53, "ERROR_BAD_NETPATH", "the network (UNC) path could not be found: server name, share or SMB access"),
    (64, "ERROR_NETNAME_DELETED", "the network share or connection went away during the operation"),
    (87, "ERROR_INVALID_PARAMETER", "a parameter given to a call is not valid"),
    (112, "ERROR_DISK_FULL", "the disk is full"),
    (122, "ERROR_INSUFFICIENT_BUFFER", "a buffer given to a system call was too small for the answer"),
    (183, "ERROR_ALREADY_EXISTS", "the file or object to create is already there"),
    (258, "WAIT_TIMEOUT", "a wait ran out of time"),
    (1008, "ERROR_NO_TOKEN", "no such token: the logon/access token (or WAM token) asked for does not exist"),
    (1053, "ERROR_SERVICE_REQUEST_TIMEOUT", "the service did not answer its start or control request in time (hung or slow service)"),
    (1056, "ERROR_SERVICE_ALREADY_RUNNING", "the service is running already"),
    (1058, "ERROR_SERVICE_DISABLED", "the service cannot start because it is disabled"),
    (1060, "ERROR_SERVICE_DOES_NOT_EXIST", "no service of that name is installed"),
    (1168, "ERROR_NOT_FOUND", "the item looked for was not found"),
    (1223, "ERROR_CANCELLED", "the operation was canceled (by a user or a caller)"),
    (1326, "ERROR_LOGON_FAILURE", "logon failed: wrong user name or password"),
    (1355, "ERROR_NO_SUCH_DOMAIN", "the domain is not known or no domain controller of it could be reached"),
    (1460, "ERROR_TIMEOUT", "the operation ran out of time"),
    (1603, "ERROR_INSTALL_FAILURE", "Windows Installer: the MSI install failed (generic MSI failure: read the verbose MSI log for the first 'Return value 3')"),
    (1618, "ERROR_INSTALL_ALREADY_RUNNING", "Windows Installer: another MSI install is running (the msiexec mutex is held): retry when it ends"),
    (1619, "ERROR_INSTALL_PACKAGE_OPEN_FAILED", "Windows Installer: the MSI package could not be opened (missing, not readable, or not a valid MSI)"),
    (1638, "ERROR_PRODUCT_VERSION", "Windows Installer: a different version of the product is installed already"),
    (1641, "ERROR_SUCCESS_REBOOT_INITIATED", "Windows Installer: success, and a restart was started"),
    (1722, "RPC_S_SERVER_UNAVAILABLE", "the RPC server could not be reached (machine off, firewall blocks RPC/135 or dynamic ports, or the service is stopped)"),
    (1726, "RPC_S_CALL_FAILED", "an RPC call failed after it was started (the server side failed or went away)"),
    (3010, "ERROR_SUCCESS_REBOOT_REQUIRED", "success, but a restart is needed to finish (MSI and many installers)"),
    (6000, "ERROR_ENCRYPTION_FAILED", "EFS could not encrypt the file"),
    (10054, "WSAECONNRESET", "the peer (or a device in between) reset the TCP connection"),
    (10060, "WSAETIMEDOUT", "the TCP connection attempt got no answer in time"),
    (10061, "WSAECONNREFUSED", "the peer refused the TCP connection (nothing listens on that port)"),
    (11001, "WSAHOST_NOT_FOUND", "DNS: the host name does not exist"),
    (4, "ERROR_TOO_MANY_OPEN_FILES", "the process has too many files open"),
    (7, "ERROR_ARENA_TRASHED", "memory control blocks are damaged (memory corruption)"),
    (14, "ERROR_OUTOFMEMORY", "not enough memory (or storage) to finish the operation"),
    (15, "ERROR_INVALID_DRIVE", "the drive letter does not exist"),
    (19, "ERROR_WRITE_PROTECT", "the medium is write-protected"),
    (21, "ERROR_NOT_READY", "the device is not ready (no media, or a drive still starting)"),
    (23, "ERROR_CRC", "data error (cyclic redundancy check): a bad disk sector or corrupt media"),
    (31, "ERROR_GEN_FAILURE", "a device attached to the system does not work"),
    (33, "ERROR_LOCK_VIOLATION", "part of the file is locked by another process"),
    (38, "ERROR_HANDLE_EOF", "the end of the file was reached"),
    (50, "ERROR_NOT_SUPPORTED", "the request is not supported"),
    (59, "ERROR_UNEXP_NET_ERR", "an unexpected network error"),
    (67, "ERROR_BAD_NET_NAME", "the network share name was not found"),
    (80, "ERROR_FILE_EXISTS", "the file exists already"),
    (109, "ERROR_BROKEN_PIPE", "the other end of the pipe was closed"),
    (120, "ERROR_CALL_NOT_IMPLEMENTED", "this function is not supported on this system"),
    (123, "ERROR_INVALID_NAME", "the file, folder or volume name has a wrong syntax"),
    (126, "ERROR_MOD_NOT_FOUND", "a DLL (module) to load was not found"),
    (127, "ERROR_PROC_NOT_FOUND", "a function was not found in a DLL (DLL version mismatch)"),
    (145, "ERROR_DIR_NOT_EMPTY", "the folder is not empty"),
    (193, "ERROR_BAD_EXE_FORMAT", "the file is not a valid program for this Windows (corrupt, or wrong architecture)"),
    (206, "ERROR_FILENAME_EXCED_RANGE", "the file name or path is too long"),
    (234, "ERROR_MORE_DATA", "more data is available than the buffer took"),
    (267, "ERROR_DIRECTORY", "the folder name is not valid"),
    (1067, "ERROR_PROCESS_ABORTED", "the process ended unexpectedly"),
    (1069, "ERROR_SERVICE_LOGON_FAILED", "the service could not start because its account could not log on"),
    (1072, "ERROR_SERVICE_MARKED_FOR_DELETE", "the service is marked for deletion (close the Services console or restart)"),
    (1115, "ERROR_SHUTDOWN_IN_PROGRESS", "Windows is shutting down"),
    (1219, "ERROR_SESSION_CREDENTIAL_CONFLICT", "a connection to the same server with other credentials exists already"),
    (1231, "ERROR_NETWORK_UNREACHABLE", "the network location cannot be reached (no route)"),
    (1232, "ERROR_HOST_UNREACHABLE", "the host cannot be reached (no route)"),
    (1311, "ERROR_NO_LOGON_SERVERS", "no domain controller is available to process the logon"),
    (1314, "ERROR_PRIVILEGE_NOT_HELD", "the caller lacks a privilege the operation needs"),
    (1327, "ERROR_ACCOUNT_RESTRICTION", "logon: an account restriction blocks it (blank password, logon hours, workstation list)"),
    (1330, "ERROR_PASSWORD_EXPIRED", "logon: the password has expired"),
    (1331, "ERROR_ACCOUNT_DISABLED", "logon: the account is disabled"),
    (1332, "ERROR_NONE_MAPPED", "no mapping between account names and security IDs was done (unknown account or SID)"),
    (1385, "ERROR_LOGON_TYPE_NOT_GRANTED", "logon: the account lacks the right for this logon type (e.g. log on as a service or batch)"),
    (1392, "ERROR_FILE_CORRUPT", "the file or folder is corrupt and cannot be read"),
    (1450, "ERROR_NO_SYSTEM_RESOURCES", "the system lacks resources (pool memory) to finish the call"),
    (1602, "ERROR_INSTALL_USEREXIT", "Windows Installer: the install was canceled by the user"),
    (1605, "ERROR_UNKNOWN_PRODUCT", "Windows Installer: the product is not installed (unknown product code)"),
    (1612, "ERROR_INSTALL_SOURCE_ABSENT", "Windows Installer: the install source (original MSI) is not available"),
    (1620, "ERROR_INSTALL_PACKAGE_INVALID", "Windows Installer: the package could not be opened or is not a valid MSI"),
    (1624, "ERROR_INSTALL_TRANSFORM_FAILURE", "Windows Installer: a transform (MST) could not be applied"),
    (1625, "ERROR_INSTALL_PACKAGE_REJECTED", "Windows Installer: a policy forbids this install"),
    (1633, "ERROR_INSTALL_PLATFORM_UNSUPPORTED", "Windows Installer: the package does not support this processor type"),
    (1639, "ERROR_INVALID_COMMAND_LINE", "Windows Installer: the msiexec command line is not valid"),
    (1753, "EPT_S_NOT_REGISTERED", "the RPC endpoint mapper has no endpoint for the service (service not running, or firewall)"),
    (1789, "ERROR_TRUSTED_RELATIONSHIP_FAILURE", "the trust between this workstation and the domain failed (broken secure channel)"),
    (1907, "ERROR_PASSWORD_MUST_CHANGE", "logon: the password must be changed first"),
    (1909, "ERROR_ACCOUNT_LOCKED_OUT", "logon: the account is locked out"),
    (10051, "WSAENETUNREACH", "no route to the network (routing, VPN or firewall)"),
    (10065, "WSAEHOSTUNREACH", "no route to the host"),
    (11004, "WSANO_DATA", "DNS: the name exists but has no address record of the kind asked for"),
]

SRC_COM = "winerror.h; https://learn.microsoft.com/windows/win32/com/com-error-codes"
HRESULT = [
    (0x00000000, "S_OK", "success"),
    (0x80004001, "E_NOTIMPL", "not implemented"),
    (0x80004002, "E_NOINTERFACE", "no such interface supported"),
    (0x80004003, "E_POINTER", "invalid pointer"),
    (0x80004004, "E_ABORT", "operation aborted"),
    (0x80004005, "E_FAIL", "generic failure (E_FAIL): says nothing by itself; read the log lines just before it for the real cause"),
    (0x8000FFFF, "E_UNEXPECTED", "unexpected failure (E_UNEXPECTED): a component hit a state it did not expect"),
    (0x8007000E, "E_OUTOFMEMORY", "ran out of memory"),
    (0x80010108, "RPC_E_DISCONNECTED", "the COM object used has gone away (its server process exited or restarted)"),
    (0x80080005, "CO_E_SERVER_EXEC_FAILURE", "the COM server process could not be started (DCOM launch failure, often a hung or disabled service)"),
]

SRC_CERT = "winerror.h; https://learn.microsoft.com/windows/win32/com/com-error-codes-4"
CERT = [
    (0x80090003, "NTE_BAD_KEY", "bad key"),
    (0x8009000D, "NTE_NO_KEY", "key does not exist"),
    (0x80090010, "NTE_PERM", "access denied to the key"),
    (0x80090016, "NTE_BAD_KEYSET", "keyset does not exist (device key lost: TPM cleared, reimaged, board replaced)"),
    (0x80090303, "SEC_E_TARGET_UNKNOWN", "Kerberos/SSPI could not find or reach the target (SPN) asked for"),
    (0x80090304, "SEC_E_INTERNAL_ERROR", "the security package failed internally (LSA could not be reached)"),
    (0x8009030C, "SEC_E_LOGON_DENIED", "the SSPI logon was refused"),
    (0x8009030E, "SEC_E_NO_CREDENTIALS", "the security package has no credentials to use (no cert or token for TLS/Kerberos)"),
    (0x80090322, "SEC_E_WRONG_PRINCIPAL", "the server's name does not match the principal expected (SPN or certificate name mismatch)"),
    (0x80090326, "SEC_E_ILLEGAL_MESSAGE", "TLS: the peer sent something unexpected or malformed (protocol or cipher mismatch, interception)"),
    (0x80090327, "SEC_E_CERT_UNKNOWN", "TLS: the certificate could not be processed"),
    (0x80090331, "SEC_E_ALGORITHM_MISMATCH", "client and server cannot communicate: no common algorithm (TLS)"),
    (0x80092004, "CRYPT_E_NOT_FOUND", "crypto: the object or property looked for (certificate, key, extension) is not there"),
    (0x80096004, "TRUST_E_CERT_SIGNATURE", "crypto: the certificate's signature does not verify against its issuer"),
    (0x800B0100, "TRUST_E_NOSIGNATURE", "the file or object is not signed"),
]

SRC_WMI = "wbemcli.h; https://learn.microsoft.com/windows/win32/wmisdk/wmi-error-constants"
WMI = [
    (0x80041001, "WBEM_E_FAILED", "WMI call failed"),
    (0x80041002, "WBEM_E_NOT_FOUND", "WMI object not found"),
    (0x80041003, "WBEM_E_ACCESS_DENIED", "WMI access denied"),
    (0x8004100E, "WBEM_E_INVALID_NAMESPACE", "WMI namespace not found (e.g. root\\ccm before the client is installed)"),
    (0x80041010, "WBEM_E_INVALID_CLASS", "WMI class not found"),
    (0x80041017, "WBEM_E_INVALID_QUERY", "WMI query is not valid"),
    (0x8004106C, "WBEM_E_QUOTA_VIOLATION", "WMI quota violation"),
]

# BG_E_HTTP_ERROR_* = 0x80190000 + the HTTP status.
SRC_BITS = "bitsmsg.h; https://learn.microsoft.com/windows/win32/bits/bits-return-values"
BITS = [
    (0x80190190, "BG_E_HTTP_ERROR_400", "HTTP 400 bad request (BITS download)"),
    (0x80190191, "BG_E_HTTP_ERROR_401", "HTTP 401 unauthorized (BITS download)"),
    (0x80190193, "BG_E_HTTP_ERROR_403", "HTTP 403 forbidden (BITS download)"),
    (0x80190194, "BG_E_HTTP_ERROR_404", "HTTP 404 not found (BITS download): the content is not at that location"),
    (0x801901F4, "BG_E_HTTP_ERROR_500", "HTTP 500 server error (BITS download)"),
    (0x801901F7, "BG_E_HTTP_ERROR_503", "HTTP 503 service unavailable (BITS download)"),
]

SRC_OTHER = "corerror.h"
OTHER = [
    (0x80131040, "FUSION_E_REF_DEF_MISMATCH", "a .NET assembly of another version than the one referenced was loaded (seen for the CCM_STS JWT assembly in ConfigMgr 2006)"),
]

# Numbers as CMTrace/OneTrace look them up, reproduced in a public community list; the CMG ones also in Microsoft's
# CMG troubleshooting articles.
SRC_CM_LIST = "https://github.com/smcallister594/scotscottmca/blob/main/content/posts/ErrorCodes.md"
SRC_CM = SRC_CM_LIST + "; https://learn.microsoft.com/troubleshoot/mem/configmgr/client-management/cmg-communication-error"
CONFIGMGR = [
    (0x87D00213, "CCM_E_TIMEOUT", "a client operation ran out of time"),
    (0x87D00215, "CCM_E_NOT_FOUND", "item not found (also seen for a WMI / OS query failure in ccmsetup)"),
    (0x87D00227, "CCM_E_DISABLED", "the feature asked for is turned off"),
    (0x87D00231, "CCM_E_TRANSIENT", "transient error (retryable messaging failure: Entra user not discovered, MP cannot validate the token, CMG not relaying)"),
    (0x87D00232, "CCM_E_MESSAGE_NOT_SIGNED", "a message arrived without the signature it needs"),
    (0x87D00233, "CCM_E_MESSAGE_NOT_TRUSTED", "a message's signer is not trusted"),
    (0x87D00239, "CCM_E_CLIENTID_NOT_FOUND", "the site has no record of this client's GUID (not registered yet, or deleted)"),
    (0x87D0025E, "CCM_E_INSUFFICIENT_TRUST", "a message is not trusted enough to be handed to the endpoint it is for"),
    (0x87D00269, "CCM_E_NO_MP", "no management point the client needs could be found (site assignment, boundaries, MP lookup)"),
    (0x87D0027E, "CCM_E_BAD_HTTP_STATUS_CODE", "bad HTTP status code: read the StatusCode/StatusText line next to it"),
    (0x87D00280, "CCM_E_EMPTY_CERT_STORE", "the certificate store searched holds no certificate"),
    (0x87D00281, "CCM_E_NO_MATCHING_CERT", "no certificate meets the selection criteria (client auth PKI certificate missing or filtered out)"),
    (0x87D00283, "CCM_E_MISSING_PRIVATE_KEY", "the certificate's private key is not there or not usable"),
    (0x87D00287, "CCM_E_MISSING_SIGNING_CERT", "the client has no signing certificate"),
    (0x87D00293, "CCM_E_SITE_SIGNING_CERT_REFRESH", "the client could not get a fresh copy of the site server's signing certificate"),
    (0x87D00295, "CCM_E_REGISTRATION_CERT", "the certificate used for registration is absent or not valid"),
    (0x87D00298, "CCM_E_CLIENT_RECORD_INVALID", "the client's database record could not be validated"),
    (0x87D00454, "CCM_E_NON_RECOVERABLE_DIRLIST", "seen as 'GetDirectoryList failed with a non-recoverable failure' (CMG cloud DP certificate name)"),
    (0x87D00455, "CCM_E_NON_RECOVERABLE_DOWNLOAD", "seen as 'DownloadFileByWinHTTP failed with a non-recoverable failure'"),
    (0x87D00607, "CCM_E_CONTENT_NOT_FOUND", "the content asked for is on no reachable distribution point"),
]
SRC_CM_APP = SRC_CM_LIST
CONFIGMGR_APP = [
    (0x87D00324, "CCM_E_APP_NOT_DETECTED", "the installer finished, but the detection method does not find the application (wrong detection rule, or the install did nothing)"),
    (0x87D01106, "CCM_E_APP_COMMANDLINE", "the install program could not be checked or its command line could not be built (wrong program name or path in the deployment type)"),
]
# The CCM_E_ names above are descriptive labels where ConfigMgr does not publish symbolic names; only
# CCM_E_BAD_HTTP_STATUS_CODE appears verbatim in logs ([CCMHTTP] ... Text=CCM_E_BAD_HTTP_STATUS_CODE).

SRC_CCMSETUP = "https://learn.microsoft.com/intune/configmgr/core/clients/deploy/about-client-installation-properties#ccmsetupReturnCodes"
CCMSETUP = [
    (0, "CCMSETUP_SUCCESS", "success"),
    (6, "CCMSETUP_ERROR", "error: read ccmsetup.log for the cause"),
    (7, "CCMSETUP_REBOOT_REQUIRED", "reboot required"),
    (8, "CCMSETUP_ALREADY_RUNNING", "setup already running"),
    (9, "CCMSETUP_PREREQ_FAILURE", "prerequisite evaluation failure"),
    (10, "CCMSETUP_MANIFEST_HASH_FAILURE", "setup manifest hash validation failure"),
]

SRC_HTTP = (
    "https://learn.microsoft.com/troubleshoot/mem/configmgr/client-management/cmg-communication-error; "
    "https://learn.microsoft.com/troubleshoot/mem/intune/comanage-configmgr/troubleshoot-co-management-bootstrap; "
    "https://www.rfc-editor.org/rfc/rfc9110"
)
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

SRC_ID = (
    "https://learn.microsoft.com/troubleshoot/mem/configmgr/client-management/cmg-communication-error; "
    "https://github.com/MicrosoftDocs/SCCMdocs/issues/1135; "
    "https://learn.microsoft.com/intune/configmgr/core/plan-design/network/proxy-server-support; "
    "https://learn.microsoft.com/entra/identity-platform/reference-error-codes"
)
IDENTITY = [
    ("IDX10223", "IDX10223", "token lifetime validation failed: the token is expired"),
    ("IDX10222", "IDX10222", "token lifetime validation failed: the token is not yet valid (clock skew?) [UNCERTAIN in ConfigMgr logs]"),
    ("IDX10214", "IDX10214", "audience validation failed (App ID URI of the ConfigMgr server app)"),
    ("AADSTS50001", "AADSTS50001", "the resource (App ID URI) was not found in the tenant: import the server app with the App ID URI configured in the portal"),
    ("AADSTS50019", "AADSTS50019", "the device's key no longer matches its Entra device object (reimaged / TPM cleared)"),
    ("MISE12034", "MISE12034", "the MP (2603+) could not reach Entra ID to validate the token: give it internet access (Local System WinINET proxy)"),
]


# ---------------------------------------------------------------------------------------------------------------
# Hand-written additions (meanings in our own words), beyond the blocks above.

SRC_BITS_EXTRA = SRC_BITS
BITS_EXTRA = [
    (0x80190197, "BG_E_HTTP_ERROR_407", "HTTP 407 proxy authentication required (BITS download): the proxy wants credentials the client's account cannot give"),
    (0x80200010, "BG_E_NETWORK_DISCONNECTED", "BITS: no network connection is available; the job waits and resumes when the network is back"),
    (0x80200011, "BG_E_MISSING_FILE_SIZE", "BITS: the server did not say how large the file is (no Content-Length)"),
    (0x80200013, "BG_E_INSUFFICIENT_RANGE_SUPPORT", "BITS: the server or a proxy does not support HTTP range requests"),
    (0x8020000D, "BG_E_DESTINATION_LOCKED", "BITS: the destination file is locked by another process"),
    (0x8020001B, "BG_E_INVALID_SERVER_RESPONSE", "BITS: the server's response could not be understood"),
]

SRC_WU = "wuerror.h; https://learn.microsoft.com/windows/deployment/update/windows-update-error-reference"
WU = [
    (0x8024000B, "WU_E_CALL_CANCELLED", "Windows Update: the operation was canceled"),
    (0x80240022, "WU_E_ALL_UPDATES_FAILED", "Windows Update: every update in the operation failed"),
    (0x8024402C, "WU_E_PT_WINHTTP_NAME_NOT_RESOLVED", "Windows Update: the update server's (WSUS/SUP) name could not be resolved (DNS or proxy)"),
    (0x80244017, "WU_E_PT_HTTP_STATUS_DENIED", "Windows Update: the update server answered HTTP 401 (authentication needed)"),
    (0x80244018, "WU_E_PT_HTTP_STATUS_FORBIDDEN", "Windows Update: the update server answered HTTP 403 (often a proxy in the way)"),
    (0x80244019, "WU_E_PT_HTTP_STATUS_NOT_FOUND", "Windows Update: the update server answered HTTP 404 (wrong WSUS URL or content missing)"),
    (0x8024401B, "WU_E_PT_HTTP_STATUS_PROXY_AUTH_REQ", "Windows Update: the proxy answered HTTP 407 (proxy authentication required)"),
    (0x8024401C, "WU_E_PT_HTTP_STATUS_REQUEST_TIMEOUT", "Windows Update: the update server did not answer in time (HTTP 408; WSUS overloaded)"),
    (0x8024401F, "WU_E_PT_HTTP_STATUS_SERVER_ERROR", "Windows Update: the update server failed with HTTP 500 (check WSUS/IIS on the SUP)"),
    (0x80244022, "WU_E_PT_HTTP_STATUS_SERVICE_UNAVAIL", "Windows Update: the update server answered HTTP 503 (WSUS app pool stopped or overloaded)"),
    (0x80240438, "WU_E_PT_ENDPOINT_UNREACHABLE", "Windows Update: no route to the update service endpoint (network or proxy)"),
]

SRC_NT = "ntstatus.h; https://learn.microsoft.com/openspecs/windows_protocols/ms-erref/596a1078-e883-4972-9bbc-49e60bebca55"
NTSTATUS = [
    (0xC0000005, "STATUS_ACCESS_VIOLATION", "a process read or wrote memory it may not touch (a crash)"),
    (0xC0000022, "STATUS_ACCESS_DENIED", "access denied: the caller lacks the right to the object (file, key, process)"),
    (0xC0000034, "STATUS_OBJECT_NAME_NOT_FOUND", "the named object (file, key, device) does not exist"),
    (0xC000005E, "STATUS_NO_LOGON_SERVERS", "no domain controller could be reached to process the logon"),
    (0xC0000064, "STATUS_NO_SUCH_USER", "logon: the user account does not exist"),
    (0xC000006A, "STATUS_WRONG_PASSWORD", "logon: the password is wrong"),
    (0xC000006D, "STATUS_LOGON_FAILURE", "logon failed: bad user name or password"),
    (0xC0000071, "STATUS_PASSWORD_EXPIRED", "logon: the account's password has expired"),
    (0xC0000072, "STATUS_ACCOUNT_DISABLED", "logon: the account is disabled"),
    (0xC000009A, "STATUS_INSUFFICIENT_RESOURCES", "the system ran out of a resource (memory, handles, pool) needed for the call"),
    (0xC0000135, "STATUS_DLL_NOT_FOUND", "a program could not start: a DLL it needs is missing"),
    (0xC0000142, "STATUS_DLL_INIT_FAILED", "a program could not start: a DLL failed to initialise (often a desktop heap or session problem)"),
    (0xC000018D, "STATUS_TRUSTED_RELATIONSHIP_FAILURE", "the trust between this machine and the domain failed (broken secure channel)"),
    (0xC0000234, "STATUS_ACCOUNT_LOCKED_OUT", "logon: the account is locked out after too many bad passwords"),
    (0xC0000374, "STATUS_HEAP_CORRUPTION", "a process detected that its heap memory is corrupted (a crash)"),
    (0xC0000409, "STATUS_STACK_BUFFER_OVERRUN", "a process stopped itself on a stack buffer overrun or fail-fast (a crash)"),
]

# ConfigMgr client codes (0x87D0xxxx) that matter for client install, registration, tokens, policy and content.
# Numbers from the CMTrace lookup list (SRC_CM_LIST); names are our descriptive CCM_E_ labels (ConfigMgr publishes
# none), meanings in our words.
CONFIGMGR_EXTRA = [
    (0x87D00202, "CCM_E_SHUTTING_DOWN", "the ConfigMgr client service is shutting down"),
    (0x87D00205, "CCM_E_INVALID_PATH", "a path given to the client is not valid"),
    (0x87D00217, "CCM_E_DATA_CORRUPT", "client data is corrupt"),
    (0x87D00222, "CCM_E_CANCELED", "the operation was canceled"),
    (0x87D00223, "CCM_E_VERSION_MISMATCH", "the versions of two parties do not match"),
    (0x87D00229, "CCM_E_GET_CREDENTIALS", "the client could not get credentials (e.g. the network access account)"),
    (0x87D00230, "CCM_E_LOGON_CREDENTIALS", "logging on with the given credentials failed"),
    (0x87D00234, "CCM_E_INTERNAL_ENDPOINT_REMOTE", "a message from another machine was sent to an endpoint that only takes local messages"),
    (0x87D00236, "CCM_E_LOW_MEMORY", "the client is low on memory"),
    (0x87D00238, "CCM_E_PUBLIC_KEY_NOT_FOUND", "the public key needed to check a message was not found"),
    (0x87D00240, "CCM_E_DISK_SPACE", "not enough free disk space"),
    (0x87D00241, "CCM_E_DATABASE_CONNECT", "the connection to the database failed"),
    (0x87D00243, "CCM_E_PUBLIC_KEY_MISMATCH", "the client's public key does not match the one the site has on record (reimaged or cloned client)"),
    (0x87D00244, "CCM_E_NOT_INITIALIZED", "a client component was used before it was initialised"),
    (0x87D00247, "CCM_E_COMPONENT_MISSING", "a component the operation needs is missing or not registered"),
    (0x87D00248, "CCM_E_NETWORK", "a network communication error"),
    (0x87D0025F, "CCM_E_CLIENT_DISCONNECTED", "the client disconnected"),
    (0x87D00267, "CCM_E_DOWNLOAD_FAILED", "a download failed"),
    (0x87D00272, "CCM_E_COMPONENT_DISABLED", "the client component is disabled"),
    (0x87D00276, "CCM_E_RESTART_REQUIRED", "a restart of the computer is needed"),
    (0x87D00277, "CCM_E_INSUFFICIENT_RESOURCES", "not enough resources to finish the operation"),
    (0x87D00278, "CCM_E_CI_DOWNLOAD", "downloading a configuration item failed"),
    (0x87D00279, "CCM_E_CI_DOWNLOAD_TIMEOUT", "downloading a configuration item timed out"),
    (0x87D0027A, "CCM_E_CI_DOWNLOAD_HASH", "a downloaded configuration item failed its hash check"),
    (0x87D00282, "CCM_E_MULTIPLE_CERTS", "several certificates match the selection criteria and none may be picked automatically"),
    (0x87D00284, "CCM_E_MISSING_SUBJECT_NAME", "the certificate has no subject name"),
    (0x87D00285, "CCM_E_CERT_SELECTION_CRITERIA", "the certificate selection criteria are missing or not valid"),
    (0x87D00286, "CCM_E_INVALID_AUTHORITY", "the site (SMS authority) named is not valid"),
    (0x87D00292, "CCM_E_INBAND_SIGNATURE", "the client could not sign its message for in-band authentication"),
    (0x87D00294, "CCM_E_POLICY_VERIFY", "the client could not verify a policy's signature"),
    (0x87D00299, "CCM_E_SIGNATURE_TYPE", "the client does not know the kind of signature on a message"),
    (0x87D00321, "CCM_E_SCRIPT_TIMEOUT", "a detection or install script ran past its time limit"),
    (0x87D00323, "CCM_E_NO_USER_LOGGED_ON", "the deployment needs a logged-on user and there is none"),
    (0x87D00325, "CCM_E_APP_STILL_DETECTED", "the application is still detected after its uninstall finished"),
    (0x87D00329, "CCM_E_APP_EVALUATION", "evaluating the application's requirements or detection failed"),
    (0x87D00602, "CCM_E_CONTENT_LOCATION_TIMEOUT", "the content location request (to the MP) timed out"),
    (0x87D00664, "CCM_E_UPDATES_JOB_CANCELED", "the software updates job was canceled"),
    (0x87D00666, "CCM_E_OUTSIDE_SERVICE_WINDOW", "software updates may not be installed outside a maintenance window"),
    (0x87D00667, "CCM_E_NO_SERVICE_WINDOW", "no maintenance window, now or later, is long enough to install the updates"),
    (0x87D00668, "CCM_E_UPDATE_STILL_REQUIRED", "after installing, the software update is still detected as needed"),
    (0x87D00669, "CCM_E_NO_UPDATE_CONTENT_LOCATION", "no content location for the software update could be had at this time"),
    (0x87D00692, "CCM_E_WU_GROUP_POLICY_CONFLICT", "a group policy sets a different update server than the SUP (WSUS policy conflict)"),
    (0x87D00705, "CCM_E_PAUSE_REQUIRED", "the operation needs the job to be paused"),
    (0x87D0070C, "CCM_E_UPDATE_TIMEOUT", "a software update ran past its maximum run time"),
]

# ---------------------------------------------------------------------------------------------------------------
# Generated rows: the symbolic names and values read from the MinGW-w64 headers, the meaning derived from the name.

HEADER_URL = {
    "winerror.h": "https://learn.microsoft.com/windows/win32/debug/system-error-codes",
    "winerror.h com": "https://learn.microsoft.com/windows/win32/com/com-error-codes",
    "winerror.h sec": "https://learn.microsoft.com/windows/win32/com/com-error-codes-4",
    "winhttp.h": "https://learn.microsoft.com/windows/win32/winhttp/error-messages",
    "ntstatus.h": "https://learn.microsoft.com/openspecs/windows_protocols/ms-erref/596a1078-e883-4972-9bbc-49e60bebca55",
    "bitsmsg.h": "https://learn.microsoft.com/windows/win32/bits/bits-return-values",
    "wbemcli.h": "https://learn.microsoft.com/windows/win32/wmisdk/wmi-error-constants",
    "wuerror.h": "https://learn.microsoft.com/windows/deployment/update/windows-update-error-reference",
}

# Whole words and abbreviations in symbolic names, as a reader would say them.
WORDS = {
    "ACCT": "account", "ADDR": "address", "ALG": "algorithm", "ALLOC": "allocation", "ALREADY": "already",
    "ARG": "argument", "ARGS": "arguments", "ATTR": "attribute", "ATTRIB": "attribute", "AUTH": "authentication",
    "AUTHN": "authentication", "AUTHZ": "authorization", "BUF": "buffer", "CANT": "cannot", "CERT": "certificate",
    "CERTS": "certificates", "CFG": "configuration", "CHG": "change", "CLSID": "class id", "CNT": "count",
    "COMM": "communication", "CONFIG": "configuration", "CONN": "connection", "CTX": "context", "CTL": "trust list",
    "DEF": "definition", "DEST": "destination", "DEV": "device", "DIR": "directory", "DISCON": "disconnected",
    "DLL": "DLL", "DN": "distinguished name", "DNS": "DNS", "DS": "directory service", "ENCRYPT": "encryption",
    "ENUM": "enumeration", "ENV": "environment", "ERR": "error", "EXE": "program", "EXT": "extension",
    "FS": "file system", "FUNC": "function", "HDR": "header", "ID": "id", "IDS": "ids", "INFO": "information",
    "INIT": "initialization", "INSUFF": "insufficient", "INVALIDARG": "invalid argument", "IO": "I/O",
    "IP": "IP", "KDC": "KDC", "LEN": "length", "LSA": "LSA", "MAX": "maximum", "MEM": "memory",
    "MGMT": "management", "MGR": "manager", "MIN": "minimum", "MSG": "message", "NAMESPACE": "namespace",
    "NOT": "not", "NUM": "number", "OBJ": "object", "OID": "OID", "OP": "operation", "OPER": "operation",
    "PARAM": "parameter", "PARAMS": "parameters", "PARM": "parameter", "PKT": "packet", "PRIV": "privilege",
    "PROC": "procedure", "PROG": "program", "PROP": "property", "PROV": "provider", "PT": "protocol talker",
    "QM": "quick mode", "REF": "reference", "REG": "registry", "REQ": "request", "REQD": "required",
    "RES": "resource", "RPC": "RPC", "SEC": "security", "SEQ": "sequence", "SID": "SID", "SIG": "signature",
    "SPN": "SPN", "SRV": "server", "STG": "storage", "SVC": "service", "SYNC": "synchronization",
    "SYS": "system", "TLS": "TLS", "TOO": "too", "TRANS": "transaction", "UNAVAIL": "unavailable",
    "URL": "URL", "VER": "version", "WMI": "WMI", "WSUS": "WSUS", "XML": "XML", "HTTP": "HTTP",
    "HTTPS": "HTTPS", "SSL": "SSL", "CRL": "CRL", "OCSP": "OCSP", "CA": "CA", "CN": "CN", "MSI": "MSI",
    "SAM": "SAM", "ACL": "ACL", "ACE": "ACE", "GUID": "GUID", "UUID": "UUID", "COM": "COM", "DCOM": "DCOM",
    "MUI": "MUI", "NTFS": "NTFS", "SMB": "SMB", "UPN": "UPN", "TPM": "TPM", "EFS": "EFS", "VSS": "VSS",
    "UNTRUSTEDROOT": "untrusted root", "UNTRUSTEDCA": "untrusted CA", "NOSIGNATURE": "no signature",
    "NOTIMPL": "not implemented", "NOINTERFACE": "no interface", "OUTOFMEMORY": "out of memory",
    "ACCESSDENIED": "access denied", "NOACCESS": "no access", "BADDB": "bad database", "BADKEY": "bad key",
    "NOTIFY": "notify", "SXS": "side-by-side", "IPSEC": "IPsec", "IKE": "IKE", "MM": "main mode", "DUP": "duplicate",
    "ASN1": "ASN.1", "SA": "security association", "WINS": "WINS", "RR": "record", "SMARTCARD": "smart card",
    "WIN32": "Win32", "NT": "NT", "KEYSET": "key set", "EXPECTINGTAGEND": "expecting tag end",
    "SEM": "semaphore", "PRINTQ": "print queue", "EXCL": "exclusive", "NETNAME": "network name",
    "FILENAME": "file name", "PATHNAME": "path name", "NOTSUPPORTED": "not supported", "DRV": "driver",
    "SUBSTED": "substituted", "DEVS": "devices", "LOGON": "logon", "EXCED": "exceeded", "RDN": "relative distinguished name", "AAD": "Entra ID", "CIM": "CIM",
}

# What a family's prefix says about the code, put in front of the derived words.
FAMILIES = [
    ("ERROR_WINHTTP_", "WinHTTP: "), ("ERROR_INSTALL_", "Windows Installer: install "),
    ("ERROR_PATCH_", "Windows Installer: patch "), ("WU_E_PT_", "Windows Update (server talk): "),
    ("WU_E_DM_", "Windows Update (download): "), ("WU_E_UH_", "Windows Update (update handler): "),
    ("WU_E_AU_", "Windows Update (automatic updates): "), ("WU_E_DS_", "Windows Update (datastore): "),
    ("WU_E_INVENTORY_", "Windows Update (inventory): "), ("WU_E_EE_", "Windows Update (expression evaluator): "),
    ("WU_E_SETUP_", "Windows Update (agent setup): "), ("WU_E_REPORTER_", "Windows Update (reporting): "),
    ("WU_E_DRV_", "Windows Update (driver updates): "), ("WU_E_SLS_", "Windows Update (service locator): "),
    ("WU_E_", "Windows Update: "), ("WU_S_", "Windows Update (success): "),
    ("BG_E_", "BITS: "), ("BG_S_", "BITS (success): "), ("WBEM_E_", "WMI: "),
    ("CERT_E_", "certificate trust: "), ("CRYPT_E_", "crypto: "), ("CRYPT_I_", "crypto (information): "),
    ("TRUST_E_", "trust verification: "), ("NTE_", "crypto provider: "), ("SEC_E_", "security package (SSPI/TLS): "),
    ("SEC_I_", "security package (SSPI/TLS), not an error: "), ("CERTSRV_E_", "certificate services (CA): "),
    ("SCHED_E_", "Task Scheduler: "), ("SCHED_S_", "Task Scheduler (success): "), ("RPC_E_", "COM/RPC: "),
    ("RPC_S_", "RPC: "), ("RPC_X_", "RPC stub: "), ("EPT_S_", "RPC endpoint mapper: "), ("CO_E_", "COM: "),
    ("CO_S_", "COM (success): "), ("REGDB_E_", "COM registration: "), ("CLASS_E_", "COM class factory: "),
    ("DISP_E_", "COM automation: "), ("TYPE_E_", "COM type library: "), ("STG_E_", "structured storage: "),
    ("STG_S_", "structured storage (success): "), ("OR_", "COM object resolver: "), ("DNS_ERROR_", "DNS: "),
    ("DNS_INFO_", "DNS (information): "), ("WSA", "Winsock: "), ("FRS_ERR_", "File Replication Service: "),
    ("APPMODEL_ERROR_", "app package: "), ("WARNING_", "warning: "), ("WAIT_", "wait: "),
    ("ERROR_", ""), ("STATUS_", ""), ("E_", ""), ("S_", ""),
]

WINSOCK_E = {"WSAE": "", "WSA_": "", "WSA": ""}


def derive_meaning(name):
    """A readable meaning from a symbolic name: the family prefix said in words, the rest split at '_', lowercased,
    abbreviations expanded (ERROR_FILE_NOT_FOUND -> 'file not found', WBEM_E_INVALID_CLASS -> 'WMI: invalid class')."""
    lead, rest = "", name
    for prefix, said in FAMILIES:
        if name.startswith(prefix):
            lead, rest = said, name[len(prefix):]
            break
    if lead == "Winsock: ":
        for p in ("E_", "_"):
            if rest.startswith(p):
                rest = rest[len(p):]
                break
    words = []
    for w in rest.split("_"):
        if not w:
            continue
        if w in WORDS:
            words.append(WORDS[w])
        elif re.fullmatch(r"[0-9]+", w):
            words.append(w)
        else:
            words.append(w.lower())
    text = " ".join(words) or name.lower()
    return (lead + text).strip()


HTTP_REASON = {
    100: "Continue", 101: "Switching Protocols", 200: "OK", 201: "Created", 202: "Accepted",
    203: "Non-Authoritative Information", 204: "No Content", 205: "Reset Content", 206: "Partial Content",
    300: "Multiple Choices", 301: "Moved Permanently", 302: "Found", 303: "See Other", 304: "Not Modified",
    305: "Use Proxy", 307: "Temporary Redirect", 400: "Bad Request", 401: "Unauthorized", 402: "Payment Required",
    403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
    407: "Proxy Authentication Required", 408: "Request Timeout", 409: "Conflict", 410: "Gone",
    411: "Length Required", 412: "Precondition Failed", 413: "Content Too Large", 414: "URI Too Long",
    415: "Unsupported Media Type", 416: "Range Not Satisfiable", 417: "Expectation Failed",
    449: "Retry With (Microsoft)", 500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Gateway Timeout", 505: "HTTP Version Not Supported",
}


def bits_http_meaning(status):
    reason = HTTP_REASON.get(status, "")
    return f"BITS download: the server answered HTTP {status}" + (f" ({reason})" if reason else "")


DEFINE = re.compile(r"^\s*#\s*define\s+([A-Za-z_][A-Za-z0-9_]*)\s+(.+?)\s*(?://.*|/\*.*)?$", re.M)
ENUM_ITEM = re.compile(r"^\s*([A-Z][A-Z0-9_]*)\s*=\s*(0x[0-9a-fA-F]+|[0-9]+)\s*,?\s*$", re.M)


def read_defines(path, known=None):
    """name -> int for every #define whose value is a number or simple arithmetic on numbers and names defined
    before (casts, __MSABI_LONG(), _HRESULT_TYPEDEF_() and L/U suffixes removed). A define that only aliases another
    name is left out (NO_ERROR, SEC_E_NO_SPM ...)."""
    known = dict(known or {})
    out = {}
    text = open(path, encoding="latin-1").read()
    for name, expr in DEFINE.findall(text):
        e = expr
        e = re.sub(r"\(\s*\((?:NTSTATUS|HRESULT|DWORD|SCODE|LONG|ULONG)\)\s*", "(", e)
        e = re.sub(r"\((?:NTSTATUS|HRESULT|DWORD|SCODE|LONG|ULONG)\)", "", e)
        e = re.sub(r"(?:__MSABI_LONG|_HRESULT_TYPEDEF_|_NDIS_ERROR_TYPEDEF_)\s*\(", "(", e)
        e = re.sub(r"\b(0x[0-9A-Fa-f]+|[0-9]+)[UuLl]+\b", r"\1", e)
        if re.fullmatch(r"\s*[A-Za-z_][A-Za-z0-9_]*\s*", e):
            continue  # an alias
        ids = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", re.sub(r"0x[0-9A-Fa-f]+", "", e))
        if any(i not in known for i in ids):
            continue
        if not re.fullmatch(r"[\sA-Za-z0-9_()+|x-]*", e):
            continue
        try:
            v = eval(e, {"__builtins__": {}}, known)  # only numbers, names already read, + - | and parentheses
        except Exception:
            continue
        if isinstance(v, int):
            v &= 0xFFFFFFFF
            known[name] = v
            out[name] = v
    return out


def read_enum_items(path, prefix):
    text = open(path, encoding="latin-1").read()
    return {n: int(v, 0) & 0xFFFFFFFF for n, v in ENUM_ITEM.findall(text) if n.startswith(prefix)}


NOT_CODES = re.compile(r"^(FACILITY_|SEVERITY_|STATUS_SEVERITY_)|_(FIRST|LAST|BASE|MASK)$|^(NOERROR|NO_ERROR|DNS_ERROR_MASK)$")
WIN32_NAMES = re.compile(r"^(ERROR_|WAIT_|RPC_S_|RPC_X_|EPT_S_|OR_|WSA|DNS_ERROR_|DNS_INFO_|FRS_ERR_|APPMODEL_ERROR_|WARNING_|SCHED_E_SERVICE)")
HRESULT_NAMES = re.compile(
    r"^(S_OK|S_FALSE|E_[A-Z_]+|CO_E_|CO_S_|RPC_E_|DISP_E_|REGDB_E_|CLASS_E_|TYPE_E_|STG_E_|CERT_E_|CRYPT_E_|"
    r"CRYPT_I_|TRUST_E_|NTE_|SEC_E_|SEC_I_|CERTSRV_E_|SCHED_E_|SCHED_S_)"
)


def header_rows(inc):
    """(space, value, name, header) rows read from a MinGW-w64 include folder, in header order."""
    def h(name):
        path = os.path.join(inc, name)
        if not os.path.isfile(path):
            raise SystemExit(f"{path} not found: see the docstring for how to get the headers")
        return path

    rows = []
    win = read_defines(h("winerror.h"))
    for name, v in win.items():
        if NOT_CODES.search(name):
            continue
        if v < 16000 and WIN32_NAMES.match(name) and not name.startswith("ERROR_SEVERITY"):
            rows.append(("win32", v, name, "winerror.h"))
        elif v >= 0x80000000 or name in ("S_OK", "S_FALSE") or re.match(r"^(SEC_I_|CRYPT_I_|CO_S_|SCHED_S_)", name):
            if HRESULT_NAMES.match(name):
                sec = name.startswith(("CERT_E_", "CRYPT_", "TRUST_E_", "NTE_", "SEC_", "CERTSRV_"))
                rows.append(("hresult", v, name, "winerror.h sec" if sec else "winerror.h com"))
    for name, v in read_defines(h("winhttp.h")).items():
        if name.startswith("ERROR_WINHTTP_") and 12000 < v < 13000 and "RESERVED" not in name:
            rows.append(("winhttp", v, name, "winhttp.h"))
    for name, v in read_defines(h("bitsmsg.h")).items():
        if name.startswith("BG_E_"):
            rows.append(("hresult", v, name, "bitsmsg.h"))
    for name, v in read_enum_items(h("wbemcli.h"), "WBEM_E_").items():
        rows.append(("hresult", v, name, "wbemcli.h"))
    for name, v in read_defines(h("wuerror.h")).items():
        if name.startswith("WU_E_") and v >= 0x80000000:
            rows.append(("hresult", v, name, "wuerror.h"))
    for name, v in read_defines(h("ntstatus.h")).items():
        # The NTSTATUS errors of facility 0 (0xC0000xxx): the ones ConfigMgr and crash logs carry.
        if name.startswith("STATUS_") and v & 0xFFFF0000 == 0xC0000000 and not NOT_CODES.search(name):
            rows.append(("ntstatus", v, name, "ntstatus.h"))
    return rows


def certificate_rows():
    """The certificate failure codes, written once in cmtrace-parsers' table (parsers/src/certificates.rs, with the
    flag each sets in the extractors): (code, space, name, meaning, source). analysis/src/codes.rs adds them to the
    table it loads, so they are not written to the TSV; they are read here so that no generated row stands for them
    again and their names are checked against the headers like the hand-written ones."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "parsers", "src", "certificates.rs")
    text = open(path, encoding="utf-8").read()
    sources = dict(re.findall(r'const (\w+): &str =\s*"([^"]+)";', text))
    rows = []
    for m in re.finditer(
        r'CertificateCode \{\s*code: "([^"]+)",\s*space: CertificateCodeSpace::(\w+),\s*name: "([^"]+)",'
        r'\s*flag: "[^"]+",\s*meaning: "((?:[^"\\]|\\.)*)",\s*source: (\w+),',
        text,
    ):
        code, space, name, meaning, source = m.groups()
        value = int(code, 16) if code.startswith("0x") else int(code)
        rows.append((value, space.lower(), name, meaning.replace('\\"', '"'), sources[source]))
    written = len(re.findall(r"^\s+CertificateCode \{$", text, re.M))
    if len(rows) != written:
        raise SystemExit(f"{path}: {written} rows, {len(rows)} read")
    return rows


def main():
    args = sys.argv[1:]
    inc = None
    if args[:1] == ["--include"] and len(args) == 2:
        inc = args[1]
    elif args:
        raise SystemExit(__doc__)
    inc = inc or os.environ.get("MINGW_INCLUDE")
    if not inc:
        raise SystemExit("give the MinGW-w64 include folder: --include DIR or MINGW_INCLUDE=DIR (see the docstring)")

    rows = []
    seen = set()
    hresults = set()  # every HRESULT a row stands for, to add generated rows only for new codes
    win32_hresults = set()

    def hresult_of(space, code):
        if space in ("win32", "winhttp"):
            return code if code == 0 else 0x80070000 | code
        if space in ("hresult", "configmgr"):
            return code
        if space == "ntstatus":
            return code | 0x10000000
        return None

    def add(code, space, name, meaning, source):
        key = (space, str(code).upper())
        if space != "http" and key in seen:  # http: several status texts share one status by design
            raise SystemExit(f"duplicate {key} ({name})")
        if space == "http" and (key, name) in seen:
            raise SystemExit(f"duplicate {key} ({name})")
        seen.add(key if space != "http" else (key, name))
        if isinstance(code, int) and space in ("win32", "winhttp", "hresult", "configmgr", "ntstatus"):
            hresults.add(hresult_of(space, code))
            if space in ("win32", "winhttp"):
                win32_hresults.add(hresult_of(space, code))
        text = (f"0x{code:08X}" if space in ("hresult", "configmgr", "ntstatus") else str(code))
        rows.append((text, space, name, meaning, source))

    for n, name, m in WINHTTP:
        add(n, "winhttp", name, m, SRC_WINHTTP)
    for n, name, m in WIN32:
        add(n, "win32", name, m, SRC_WIN32)
    for block, src in ((HRESULT, SRC_COM), (CERT, SRC_CERT), (WMI, SRC_WMI), (BITS, SRC_BITS),
                       (BITS_EXTRA, SRC_BITS_EXTRA), (WU, SRC_WU), (OTHER, SRC_OTHER)):
        for v, name, m in block:
            add(v, "hresult", name, m, src)
    for v, name, m in NTSTATUS:
        add(v, "ntstatus", name, m, SRC_NT)
    for v, name, m in CONFIGMGR:
        add(v, "configmgr", name, m, SRC_CM)
    for v, name, m in CONFIGMGR_APP:
        add(v, "configmgr", name, m, SRC_CM_APP)
    for v, name, m in CONFIGMGR_EXTRA:
        add(v, "configmgr", name, m, SRC_CM_LIST)
    for n, name, m in CCMSETUP:
        add(n, "ccmsetup", name, m, SRC_CCMSETUP)
    for n, name, m in HTTP:
        add(n, "http", name, m, SRC_HTTP)
    for code, name, m in IDENTITY:
        add(code, "identity", name, m, SRC_ID)
    certificates = len(rows)
    for v, space, name, m, src in certificate_rows():
        add(v, space, name, m, src)
    hand = len(rows)

    header = header_rows(inc)
    # Names and numbers are facts: a hand-written row whose name a header defines must carry the header's value.
    by_header_name = {}
    for space, v, name, _ in header:
        by_header_name.setdefault(name, (space, v))
    for code, space, name, _, _ in rows:
        if name in by_header_name and space in ("win32", "winhttp", "hresult", "ntstatus"):
            want = by_header_name[name][1]
            got = int(code, 16) if code.startswith("0x") else int(code)
            if got != want:
                raise SystemExit(f"{name}: the hand-written row says {code}, the header says 0x{want:08X}")

    names = {r[2] for r in rows}
    generated = {}
    for space, v, name, header_file in header:
        h = hresult_of(space, v)
        if space in ("win32", "winhttp"):
            taken = h in win32_hresults  # a Win32 code present in either Win32 space
        else:
            taken = h in hresults  # any row standing for this HRESULT (0x80070005 is ERROR_ACCESS_DENIED)
        if name in names or taken or (space, v) in generated:
            continue  # a code already present (hand-written, or an earlier name for the same value)
        if space == "hresult" and name.startswith("BG_E_HTTP_ERROR_"):
            meaning = bits_http_meaning(v & 0xFFFF)
        else:
            meaning = derive_meaning(name)
        generated[(space, v)] = True
        src = header_file.split()[0] + "; " + HEADER_URL[header_file]
        add(v, space, name, meaning, src)
        names.add(name)

    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "analysis", "data", "error_codes.tsv")
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        f.write("# generated by scripts/gen-error-codes.py: do not edit by hand\n")
        f.write("code\tspace\tname\tmeaning\tsource\n")
        for i, r in enumerate(rows):
            if certificates <= i < hand:
                continue  # cmtrace-parsers' certificate table: codes.rs adds these rows
            assert all("\t" not in c and "\n" not in c for c in r)
            f.write("\t".join(r) + "\n")
    print(f"{len(rows) - (hand - certificates)} codes ({certificates} hand-written, {len(rows) - hand} from the headers) written to "
          f"{os.path.normpath(out)}; {hand - certificates} certificate codes read from cmtrace-parsers")


if __name__ == "__main__":
    main()
