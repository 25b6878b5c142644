#!/usr/bin/env python3
"""Generate a realistic fleet log bundle for benchmarks (not committed: written to bench-corpus/ by default).

  python3 scripts/gen-corpus.py --out bench-corpus --devices 2000 --server-mb 900 [--seed 7]

Layout as collected: per device <HOST>/Windows/ccmsetup/Logs/ccmsetup.log (+ some rotated ccmsetup.lo_) and
<HOST>/Windows/CCM/Logs/{ClientIDManagerStartup,ADALOperationProvider,CcmMessaging,LocationServices}.log
(a third UTF-16LE with BOM, the rest UTF-8 with CRLF), and the servers: MP01/SMS_CCM/Logs/{CCM_STS,
MP_RegistrationManager}.log (CMTrace format), CPSRV01/.../SMS_CLOUD_PROXYCONNECTOR.log and the CMG log synced to
SITE01 (server $$< format). Every device runs the Entra ID flow with its own ids (a few percent fail: untrusted
root CA, device-token fallback, exit code 6); servers also carry background traffic of devices whose client logs
were not collected, and noise lines, until --server-mb is reached. Deterministic for a seed.

Two profiles:
  --profile stress (the default; 2,000 devices, 900 MB of server logs in one file per log): a worst case for
      `analyze`. Three quarters of the bytes are server request lines, 40% of all lines are flow events, and
      one CCM_STS.log is 460 MB: no site writes that (server logs roll over at a few MB).
  --profile fleet (e.g. --devices 350 --server-mb 100 --client-other-kb 2600): what a collection from a fleet
      looks like: each client's whole CCM\Logs folder (the flow logs plus ~25 other logs of the ConfigMgr agent,
      each with its rolled-over .lo_, as the client keeps one history file), server logs rolled over every
      --server-file-mb into dated history files (name-YYYYMMDD-HHMMSS.log).
"""
import argparse
import os
import random
import uuid
from datetime import datetime, timedelta

CMG = "FLEETCMG.CLOUDAPP.NET"
CMGID = "72186325152220500"
MP = "MP01.FLEET.CORP"
TENANT = "2ca9a796-a1a6-43ec-88f1-5935b32155c5"
APP = "0b7c8ab3-9ea1-4ffa-b2b9-8ffdd944bd8b"
HIER = "8ed3174b-e814-41b5-b51c-fb368f0d4003"
BASE = datetime(2026, 11, 20, 6, 0, 0)
BIASES = [480, 420, 300, -60, 0, -330, 240]
MP_BIAS = 300
CP_BIAS = 300


def cm(t, bias, msg, comp, typ=1, thread=3396, src=""):
    local = t - timedelta(minutes=bias)
    return (f'<![LOG[{msg}]LOG]!><time="{local:%H:%M:%S}.{local.microsecond // 1000:03d}{bias:+d}" '
            f'date="{local:%m-%d-%Y}" component="{comp}" context="" type="{typ}" thread="{thread}" file="{src}">')


def sms(t, bias, msg, comp, thread=4992):
    local = t - timedelta(minutes=bias)
    return (f"{msg}  $$<{comp}><{local:%m-%d-%Y %H:%M:%S}.{local.microsecond // 1000:03d}{bias:+03d}>"
            f"<thread={thread} (0x{thread:X})>")


def gid(rnd):
    return str(uuid.UUID(int=rnd.getrandbits(128)))


NOISE_CLIENT = [
    "Updated security on object C:\\Windows\\ccmsetup\\cache\\.",
    "Folder 'Microsoft\\Configuration Manager' not found. Task does not exist.",
    "Created connection on port 443",
    "Appending CCM Token to the header.",
    "SslState value: 224",
    "Checking for Windows Update agent ... Windows Update agent is ready.",
    "Successfully deleted existing ccmsetup cache folder.",
    "Running as user \"SYSTEM\"",
    "Received message '<SiteInfoReply SchemaVersion=\"1.00\">\r\n  <Site><SiteCode>MEM</SiteCode></Site>\r\n</SiteInfoReply>'",
]
NOISE_MSG = [
    "Sending async message '{%s}' to outgoing queue 'mp_[http]mp_policymanager'",
    "OutgoingQueue: Queue 'mp_[http]mp_policymanager' has 0 messages pending.",
    "Post to https://%s/ccm_system_tokenauth/request succeeded" % CMG,
    "Message '{%s}' got reply '{AD26E5F2-4C4F-4CA1-BCC0-2E53B7C3D1A5}' to endpoint 'PolicyAgent_ReplyAssignments'",
]


# Logs of the ConfigMgr agent outside the flow (kind `other`): component, typical lines.
OTHER_LOGS = [
    ("CcmExec", ["Service startup notification received.", "Raising pending event:\r\ninstance of CCM_ServiceHost_CertRetrieval_Status\r\n{\r\n\tHRESULT = \"0x00000000\";\r\n};", "Requests received: %d, completed: %d", "CCMEXEC: service is running."]),
    ("PolicyAgent", ["Requesting Machine policy assignments", "Received delta policy update with %d assignments", "Compiling policy {%s}", "Policy download for {%s} completed."]),
    ("PolicyEvaluator", ["Updating policy CCM_Policy_Policy5.PolicyID=\"{%s}\",PolicySource=\"SMS:MEM\"", "Applying policy {%s}", "Policy state for [CCM_Policy_Policy5.PolicyID=\"{%s}\"] is currently [Active]"]),
    ("DataTransferService", ["DTSJob {%s} created to download from 'http://dp01.fleet.corp:80/SMS_DP_SMSPKG$/CS100%03d' to 'C:\\Windows\\ccmcache\\%d'.", "DTSJob {%s} in state 'DownloadingData'.", "DTSJob {%s} successfully completed download."]),
    ("StatusAgent", ["Sending message for {%s}", "Ignoring dup message for {%s}", "%d status messages pending."]),
    ("InventoryAgent", ["Inventory: Opening store for namespace 'root\\cimv2'", "Collection: Namespace = \\\\localhost\\root\\cimv2; Query = SELECT __CLASS, __PATH FROM Win32_Service; Timeout = 600 secs.", "Inventory: %d Collection Task(s) processed in %d ms"]),
    ("CIAgent", ["CIAgentJob({%s}): CAgentJob::VerifyCIs - Verifying %d CIs", "CI ScopeId_%s/Baseline_%s has been evaluated.", "Evaluating CI {%s} for compliance."]),
    ("UpdatesDeployment", ["EnumerateUpdates for action (UpdateActionInstall) - Total actionable updates = %d", "Update (Site_%s/SUM_%s) Progress: Status = ciStateInstalled", "Job {%s} completed."]),
    ("UpdatesHandler", ["Successfully completed scan.", "EnumerateUpdates for action (UpdateActionInstall) - Total actionable updates = %d", "Update status changed for {%s}"]),
    ("WUAHandler", ["Its a WSUS Update Source type ({%s}), adding it.", "Successfully completed scan.", "Async searching of updates using WUAgent started."]),
    ("ScanAgent", ["ScanJob({%s}): CScanJob::OnScanComplete -Scan Succeeded", "Sources are current, scan not needed.", "ScanJob({%s}): Job state = %d"]),
    ("ContentTransferManager", ["CTM job {%s} entered phase CCM_DOWNLOADSTATUS_DOWNLOADING_DATA", "CTM job {%s} successfully processed download completion.", "Queued location request '{%s}' for CTM job '{%s}'."]),
    ("CAS", ["Download request only, ContentId: Content_%s, Version: %d", "Saved Content ID Mapping Content_%s.%d, C:\\Windows\\ccmcache\\%d", "Location update from CTM for content Content_%s.%d and request {%s}"]),
    ("AppEnforce", ["+++ Starting Install enforcement for App DT \"App %d\" ApplicationDeliveryType - ScopeId_%s/DeploymentType_%s, Revision - %d", "Executing Command line: \"C:\\Windows\\system32\\msiexec.exe\" /i app%d.msi /qn with user context", "Process %d terminated with exitcode: 0"]),
    ("AppDiscovery", ["Entering ExecQueryAsync for query \"select * from CCM_AppDeliveryType where (AppDeliveryTypeId = \"ScopeId_%s/DeploymentType_%s\")\"", "+++ Detected app deployment type App %d(ScopeId_%s/DeploymentType_%s, revision %d)!", "+++ Did not detect app deployment type App %d"]),
    ("AppIntentEval", ["ScopeId_%s/DeploymentType_%s :- Current State = Installed, Applicability = Applicable, ResolvedState = Installed", "Application state for ScopeId_%s changed."]),
    ("execmgr", ["Policy arrived for parent package CS1000%02d program Install", "Execution Request for advert CS12%04d package CS1000%02d program Install state change from NotExist to WaitingContent", "Successfully raised SoftDistProgramStartedEvent"]),
    ("CertificateMaintenance", ["Read SMS certificate from the local machine store.", "Successfully retrieved the certificate in the Personal store.", "Certificate maintenance is completed."]),
    ("ClientLocation", ["Assigned MP changed from <> to <MP01.FLEET.CORP>.", "Current AD forest name is fleet.corp, domain name is fleet.corp", "Domain joined client is in Intranet"]),
    ("CcmEval", ["Health check operation starting.", "Result: Passed, ResultCode: 0, ResultType: 0, ResultDetail: %d", "Send evaluation report result to MP. Status is 0."]),
    ("mtrmgr", ["StartPrepError - Invalid process id %d.", "Process ID %d is for process C:\\Windows\\system32\\svchost.exe", "No matching rules for process %d"]),
    ("FileBITS", ["Upload job {%s} completed.", "Creating BITS job for upload to http://mp01.fleet.corp/ccm_incoming/%s"]),
    ("SCClient_FLEET@user", ["Loading software center settings.", "Refreshing catalog: %d applications.", "Installed applications: %d"]),
    ("SensorWmiProvider", ["CSensorWmiProvider::GetObjectAsync: %d", "Successfully initialized sensor."]),
    ("SleepAgent", ["Power state changed: %d", "Wake-up proxy is not enabled."]),
]


def other_line(rnd, msgs):
    m = rnd.choice(msgs)
    out = []
    for part in m.split("%"):
        if not out:
            out.append(part)
            continue
        spec = part[:1] if part[:1] in "sd" else part[:3]
        rest = part[len(spec):]
        if spec == "s":
            out.append(gid(rnd).upper() + rest)
        elif spec == "d":
            out.append(str(rnd.randrange(1, 5000)) + rest)
        else:
            out.append(str(rnd.randrange(1, 99)).zfill(int(spec[1])) + rest)
    return "".join(out)


def other_client_logs(rnd, host, bias, t0, budget):
    """The rest of the agent's CCM\\Logs folder: ~25 logs of `budget` bytes in all, each rolled over once
    (name.lo_ then name.log, the client's default of one history file)."""
    f = {}
    per_log = budget // len(OTHER_LOGS)
    for comp, msgs in OTHER_LOGS:
        t = t0 - timedelta(hours=rnd.randrange(1, 48))
        lines, size = [], 0
        thread = rnd.randrange(1000, 9000)
        while size < per_log:
            t += timedelta(milliseconds=rnd.randrange(10, 30000))
            typ = 2 if rnd.random() < 0.02 else 1
            line = cm(t, bias, other_line(rnd, msgs), comp.split("_")[0], typ, thread, "")
            lines.append(line)
            size += len(line) + 2
        half = len(lines) // 2
        f[f"{host}/Windows/CCM/Logs/{comp}.lo_"] = lines[:half]
        f[f"{host}/Windows/CCM/Logs/{comp}.log"] = lines[half:]
    return f


def client_files(rnd, i, host, bias, ids, t0, fail, server):
    """Returns {relpath: [lines]} for one device and appends its server lines to `server`."""
    f = {}
    setup, cidm, adal, msg, ls = (
        f"{host}/Windows/ccmsetup/Logs/ccmsetup.log",
        f"{host}/Windows/CCM/Logs/ClientIDManagerStartup.log",
        f"{host}/Windows/CCM/Logs/ADALOperationProvider.log",
        f"{host}/Windows/CCM/Logs/CcmMessaging.log",
        f"{host}/Windows/CCM/Logs/LocationServices.log",
    )
    for p in (setup, cidm, adal, msg, ls):
        f[p] = []
    t = t0

    def add(p, dt_ms, m, comp, typ=1, thread=3396):
        nonlocal t
        t = t + timedelta(milliseconds=dt_ms)
        f[p].append(cm(t, bias, m, comp, typ, thread, "ccmsetup.cpp:%d" % rnd.randrange(100, 12000)))

    for _ in range(rnd.randrange(20, 60)):
        add(setup, rnd.randrange(1, 40), rnd.choice(NOISE_CLIENT), "ccmsetup", rnd.choice((0, 1)))
    add(setup, 100, f"Getting AAD info from CMG '{CMG}'", "ccmsetup")
    add(setup, 5, f"SMS CCM 5.0: Host={CMG}, Path=/CCM_Proxy_ServerAuth/AADAuthInfo?TenantID={TENANT}, Port=443, Protocol=https, CcmTokenAuth=0, Flags=0x1304, Options=0xe0", "ccmsetup")
    add(setup, 5, "Enabled SSL revocation check.", "ccmsetup")
    add(setup, 900, f"Getting AAD (device) token with: ClientId = {APP}, ResourceUrl = https://ConfigMgrService, AccountId = https://login.microsoftonline.com/common/oauth2/token", "ccmsetup")
    if fail == "fallback":
        add(setup, 300, "WAM token request failed. Status 5, Details 'AAD WAM extension error'", "ccmsetup", 3)
        add(setup, 2, "Failed to get AAD token for 'S-1-5-18' from WAM API. Error 0xd0090016", "ccmsetup", 3)
        add(setup, 5, f"Falling back to get user '{ids['sid']}' token for system...", "ccmsetup")
        add(setup, 600, f"Retrieved AAD token for AAD user '{ids['user']}'", "ccmsetup")
    else:
        add(setup, 600, f"Retrieved AAD token for AAD device '{ids['device']}'", "ccmsetup")
    add(setup, 900, f"Getting CCM Token from STS server '{CMG.lower()}/CCM_PROXY_MutualAuth/{CMGID}'", "ccmsetup")
    treq = t
    if fail == "rootca":
        add(setup, 400, f"[CCMHTTP] ERROR: URL=https://{CMG}/CCM_Proxy_MutualAuth/{CMGID}/CCM_STS, Port=443, Options=224, Code=12175, Text=ERROR_WINHTTP_SECURE_FAILURE", "ccmsetup", 3)
        add(setup, 2, "[CCMHTTP] : WINHTTP_CALLBACK_STATUS_FLAG_INVALID_CA is set", "ccmsetup", 3)
        add(setup, 60000, "CcmSetup failed with error code 0x80072f8f", "ccmsetup", 3)
        return f
    tiss = treq + timedelta(milliseconds=800)
    server_chain(rnd, server, treq, tiss, ids)
    exp = tiss + timedelta(hours=8) - timedelta(minutes=bias)
    add(setup, 1000, f"Cached encrypted token for 'S-1-5-18'. Will expire at '{exp:%m/%d/%Y %H:%M:%S}'", "ccmsetup")
    add(setup, 2000, f"Found a valid online MP 'https://{CMG}/CCM_PROXY_MutualAuth/{CMGID}'", "ccmsetup")
    add(setup, 2000, f"The location 'https://{CMG}/downloadrestservice.svc/getcontentxmlsecure?pid=CS100001&cid=CS100001'", "ccmsetup")
    for _ in range(rnd.randrange(20, 80)):
        add(setup, rnd.randrange(1, 2000), rnd.choice(NOISE_CLIENT), "ccmsetup", rnd.choice((0, 1)))
    add(setup, 1000, "Installing version 5.00.9132.1011 of the client with product code {66653948-0717-4D50-B0B9-ED66FDED2DDB}", "ccmsetup")
    code = 6 if fail == "exit6" else 0
    add(setup, 300000, f"CcmSetup is exiting with return code {code}", "ccmsetup", 3 if code else 1)
    if code:
        return f
    add(cidm, 60000, "[RegTask] - Starting registration, attempt 1.", "ClientIDManagerStartup", 1, 6220)
    add(cidm, 100, f"[RegTask] - Client is not registered. Sending registration request for {ids['guid']} ...", "ClientIDManagerStartup", 1, 6220)
    add(cidm, 100, "Registering client using AAD auth.", "ClientIDManagerStartup", 1, 6220)
    add(adal, 800, f"Getting AAD (device) token with: ClientId = {APP}, ResourceUrl = https://ConfigMgrService, AccountId = https://login.microsoftonline.com/common/oauth2/token", "ADALOperationProvider", 1, 6220)
    add(adal, 400, f"Retrieved AAD token for AAD device '{ids['device']}'", "ADALOperationProvider", 1, 6220)
    server.append(("mpreg", t + timedelta(milliseconds=500), 2200 + i % 50, ids))
    add(cidm, 2000, f"[RegTask] - Client is registered. Server assigned ClientID is {ids['guid']}. Approval status 3", "ClientIDManagerStartup", 1, 6220)
    add(cidm, 1000, f"Getting CCM Token from https://{MP}/CCM_STS", "ClientIDManagerStartup", 1, 6220)
    t2 = t
    tiss2 = t2 + timedelta(milliseconds=600)
    server_chain(rnd, server, t2, tiss2, ids)
    exp2 = tiss2 + timedelta(hours=8) - timedelta(minutes=bias)
    add(cidm, 1000, f"Cached encrypted token for 'S-1-5-18'. Will expire at '{exp2:%m/%d/%Y %H:%M:%S}'", "ClientIDManagerStartup", 1, 6220)
    for _ in range(rnd.randrange(100, 400)):
        mid = gid(rnd).upper()
        add(msg, rnd.randrange(1000, 60000), rnd.choice(NOISE_MSG).replace("%s", mid), "CcmMessaging", 1, 4420)
        add(ls, rnd.randrange(1, 10), "Current AD site of machine is Default-First-Site-Name", "LocationServices", 1, 812)
    return f


def server_chain(rnd, server, treq, tiss, ids):
    server.append(("hop", treq + timedelta(milliseconds=700), None, ids))
    server.append(("sts", tiss, None, ids))


def render_server(kind, t, thread, ids, rnd):
    if kind == "sts":
        th = rnd.randrange(1000, 3000)
        return ("sts", [
            (t, cm(t, MP_BIAS, "ProcessRequest - Start", "CCM_STS", 1, th)),
            (t, cm(t + timedelta(milliseconds=2), MP_BIAS, f"Incoming request URL: https://{MP}/CCM_STS", "CCM_STS", 1, th)),
            (t, cm(t + timedelta(milliseconds=40), MP_BIAS, f"Validated AAD token. TokenType: Device TenantId: {TENANT} UserId: 00000000-0000-0000-0000-000000000000 DeviceId: {ids['device']} OnPrem_UserSid:  OnPrem_DeviceSid:", "CCM_STS", 1, th)),
            (t, cm(t + timedelta(milliseconds=60), MP_BIAS, f"Created SCCM token, token type: Device, hierarchyId: {HIER}, userId: 23bbbba2-702e-4db4-8fd9-3b4fe3a5175d, deviceId: {ids['guid']}", "CCM_STS", 1, th)),
            (t, cm(t + timedelta(milliseconds=62), MP_BIAS, "Return token to client", "CCM_STS", 1, th)),
        ])
    if kind == "mpreg":
        return ("mpreg", [
            (t, cm(t, MP_BIAS, f"Registering device using AAD auth: DeviceId='{ids['device']} ', TenantId='{TENANT}'", "MP_RegistrationManager", 1, thread)),
            (t, cm(t + timedelta(milliseconds=20), MP_BIAS, f"Processing Registration request from Client '{ids['guid']}'", "MP_RegistrationManager", 1, thread)),
        ])
    # hop: connector rewrite + result
    mid = gid(rnd)
    return ("cp", [
        (t, sms(t, CP_BIAS, f"Switched to internal URL. Replaced 'https://{CMG}/CCM_Proxy_MutualAuth/{CMGID}/CCM_STS' in   'https://{CMG}/CCM_Proxy_MutualAuth/{CMGID}/CCM_STS' with 'https://{MP}/CCM_STS' and got 'https:///{MP}/CCM_STS~~", "SMS_CLOUD_PROXYCONNECTOR", 7788)),
        (t, sms(t + timedelta(milliseconds=90), CP_BIAS, f"MessageID: {mid} RequestURI: https://{MP}/CCM_STS EndpointName: CCM_STS ResponseHeader: HTTP/1.1 200 OK ~~ ResponseBodySize: 0 ElapsedTime: 88 ms~~", "SMS_CLOUD_PROXYCONNECTOR", 7788)),
    ])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="bench-corpus")
    ap.add_argument("--devices", type=int, default=2000)
    ap.add_argument("--server-mb", type=int, default=900)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--profile", choices=("stress", "fleet"), default="stress")
    ap.add_argument("--client-other-kb", type=int, default=2600,
                    help="fleet: bytes of other agent logs per client")
    ap.add_argument("--server-file-mb", type=int, default=5, help="fleet: server logs roll over at this size")
    a = ap.parse_args()
    fleet = a.profile == "fleet"
    rnd = random.Random(a.seed)
    out = a.out
    server = []
    total_bytes = total_lines = files = 0

    def write(rel, lines, utf16=False):
        nonlocal total_bytes, total_lines, files
        p = os.path.join(out, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        text = "\r\n".join(lines) + "\r\n"
        data = (b"\xff\xfe" + text.encode("utf-16-le")) if utf16 else text.encode("utf-8")
        with open(p, "wb") as fh:
            fh.write(data)
        total_bytes += len(data)
        total_lines += text.count("\n")
        files += 1

    for i in range(a.devices):
        host = f"PC-{i:05d}"
        bias = BIASES[i % len(BIASES)]
        ids = dict(guid="GUID:" + gid(rnd).upper(), device=gid(rnd), user=gid(rnd),
                   sid="S-1-5-21-%d-%d-%d-%d" % (rnd.randrange(10**9), rnd.randrange(10**9), rnd.randrange(10**9), 1000 + i))
        r = rnd.random()
        fail = "rootca" if r < 0.02 else "fallback" if r < 0.07 else "exit6" if r < 0.09 else None
        t0 = BASE + timedelta(seconds=rnd.randrange(0, 8 * 3600))
        for rel, lines in client_files(rnd, i, host, bias, ids, t0, fail, server).items():
            if not lines:
                continue
            if rel.endswith("ccmsetup.log") and i % 10 == 0:
                half = len(lines) // 2
                write(rel[:-4] + ".lo_", lines[:half])
                lines = lines[half:]
            write(rel, lines, utf16=(i % 3 == 0 and "/CCM/" in rel))
        if fleet:
            for rel, lines in other_client_logs(rnd, host, bias, t0, a.client_other_kb * 1024).items():
                write(rel, lines, utf16=(i % 3 == 0))

    # Server logs: the fleet's own requests, then background traffic until the size target.
    streams = {"sts": [], "mpreg": [], "cp": []}
    for kind, t, thread, ids in server:
        k, lines = render_server(kind, t, thread, ids, rnd)
        streams[k].extend(lines)
    target = a.server_mb * 1024 * 1024
    size = sum(len(l) + 2 for s in streams.values() for _, l in s)
    t = BASE
    n = 0
    while size < target:
        t += timedelta(milliseconds=rnd.randrange(5, 400))
        ids = dict(guid="GUID:" + gid(rnd).upper(), device=gid(rnd))
        n += 1
        for kind in ("hop", "sts") if n % 5 else ("mpreg",):
            k, lines = render_server(kind, t, 2200 + n % 64, ids, rnd)
            streams[k].extend(lines)
            size += sum(len(l) + 2 for _, l in lines)
        # Lines that matter to nobody: most of what busy site systems write.
        for k, line in (
            ("mpreg", cm(t, MP_BIAS, "MP_ClientIDManager: policy request processed for client", "MP_Policy", 1, 900)),
            ("sts", cm(t, MP_BIAS, "TokenType is Device", "CCM_STS", 1, 1500)),
            ("sts", cm(t, MP_BIAS, "Issued token", "CCM_STS", 1, 1500)),
            ("cp", sms(t, CP_BIAS, "Maintaining connections...", "SMS_CLOUD_PROXYCONNECTOR", 7790)),
            ("cp", sms(t, CP_BIAS, f"Received response for message {gid(rnd)} with status 200~~", "SMS_CLOUD_PROXYCONNECTOR", 7790)),
            ("cp", sms(t, CP_BIAS, "Connection 4 to CMG is healthy. Outstanding requests: 0", "SMS_CLOUD_PROXYCONNECTOR", 7790)),
        ):
            streams[k].append((t, line))
            size += len(line) + 2
    for k in streams:
        streams[k].sort(key=lambda x: x[0])
    def write_server(rel, lines):
        """One file (stress), or rolled over every --server-file-mb (fleet): dated history files, then the
        current log."""
        if not fleet:
            write(rel, [l for _, l in lines])
            return
        cap, part, size = a.server_file_mb * 1024 * 1024, [], 0
        for t, l in lines:
            part.append(l)
            size += len(l) + 2
            if size >= cap:
                write(rel[:-4] + f"-{t:%Y%m%d-%H%M%S}.log", part)
                part, size = [], 0
        write(rel, part)

    write_server("MP01/SMS_CCM/Logs/CCM_STS.log", streams["sts"])
    write_server("MP01/SMS_CCM/Logs/MP_RegistrationManager.log", streams["mpreg"])
    write_server("CPSRV01/Program Files/Microsoft Configuration Manager/Logs/SMS_CLOUD_PROXYCONNECTOR.log", streams["cp"])
    cmg = []
    t = BASE
    while t < BASE + timedelta(hours=9):
        t += timedelta(minutes=5)
        cmg.append(sms(t, 0, f"RequestUri: /CCM_PROXY_SERVERAUTH/{CMGID}/CCM_STS  RequestCount: {rnd.randrange(50, 900)}  RequestSize: 1081595 Bytes  ResponseCount: 769  ResponseSize: 36143 Bytes  AverageElapsedTime: {rnd.randrange(100, 4000)} ms~~", "CMGService"))
    write("SITE01/Program Files/Microsoft Configuration Manager/Logs/CMG-fleetcmg-ProxyService_IN_0-CMGService.log", cmg)
    print(f"{a.profile}: {files} files, {total_bytes / 1048576:.1f} MB, {total_lines} lines, {a.devices} devices in {out}")


if __name__ == "__main__":
    main()
