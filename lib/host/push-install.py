"""Installs a gentoo-infra push on a server (lib/host/file-push.ts), run as root.

Reads one tar archive from standard input: first the plan (push.json: the files with their
archive member, destination, mode and owner; the paths to remove; the command to run after a
change), then each file's bytes (files/<n>). Python 3 is on every server we push to: cloud-init
and Portage are written in it.

Every file is first written beside its destination (<path>.gi-push, parent directories made),
owned and moded as planned. Only when all are there is each renamed into place (a rename is
atomic); then removed files go and the command runs. A failure before the renames leaves every
destination as it was and no .gi-push file behind. One process does it all: on a slow guest a
process per file (install, mv) cost more than the files themselves.
"""

import grp
import json
import os
import pwd
import subprocess
import sys
import tarfile

PLAN_MEMBER = "push.json"
INCOMING_SUFFIX = ".gi-push"


class PushError(Exception):
    """What went wrong, in one line for the up's error."""


def owner_ids(owner, path):
    """The uid and gid of `user:group` (names or numbers)."""
    user, _, group = owner.partition(":")

    def lookup(name, getter, kind):
        try:
            return getter(name)
        except KeyError:
            if name.isdigit():
                return int(name)
            raise PushError(f"{path}: no {kind} {name!r} on this server") from None

    uid = lookup(user, lambda n: pwd.getpwnam(n).pw_uid, "user")
    gid = lookup(group or "root", lambda n: grp.getgrnam(n).gr_gid, "group")
    return uid, gid


def write_incoming(path, data, mode, owner):
    """Writes <path>.gi-push; returns its name."""
    incoming = path + INCOMING_SUFFIX
    uid, gid = owner_ids(owner, path)
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    try:
        os.unlink(incoming)
    except FileNotFoundError:
        pass
    fd = os.open(incoming, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        os.fchown(fd, uid, gid)
        # After the chown, which clears set-id bits.
        os.fchmod(fd, int(mode, 8))
    return incoming


def main():
    archive = tarfile.open(fileobj=sys.stdin.buffer, mode="r|")
    plan = None
    by_member = {}
    staged = []
    try:
        for member in archive:
            stream = archive.extractfile(member)
            if stream is None:
                raise PushError(f"{member.name}: not a regular file in the archive")
            data = stream.read()
            if plan is None:
                if member.name != PLAN_MEMBER:
                    raise PushError(f"the archive starts with {member.name}, not {PLAN_MEMBER}")
                plan = json.loads(data)
                by_member = {f"files/{f['member']}": f for f in plan["files"]}
                continue
            entry = by_member.pop(member.name, None)
            if entry is None:
                raise PushError(f"{member.name}: not in the plan")
            staged.append(
                (write_incoming(entry["path"], data, entry["mode"], entry["owner"]), entry["path"])
            )
        if plan is None:
            raise PushError("the archive holds no plan")
        if by_member:
            raise PushError(f"the archive lacks {', '.join(sorted(by_member))}")
    except BaseException:
        for incoming, _ in staged:
            try:
                os.unlink(incoming)
            except OSError:
                pass
        raise
    for incoming, path in staged:
        os.replace(incoming, path)
    for path in plan["remove"]:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
    command = plan.get("afterChange") or ""
    if command:
        sys.stdout.flush()
        return subprocess.run(["sh", "-c", command], check=False).returncode
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (PushError, OSError, ValueError, KeyError, tarfile.TarError) as error:
        print(f"push: {error}", file=sys.stderr)
        sys.exit(1)
