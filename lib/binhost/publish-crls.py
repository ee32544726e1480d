#!/usr/bin/env python3
# gentoo-infra BinhostMirror: publishes the RootCa's CRLs.
# Usage: publish-crls <bundle.json> <dir>. Writes each name -> PEM of the bundle to <dir>/<name>
# atomically (0644) and removes the other *.crl files of <dir>, so that a CRL RootCa no longer
# signs disappears. Names must be plain file names ending .crl.
# Copied from lib/binhost/publish-crls.py by BinhostMirror: edits on the binhost are
# overwritten.
import json
import os
import re
import sys
import tempfile

bundle, target = sys.argv[1], sys.argv[2]
with open(bundle, encoding="utf-8") as f:
    files = json.load(f)
for name in files:
    if not re.fullmatch(r"[A-Za-z0-9._-]+\.crl", name):
        sys.exit(f"publish-crls: refusing file name {name!r}")
os.makedirs(target, mode=0o755, exist_ok=True)
for name, pem in files.items():
    fd, tmp = tempfile.mkstemp(dir=target, prefix=".publish-")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(pem)
    os.chmod(tmp, 0o644)
    os.replace(tmp, os.path.join(target, name))
for name in os.listdir(target):
    if name.endswith(".crl") and name not in files:
        os.remove(os.path.join(target, name))
