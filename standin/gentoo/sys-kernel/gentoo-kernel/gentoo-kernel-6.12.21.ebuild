# Copyright 2026 gentoo-infra authors
# Distributed under the terms of the GNU General Public License v2

# Stand-in ebuild (see ../../README.md) for the distribution kernel that GentooBuildFarm's
# kernelPackages builds. It is NOT a kernel: it installs a text file in /boot and a note in
# /usr/src. Their names deliberately do not match vmlinuz-* or kernel-*: the installer takes
# the newest /boot/vmlinuz-* of a stage as the kernel to boot, and a boot loader script
# might too; a text file must never be chosen.

EAPI=8

inherit gi-standin

DESCRIPTION="Stand-in for sys-kernel/gentoo-kernel (a text file, not a kernel)"
HOMEPAGE="https://www.gentoo.org/"
S="${WORKDIR}"

LICENSE="GPL-2"
SLOT="${PV}"
KEYWORDS="amd64 arm64 x86"

src_compile() {
	cat > gi-standin-vmlinuz <<-EOF || die
		gentoo-infra STAND-IN for a kernel image: ${CATEGORY}/${PF}, built for ${CHOST}.
		This is a text file, not a kernel. Nothing boots it.
	EOF
	gi-standin_src_compile
}

src_install() {
	insinto /boot
	newins gi-standin-vmlinuz "gi-standin-vmlinuz-${PV}"
	insinto "/usr/src/gi-standin-linux-${PV}"
	newins - README <<< "gentoo-infra STAND-IN for the sources of ${CATEGORY}/${PF} (NOT Linux)."
	gi-standin_src_install
}
