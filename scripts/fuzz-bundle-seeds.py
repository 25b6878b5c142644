#!/usr/bin/env python3
"""Pack the fixture bundles into seed inputs of the `bundle` fuzz target (fuzz/bundle_format.rs):
each file becomes [host: u8][name: u8][length: u16 LE][body]. Run from the repository root:
    python3 scripts/fuzz-bundle-seeds.py fuzz/seeds/bundle
"""
import os
import struct
import sys

# Must follow HOSTS and NAMES in fuzz/bundle_format.rs.
NAMES = [
    "ccmsetup.log", "ClientIDManagerStartup.log", "ADALOperationProvider.log", "CcmMessaging.log",
    "LocationServices.log", "CCM_STS.log", "CMGService.log", "CMG-contosocmg-ProxyService_IN_0-CMGService.log",
    "SMS_CLOUD_PROXYCONNECTOR.log", "MP_RegistrationManager.log", "ccmsetup.lo_",
    "ccmsetup-20200204-151029.log", "execmgr.log", "bundle.zip", "notes.txt",
]
CLIENT_LOGS = {n.lower() for n in NAMES[:5]}


def host_index(name, role_hosts):
    lower = name.lower()
    if lower in CLIENT_LOGS or lower.startswith("ccmsetup"):
        return 0 if role_hosts.setdefault("client", 0) == 0 else 5
    if lower in ("ccm_sts.log", "mp_registrationmanager.log"):
        return 2
    if lower.startswith("sms_cloud"):
        return 3
    return 4


def pack(bundle):
    out = bytearray()
    role_hosts = {}
    for dirpath, _, files in sorted(os.walk(bundle)):
        for f in sorted(files):
            if f not in NAMES and f.lower() not in {n.lower() for n in NAMES}:
                continue
            name = next(i for i, n in enumerate(NAMES) if n.lower() == f.lower())
            body = open(os.path.join(dirpath, f), "rb").read()[:65535]
            out += struct.pack("<BBH", host_index(f, role_hosts), name, len(body)) + body
    return bytes(out)


def main():
    dest = sys.argv[1]
    os.makedirs(dest, exist_ok=True)
    roots = ["fixtures/demo/case-1234"]
    for group in ("fixtures/bundles", "fixtures/rules"):
        roots += [os.path.join(group, d) for d in sorted(os.listdir(group)) if os.path.isdir(os.path.join(group, d))]
    for r in roots:
        data = pack(r)
        if data:
            open(os.path.join(dest, r.replace("/", "_")), "wb").write(data)
    print(f"{len(roots)} seeds in {dest}")


if __name__ == "__main__":
    main()
