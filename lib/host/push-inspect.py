"""Reports what a gentoo-infra push's files are on this server now (lib/host/file-push.ts, run
by `pulumi refresh`), as root.

Reads a JSON request from standard input: {"files": [path, ...], "secret": [path, ...]}.
Prints one JSON object: each path maps to {"sha256", "mode" (4 octal digits), "owner"
("user:group")}, with "content" (base64) for the secret paths, whose fingerprint the provider
computes (it holds the key); or to {"missing": true} when the path is not a regular file.
"""

import base64
import grp
import hashlib
import json
import os
import pwd
import stat
import sys


def name_of(lookup, number):
    try:
        return lookup(number)
    except KeyError:
        return str(number)


def inspect(path, secret):
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return {"missing": True}
    if not stat.S_ISREG(st.st_mode):
        return {"missing": True}
    with open(path, "rb") as f:
        data = f.read()
    entry = {
        "sha256": hashlib.sha256(data).hexdigest(),
        "mode": format(stat.S_IMODE(st.st_mode), "04o"),
        "owner": name_of(lambda n: pwd.getpwuid(n).pw_name, st.st_uid)
        + ":"
        + name_of(lambda n: grp.getgrgid(n).gr_name, st.st_gid),
    }
    if secret:
        entry["content"] = base64.b64encode(data).decode("ascii")
    return entry


def main():
    request = json.load(sys.stdin)
    secret = set(request["secret"])
    json.dump({path: inspect(path, path in secret) for path in request["files"]}, sys.stdout)


if __name__ == "__main__":
    try:
        main()
    except (OSError, ValueError, KeyError) as error:
        print(f"push inspect: {error}", file=sys.stderr)
        sys.exit(1)
