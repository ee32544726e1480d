# The images the libvirt programs use, each built from Debian packages by its own script and
# cached under $GI_CACHE (a warm run takes a second):
# - scripts/build-base-image: the guest base image, a STAND-IN for Gentoo's cloud-init image;
# - scripts/build-installer: the installer kernel and initramfs PxeInstallHost serves;
# - scripts/build-stage-standin: a STAND-IN for a Gentoo stage4, the stage machines install;
# - scripts/build-tree-standin: the STAND-IN Gentoo tree and the site overlay (git) builders build from.
# examples/minimal (the default site) reads all four; its preview already needs the installer.
set -euo pipefail
source "$(dirname "$0")/../env.sh"
for script in build-base-image build-installer build-stage-standin build-tree-standin; do
  if [ ! -x "$GI_ROOT/scripts/$script" ]; then
    echo "setup(images): scripts/$script is missing from this checkout" >&2
    exit 1
  fi
  "$GI_ROOT/scripts/$script" || {
    echo "setup(images): scripts/$script failed (its log is under $GI_CACHE); run it alone to see why" >&2
    exit 1
  }
done
