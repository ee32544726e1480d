# shellcheck shell=bash
# Shared by scripts/build-installer and scripts/build-stage-standin: fetch Debian bookworm
# packages (apt-get download, never installed here), unpack them into a sysroot, copy
# binaries with the shared libraries they need and kernel modules with their dependencies
# into an image tree, and pack an initramfs. Sourced after scripts/env.sh.

GI_INSTALLER_DIR="$GI_ROOT/installer"
GI_DEBS="$GI_CACHE/installer/debs"
GI_SYSROOT="$GI_CACHE/installer/sysroot"

gi_die() { echo "$(basename "$0"): $*" >&2; exit 1; }

# The packages of installer/packages.txt plus the kernel linux-image-cloud-amd64 depends on.
gi_package_names() {
  local kernel
  kernel=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
  [ -n "$kernel" ] || gi_die "apt knows no linux-image-cloud-amd64 (run apt-get update; Debian bookworm sources needed)"
  grep -v '^#' "$GI_INSTALLER_DIR/packages.txt" | grep -v '^$'
  echo "$kernel"
}

# "<package> <version>" per package, sorted: the candidate versions apt would download.
gi_package_versions() {
  # shellcheck disable=SC2046 # one word per package
  apt-cache show --no-all-versions $(gi_package_names) 2>/dev/null |
    awk '/^Package: / { p = $2 } /^Version: / { print p, $2 }' | sort -u
}

# Downloads what is missing (by name and version) into $GI_DEBS and unpacks every package
# into $GI_SYSROOT when the set changed. $1: the output of gi_package_versions.
gi_fetch_and_unpack() {
  local versions=$1 p v want=() f
  mkdir -p "$GI_DEBS"
  while read -r p v; do
    f=$(compgen -G "$GI_DEBS/${p}_${v//:/%3a}_*.deb" | head -n 1 || true)
    [ -n "$f" ] || want+=("$p=$v")
  done <<<"$versions"
  if [ "${#want[@]}" -gt 0 ]; then
    echo "fetching ${#want[@]} Debian packages into $GI_DEBS"
    (cd "$GI_DEBS" && apt-get -q -o APT::Sandbox::User=root download "${want[@]}" >/dev/null) ||
      gi_die "apt-get download failed for: ${want[*]}"
  fi
  if [ "$(cat "$GI_SYSROOT.stamp" 2>/dev/null)" != "$versions" ]; then
    rm -rf "$GI_SYSROOT"
    mkdir -p "$GI_SYSROOT"
    while read -r p v; do
      f=$(compgen -G "$GI_DEBS/${p}_${v//:/%3a}_*.deb" | head -n 1)
      dpkg-deb -x "$f" "$GI_SYSROOT"
    done <<<"$versions"
    printf '%s\n' "$versions" >"$GI_SYSROOT.stamp"
  fi
}

# The kernel release unpacked in the sysroot (e.g. 6.1.0-57-cloud-amd64).
gi_kernel_release() {
  local k
  k=$(ls "$GI_SYSROOT/lib/modules")
  [ "$(echo "$k" | wc -l)" = 1 ] || gi_die "expected one kernel in $GI_SYSROOT/lib/modules, found: $k"
  echo "$k"
}

# Copies sysroot binaries ($2...: absolute paths in the sysroot) into the tree $1, each with
# the shared libraries its dynamic loader resolves inside the sysroot. A library that would
# come from the build machine instead is an error: add its package to installer/packages.txt.
gi_copy_binaries() {
  local dest=$1 bin line lib rel
  shift
  local ld="$GI_SYSROOT/lib64/ld-linux-x86-64.so.2"
  local libpath="$GI_SYSROOT/lib/x86_64-linux-gnu:$GI_SYSROOT/usr/lib/x86_64-linux-gnu"
  for bin in "$@"; do
    [ -e "$GI_SYSROOT$bin" ] || gi_die "no $bin in the unpacked packages"
    install -D -m 0755 "$GI_SYSROOT$bin" "$dest$bin"
    file -L "$GI_SYSROOT$bin" | grep -q 'dynamically linked' || continue
    install -D -m 0755 "$ld" "$dest/lib64/ld-linux-x86-64.so.2"
    while read -r line; do
      case "$line" in
        *"not found"*) gi_die "$bin: ${line%% *} not found: add its Debian package to installer/packages.txt" ;;
        *" => "/*) lib=${line#* => }; lib=${lib%% (*} ;;
        *) continue ;;
      esac
      case "$lib" in
        "$GI_SYSROOT"/*) rel=${lib#"$GI_SYSROOT"} ;;
        *) gi_die "$bin: ${line%% *} would come from the build machine ($lib): add its Debian package to installer/packages.txt" ;;
      esac
      [ -e "$dest$rel" ] || install -D -m 0644 "$lib" "$dest$rel"
    done < <("$ld" --list --library-path "$libpath" "$GI_SYSROOT$bin")
  done
}

# Copies kernel modules ($3...: names) and the modules they depend on (read from each
# module's .modinfo) into the tree $1 for kernel release $2, and writes
# $1/etc/gentoo-infra/modules.load: their paths, dependencies first. Built-in names are skipped.
gi_copy_modules() {
  local dest=$1 release=$2
  shift 2
  local mods="$GI_SYSROOT/lib/modules/$release"
  local order="$dest/etc/gentoo-infra/modules.load"
  mkdir -p "$(dirname "$order")"
  : >"$order"
  declare -A seen=() path=()
  local f
  # Module names use '_' where file names may use '-' (nls_iso8859-1.ko is nls_iso8859_1).
  while read -r f; do
    f=${f#./}
    local base=${f##*/}
    base=${base%.ko}
    path[${base//-/_}]="$mods/$f"
  done < <(cd "$mods" && find . -name '*.ko')
  visit() {
    local name=$1 file dep rel
    name=${name//-/_}
    [ -z "${seen[$name]:-}" ] || return 0
    seen[$name]=1
    file=${path[$name]:-}
    if [ -z "$file" ]; then
      sed 's|.*/||; s|\.ko$||; s|-|_|g' "$mods/modules.builtin" | grep -qx "$name" ||
        gi_die "kernel $release has no module $name (neither a .ko nor built in)"
      return 0
    fi
    for dep in $(tr '\0' '\n' <"$file" | sed -n 's/^depends=//p' | tr ',' ' '); do visit "$dep"; done
    rel=${file#"$GI_SYSROOT"}
    install -D -m 0644 "$file" "$dest$rel"
    echo "$rel" >>"$order"
  }
  for m in "$@"; do visit "$m"; done
}

# busybox (static) and its applet links in the tree $1, except names given in $2... (which
# the tree gets from full programs instead).
gi_install_busybox() {
  local dest=$1 applet
  shift
  install -D -m 0755 "$GI_SYSROOT/bin/busybox" "$dest/bin/busybox"
  mkdir -p "$dest/sbin" "$dest/usr/bin" "$dest/usr/sbin"
  for applet in $("$GI_SYSROOT/bin/busybox" --list); do
    case " $* " in *" $applet "*) continue ;; esac
    [ -e "$dest/bin/$applet" ] || ln -s busybox "$dest/bin/$applet"
  done
}

# Packs the tree $1 into the zstd-compressed newc initramfs $2 (owner root, sorted names).
gi_pack_initramfs() {
  (cd "$1" && find . | LC_ALL=C sort | "$GI_SYSROOT/bin/busybox" cpio -o -H newc -R 0:0 2>/dev/null) |
    zstd -q -19 -T0 -f -o "$2"
}

# sha256 of the given files and of stdin, one word: the inputs a cached build depends on.
gi_inputs_digest() {
  # File contents only (not their paths): every checkout of the repository gets the same digest.
  { for f in "$@"; do sha256sum <"$f"; done; cat; } | sha256sum | cut -d' ' -f1
}
