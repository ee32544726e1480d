# Copyright 2026 gentoo-infra authors
# Distributed under the terms of the GNU General Public License v2

# Stand-in ebuild (see ../../README.md), only on the branch `broken` of gentoo.git: a higher
# version of a package every build of net-misc/openssh needs, whose build always fails. A
# build profile pinned to that commit fails here, on purpose.

EAPI=8

inherit gi-standin

DESCRIPTION="Stand-in for sys-libs/zlib whose build fails (branch broken)"
HOMEPAGE="https://www.gentoo.org/"
S="${WORKDIR}"

LICENSE="GPL-2"
SLOT="0/1"
KEYWORDS="amd64 arm64 x86"

src_compile() {
	die "stand-in build failure (branch broken)"
}
