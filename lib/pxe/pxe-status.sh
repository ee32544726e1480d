#!/bin/sh
# gentoo-infra: install status of the install host's machines.
# Usage: gi-pxe-status [-H]   (-H: no header)
# Rendered from lib/pxe/pxe-status.sh by renderStatusScript (the values below are filled in):
# edits on the install host are overwritten.
set -eu
conf=@CONFIG_DIR@
www=@WWW_ROOT@
inbox=@REPORT_INBOX@
reports=@REPORT_STORE@
# The longest installer message shown, in characters.
message_max=@REPORT_MESSAGE_MAX@

row() { printf '%-17s  %-20s  %-10s  %-7s  %s\n' "$@"; }
[ "${1:-}" = -H ] || row MAC HOST GENERATION NETBOOT "LAST REPORT"
while read -r mac generation hostname; do
  case "$mac" in '' | '#'*) continue ;; esac
  if cmp -s "$www/ipxe/$mac.ipxe" "$conf/machines/$mac/local.ipxe"; then netboot=local; else netboot=install; fi
  # A report the switch has not taken yet is the newest.
  file="$inbox/$mac"
  [ -f "$file" ] || file="$reports/$mac"
  if [ -f "$file" ]; then
    status=$(sed -n 's/^status=//p' "$file" | head -n 1 | cut -c1-20 | tr -c '[:alnum:]\n' '?')
    reported=$(sed -n 's/^generation=\([0-9]\{1,9\}\)$/\1/p' "$file" | head -n 1)
    message=$(sed -n 's/^message=//p' "$file" | head -n 1 | cut -c1-"$message_max" | tr -c ' -~\n' ' ')
    when=$(date -u -r "$file" +%Y-%m-%dT%H:%M:%SZ)
    last="${status:-unreadable} (generation ${reported:-?}, $when)${message:+: $message}"
  else
    last="none"
  fi
  row "$mac" "${hostname:-?}" "$generation" "$netboot" "$last"
done < "$conf/netboot.tsv"
