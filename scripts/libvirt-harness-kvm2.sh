# shellcheck shell=bash
# The second hypervisor of the test harness (`scripts/libvirt-harness ... --hypervisors 2`),
# sourced by scripts/libvirt-harness, whose helpers (say, alive, need, stop_pid, $ns, $dir)
# it uses. A second, real libvirtd as another host would run it: its own network namespace,
# its own /run/libvirt, /var/lib/libvirt, /var/cache/libvirt, /var/log/libvirt and
# /etc/libvirt (a private mount namespace), and an sshd beside it; clients reach it only
# over qemu+ssh from the first namespace. See docs/libvirt.md "A second hypervisor".
#
# Layout (GI_NETNS2 default: <GI_NETNS>-kvm2):
#   namespace $ns  gi-kvm2 10.255.254.1/30 --veth-- gi-kvm1 10.255.254.2/30  namespace $ns2
#   $ns:  10.252.0.0/16 via 10.255.254.2 (the guest networks of the second hypervisor)
#   $ns2: default via 10.255.254.1 (every guest network of the first hypervisor; $ns itself
#         has no route out of the namespaces)
# $dir2/host: what the second host holds (its libvirt directories, sshd_config, host key,
#   root's authorized_keys); $dir2/client: what a client holds (its key, known_hosts, the
#   ssh command virsh runs, the URI); $dir2: pid files and markers of the harness.

: "${ns:?}" "${dir:?}" # set by scripts/libvirt-harness
ns2=${GI_NETNS2:-$ns-kvm2}
dir2="$GI_CACHE/libvirt-harness-kvm2"
host2="$dir2/host"
client2="$dir2/client"
# The transit link and the supernet routed to the second hypervisor's guest networks.
link1=gi-kvm2 link2=gi-kvm1
addr1=10.255.254.1 addr2=10.255.254.2 transit=10.255.254.0/30
guests2=10.252.0.0/16
# Where the second host's libvirt directories are bound, below $host2.
libvirt_dirs=(run:/run/libvirt lib:/var/lib/libvirt cache:/var/cache/libvirt log:/var/log/libvirt etc:/etc/libvirt)

say2() { echo "libvirt-harness (kvm2): $*"; }
# Whether process $1 lives in the second namespace.
in_ns2() { [ -e "/run/netns/$ns2" ] && [ "$(stat -L -c %i "/proc/$1/ns/net" 2>/dev/null)" = "$(stat -L -c %i "/run/netns/$ns2")" ]; }
running2() { alive "$dir2/libvirtd.pid" && in_ns2 "$(cat "$dir2/libvirtd.pid")"; }
# The pids of the second hypervisor's daemons (for the first harness: these are not foreign).
own2() { local f; for f in "$dir2"/{libvirtd,virtlogd,sshd}.pid; do [ -f "$f" ] && cat "$f"; done; true; }
# virsh on the second host, through its unix socket in its mount namespace (as its own
# administrator would; stop must work even when ssh does not).
virsh2() { nsenter -t "$(cat "$dir2/libvirtd.pid")" -m -n virsh -q -c qemu:///system "$@"; }

# The URI clients in the first namespace use: keyfile for both clients; knownhosts for the
# libvirt provider's Go client (terraform-provider-libvirt's libvirt/uri/ssh.go); command for
# libvirt's own client (virsh), whose ssh transport runs the OpenSSH client and ignores
# known_hosts: the wrapper gives it the same known_hosts and BatchMode.
uri2() {
  echo "qemu+ssh://root@$addr2/system?keyfile=$client2/id_ed25519&knownhosts=$client2/known_hosts&command=$client2/ssh"
}

# The link between the namespaces, its addresses and routes; idempotent (the link goes with
# the first namespace when the first harness removes it).
link2_up() {
  if ! ip -n "$ns" link show "$link1" >/dev/null 2>&1; then
    local used
    used=$(ip -n "$ns" -4 -o addr show | awk '{print $4}' | grep -E '^10\.(255\.254|252)\.' || true)
    if [ -n "$used" ]; then
      echo "libvirt-harness: netns $ns already uses $used, inside $transit or $guests2 that the second hypervisor needs" >&2
      stop2
      exit 1
    fi
    ip -n "$ns2" link del "$link2" 2>/dev/null || true
    ip -n "$ns" link add "$link1" type veth peer name "$link2" netns "$ns2"
    ip -n "$ns" addr add "$addr1/30" dev "$link1"
    ip -n "$ns2" addr add "$addr2/30" dev "$link2"
  fi
  ip -n "$ns" link set "$link1" up
  ip -n "$ns2" link set "$link2" up
  ip -n "$ns" route replace "$guests2" via "$addr2" dev "$link1"
  ip -n "$ns2" route replace default via "$addr1" dev "$link2"
}

# Keys, known_hosts, sshd_config and the client's ssh command; made once, kept across starts.
keys2() {
  mkdir -p "$host2" "$client2"
  chmod 700 "$client2"
  [ -f "$host2/ssh_host_ed25519_key" ] ||
    ssh-keygen -q -t ed25519 -N '' -C "gentoo-infra-kvm2 host key" -f "$host2/ssh_host_ed25519_key"
  [ -f "$client2/id_ed25519" ] ||
    ssh-keygen -q -t ed25519 -N '' -C "gentoo-infra-harness client" -f "$client2/id_ed25519"
  install -m 600 "$client2/id_ed25519.pub" "$host2/authorized_keys"
  echo "$addr2 $(cut -d' ' -f1,2 "$host2/ssh_host_ed25519_key.pub")" >"$client2/known_hosts"
  cat >"$host2/sshd_config" <<EOF
# sshd of the second hypervisor (scripts/libvirt-harness-kvm2.sh): root by key only, on the
# transit address only. The libvirt provider's Go client opens libvirtd's socket by
# unix-socket forwarding (direct-streamlocal), which sshd refuses unless local TCP
# forwarding is allowed too. StrictModes is off: the authorized key lives under the
# checkout's cache, whose parent directories (a clone in /tmp, say) may be writable by
# others, which StrictModes refuses ("bad ownership or modes for directory /tmp"); the key
# file is the harness's own, 0600 and root's, in a directory only root writes.
ListenAddress $addr2:22
StrictModes no
HostKey $host2/ssh_host_ed25519_key
PidFile $dir2/sshd.pid
AuthorizedKeysFile $host2/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
AllowAgentForwarding no
AllowTcpForwarding local
AllowStreamLocalForwarding local
X11Forwarding no
PermitTTY no
Subsystem sftp none
EOF
  cat >"$client2/ssh_config" <<EOF
# The OpenSSH client settings of virsh's qemu+ssh transport (through $client2/ssh).
UserKnownHostsFile $client2/known_hosts
GlobalKnownHostsFile /dev/null
StrictHostKeyChecking yes
BatchMode yes
IdentitiesOnly yes
EOF
  cat >"$client2/ssh" <<EOF
#!/bin/sh
# ssh as libvirt's client runs it for qemu+ssh (the URI's command=), with the harness's
# known_hosts: libvirt passes -i from the URI's keyfile.
exec ssh -F $client2/ssh_config "\$@"
EOF
  chmod 755 "$client2/ssh"
  uri2 >"$client2/uri"
}

# The second host's /etc/libvirt and empty state directories, as a fresh install has them.
dirs2() {
  local d
  for d in "${libvirt_dirs[@]}"; do mkdir -p "$host2/${d%%:*}"; done
  chmod 755 "$host2/lib" "$host2/log" "$host2/run"
  chmod 711 "$host2/cache"
  mkdir -p "$host2/lib/images" "$host2/lib/dnsmasq" "$host2/lib/boot"
  chmod 711 "$host2/lib/images"
  # Where QEMU's serial logs go (a Hypervisor's default logDirectory): the package makes it on
  # a real host, libvirtd does not.
  install -d -m 700 "$host2/log/qemu"
  if [ ! -f "$host2/etc/libvirtd.conf" ]; then
    # The machine's configuration without its definitions (qemu/: domains, networks).
    cp -a /etc/libvirt/. "$host2/etc/"
    rm -rf "$host2/etc/qemu" "$host2/etc/storage"
    mkdir -p "$host2/etc/qemu/networks/autostart" "$host2/etc/qemu/autostart" "$host2/etc/storage/autostart"
  fi
  install -m 644 "$GI_ROOT/scripts/libvirtd.conf" "$host2/etc/libvirtd.conf"
  # /run is empty after a boot: no sockets, pid files or autostart markers of an earlier start.
  find "$host2/run" -mindepth 1 -delete
}

start2() {
  need sshd openssh-server; need ssh openssh-client; need ssh-keygen openssh-client
  need virt-ssh-helper libvirt-daemon; need nsenter util-linux
  if running2; then
    link2_up
    say2 "already running: libvirtd $(cat "$dir2/libvirtd.pid") in netns $ns2; $(uri2)"
    return
  fi
  # What an earlier start left (a daemon without its libvirtd) goes first.
  stop2 >/dev/null
  mkdir -p "$dir2"
  if ! ip netns list | grep -qE "^$ns2( |\$)"; then
    ip netns add "$ns2"
    touch "$dir2/netns-created"
  fi
  ip -n "$ns2" link set lo up
  link2_up
  keys2
  dirs2
  # The same choice about /dev/kvm as the first hypervisor's (see start).
  local kvm
  kvm=$(cat "$dir/kvm")
  if [ "$kvm" = hide ]; then
    install -m 644 "$GI_ROOT/scripts/libvirt-qemu.conf" "$host2/etc/qemu.conf"
  else
    install -m 644 /etc/libvirt/qemu.conf "$host2/etc/qemu.conf"
  fi
  : >"$dir2/no-kvm"
  chmod 000 "$dir2/no-kvm"
  mkdir -p /run/sshd # sshd's privilege separation directory
  # One mount namespace (that of this `ip netns exec`) for the three daemons: they keep it.
  # shellcheck disable=SC2016 # expanded by the inner shell
  ip netns exec "$ns2" sh -c 'set -e
      host=$1 state=$2 kvm=$3; shift 3
      for d in "$@"; do mount --bind "$host/${d%%:*}" "${d#*:}"; done
      if [ "$kvm" = hide ]; then mount --bind "$state/no-kvm" /dev/kvm; fi
      virtlogd -d -p "$state/virtlogd.pid"
      LIBVIRT_LOG_OUTPUTS="3:file:/var/log/libvirt/libvirtd.log" libvirtd -d -p "$state/libvirtd.pid"
      /usr/sbin/sshd -f "$host/sshd_config" -E "$state/sshd.log"' \
    sh "$host2" "$dir2" "$kvm" "${libvirt_dirs[@]}" 8>&- # not the lease lock
  local uri
  uri=$(uri2)
  for _ in $(seq 1 150); do
    if alive "$dir2/libvirtd.pid" && alive "$dir2/sshd.pid" &&
      ip netns exec "$ns" virsh -c "$uri" version >/dev/null 2>&1; then
      in_ns2 "$(cat "$dir2/libvirtd.pid")" || { echo "libvirt-harness: the second libvirtd is not in netns $ns2" >&2; stop2; exit 1; }
      if [ -x /usr/bin/qemu-system-x86_64 ]; then # see start
        virsh2 domcapabilities --virttype qemu --arch x86_64 --machine pc \
          --emulatorbin /usr/bin/qemu-system-x86_64 >/dev/null 2>&1 || true
      fi
      say2 "libvirtd $(cat "$dir2/libvirtd.pid") (virtlogd $(cat "$dir2/virtlogd.pid"), sshd $(cat "$dir2/sshd.pid")) up in netns $ns2; /dev/kvm: $kvm"
      say2 "uri: $uri (also in $client2/uri)"
      return
    fi
    sleep 0.2
  done
  echo "libvirt-harness: the second libvirtd did not answer on $uri within 30 s (logs: $host2/log/libvirtd.log, $dir2/sshd.log)" >&2
  stop2; exit 1
}

stop2() {
  local d n f p left stopped=""
  if running2; then
    for d in $(virsh2 list --name 2>/dev/null); do
      virsh2 destroy "$d" >/dev/null 2>&1 && say2 "destroyed domain $d"
    done
    for n in $(virsh2 net-list --name 2>/dev/null); do
      virsh2 net-destroy "$n" >/dev/null 2>&1 && say2 "stopped network $n"
    done
  fi
  # The sessions of its sshd first: killing the listener leaves them, and a client that keeps
  # its connection open (a libvirt provider, a virsh) would keep them in the namespace.
  if alive "$dir2/sshd.pid" && in_ns2 "$(cat "$dir2/sshd.pid")"; then
    for p in $(pgrep -P "$(cat "$dir2/sshd.pid")" 2>/dev/null); do stop_pid "ssh session (kvm2)" "$p"; done
  fi
  for d in sshd libvirtd virtlogd; do
    if alive "$dir2/$d.pid"; then stop_pid "$d (kvm2)" "$(cat "$dir2/$d.pid")"; stopped=1; fi
    rm -f "$dir2/$d.pid"
  done
  if [ -e "/run/netns/$ns2" ]; then
    # Guests and dnsmasqs libvirt recorded in the second host's /run/libvirt.
    for f in "$host2"/run/qemu/*.pid "$host2"/run/network/*.pid; do
      [ -f "$f" ] || continue
      case "$f" in */driver.pid) continue ;; esac
      p=$(cat "$f" 2>/dev/null || true)
      if [ -n "$p" ] && kill -0 "$p" 2>/dev/null && in_ns2 "$p"; then stop_pid "$(basename "$f" .pid) (kvm2)" "$p"; fi
    done
  fi
  if [ -e "/run/netns/$ns" ] && ip -n "$ns" link show "$link1" >/dev/null 2>&1; then
    ip -n "$ns" link del "$link1" # and its peer in $ns2
    say2 "removed link $link1"
  fi
  if [ -e "/run/netns/$ns2" ]; then
    left=$(pids_left_in "$ns2")
    if [ -n "$left" ]; then
      # shellcheck disable=SC2086 # one pid per word
      echo "libvirt-harness: processes we did not start remain in netns $ns2: $(describe_pids $left); leaving the namespace in place" >&2
    elif [ -f "$dir2/netns-created" ]; then
      ip netns del "$ns2"
      rm -f "$dir2/netns-created"
      say2 "removed netns $ns2"
    fi
    stopped=1
  fi
  if [ -d "$host2/run" ] && [ -z "${left:-}" ]; then find "$host2/run" -mindepth 1 -delete; fi
  rm -f "$dir2/no-kvm" "$dir2/started-by-use"
  if [ -n "$stopped" ]; then say2 "stopped"; fi
}

status2() {
  if running2 && ip -n "$ns" link show "$link1" >/dev/null 2>&1 && alive "$dir2/sshd.pid"; then
    say2 "running: libvirtd $(cat "$dir2/libvirtd.pid"), sshd $(cat "$dir2/sshd.pid") in netns $ns2; $(uri2)"
  else
    say2 "stopped"
    return 3
  fi
}
