#!/usr/bin/python3
# gentoo-infra: netboot switch of the install host. Rendered file: edits are overwritten.
# For every known MAC: local boot once a successful install of its current generation is
# reported, the installer otherwise. Run by @SERVICE@ and after every push.
#
# Source: lib/pxe/netboot-switch.py, rendered by renderNetbootSwitchScript
# (lib/pxe/netboot-switch.ts), which fills in the values in the block below. One process:
# it runs after every push and for every install report, and a process per file (a shell
# script's cmp, install and mv) cost seconds per machine on a slow install host.
import fcntl
import grp
import os
import pwd
import re
import sys

CONF = "@CONFIG_DIR@"
WWW = "@WWW_ROOT@"
STATE = "@STATE_DIR@"
INBOX = os.path.join(STATE, "@REPORT_INBOX@")
REPORTS = os.path.join(STATE, "@REPORT_STORE@")
WEB_USER = "@NGINX_USER@"

GENERATION = re.compile(r"[1-9][0-9]{0,8}")


def directory(path, mode, uid=0, gid=0):
    """`install -d`: made if missing, its mode and owner set."""
    os.makedirs(path, mode=mode, exist_ok=True)
    os.chown(path, uid, gid)
    os.chmod(path, mode)


def same_content(a, b):
    try:
        with open(a, "rb") as x, open(b, "rb") as y:
            return x.read() == y.read()
    except FileNotFoundError:
        return False


def put(mode, gid, src, dst):
    """SRC becomes DST by rename, and only when DST differs: machines fetch their files while
    other machines' reports run this switch, and a file written in place would be missing or
    unreadable for a moment (found with four machines installing at once: a 403 on a ca.pem)."""
    if same_content(src, dst):
        return
    with open(src, "rb") as f:
        data = f.read()
    tmp = dst + ".tmp"
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        os.fchown(fd, 0, gid)
        os.fchmod(fd, mode)
    os.replace(tmp, dst)


def remove(path):
    """`rm -rf`."""
    if os.path.isdir(path) and not os.path.islink(path):
        for entry in os.listdir(path):
            remove(os.path.join(path, entry))
        os.rmdir(path)
    else:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def reported_generation(mac):
    """The generation of the machine's last successful install report, 0 if none."""
    try:
        with open(os.path.join(REPORTS, mac), encoding="utf-8", errors="replace") as f:
            lines = f.read().split("\n")
    except FileNotFoundError:
        return 0
    status = next((line[len("status=") :] for line in lines if line.startswith("status=")), None)
    generation = next(
        (
            line[len("generation=") :]
            for line in lines
            if line.startswith("generation=") and GENERATION.fullmatch(line[len("generation=") :])
        ),
        None,
    )
    return int(generation) if status == "success" and generation else 0


def visible(path):
    """What the shell's `path/*` lists: the names not starting with a dot."""
    try:
        return sorted(n for n in os.listdir(path) if not n.startswith("."))
    except FileNotFoundError:
        return []


def main():
    web_uid = pwd.getpwnam(WEB_USER).pw_uid
    web_gid = grp.getgrnam(WEB_USER).gr_gid
    for d in ("ipxe", "install", "secrets"):
        os.makedirs(os.path.join(WWW, d), mode=0o755, exist_ok=True)
        os.chmod(os.path.join(WWW, d), 0o755)
    os.makedirs(STATE, mode=0o755, exist_ok=True)
    # One switch at a time: a report (the path unit) and a push can start it together.
    lock = open(os.path.join(STATE, "switch.lock"), "a")
    fcntl.flock(lock, fcntl.LOCK_EX)
    directory(INBOX, 0o750, web_uid, web_gid)
    directory(os.path.join(STATE, "tmp"), 0o750, web_uid, web_gid)
    directory(REPORTS, 0o750)

    # New reports leave the inbox first: the path unit starts this switch while the inbox is
    # not empty, also when a report arrived during a run (systemd drops an edge trigger such
    # as PathChanged= while the switch runs, so with several machines reporting at once a
    # report could go unread and its machine boot the installer again).
    for name in visible(INBOX):
        path = os.path.join(INBOX, name)
        if os.path.isfile(path):
            os.replace(path, os.path.join(REPORTS, name))

    known = set()
    with open(os.path.join(CONF, "netboot.tsv"), encoding="utf-8") as table:
        for line in table:
            fields = line.split()
            if not fields or fields[0].startswith("#"):
                continue
            mac, generation = fields[0], int(fields[1])
            known.add(mac)
            machine = os.path.join(CONF, "machines", mac)
            secrets = os.path.join(WWW, "secrets", mac)
            served = os.path.join(WWW, "ipxe", mac + ".ipxe")
            if reported_generation(mac) >= generation:
                # Installed: boot the local disk first, then take the secrets off the web root.
                put(0o644, 0, os.path.join(machine, "local.ipxe"), served)
                remove(os.path.join(WWW, "install", mac + ".json"))
                remove(secrets)
            else:
                # To install: configuration and secrets first, the install script last.
                put(
                    0o640,
                    web_gid,
                    os.path.join(machine, "install.json"),
                    os.path.join(WWW, "install", mac + ".json"),
                )
                if not os.path.isdir(secrets):
                    os.mkdir(secrets, 0o750)
                    os.chown(secrets, 0, web_gid)
                    os.chmod(secrets, 0o750)
                for mode, gid, src in (
                    (0o644, 0, os.path.join(CONF, "ca.pem")),
                    (0o644, 0, os.path.join(CONF, "puppet-ca.pem")),
                    (0o644, 0, os.path.join(machine, "host.pem")),
                    (0o640, web_gid, os.path.join(machine, "host.key")),
                    (0o644, 0, os.path.join(machine, "puppet.pem")),
                    (0o640, web_gid, os.path.join(machine, "puppet.key")),
                ):
                    put(mode, gid, src, os.path.join(secrets, os.path.basename(src)))
                put(0o644, 0, os.path.join(machine, "install.ipxe"), served)

    # MACs no longer known: their files leave the web root (dnsmasq no longer sends them here).
    for sub, suffix in (("ipxe", ".ipxe"), ("install", ".json"), ("secrets", "")):
        for name in visible(os.path.join(WWW, sub)):
            if not name.endswith(suffix):
                continue
            mac = name.split(".", 1)[0]
            if mac != "default" and mac not in known:
                remove(os.path.join(WWW, sub, name))


if __name__ == "__main__":
    try:
        main()
    except (OSError, KeyError, ValueError, IndexError) as error:
        print(f"gi-pxe-netboot-switch: {error}", file=sys.stderr)
        sys.exit(1)
