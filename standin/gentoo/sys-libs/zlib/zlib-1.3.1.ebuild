# Copyright 2026 gentoo-infra authors
# Distributed under the terms of the GNU General Public License v2

# Stand-in ebuild (see ../../README.md): no sources; installs a small script
# (eclass/gi-standin.eclass). A dependency of net-misc/openssh, not a package of any Stack.
# The branch `bump` of gentoo.git adds a higher version, the branch `broken` one whose build
# fails (standin/gentoo-branches/).

EAPI=8

inherit gi-standin

DESCRIPTION="Stand-in for sys-libs/zlib"
HOMEPAGE="https://www.gentoo.org/"
S="${WORKDIR}"

LICENSE="GPL-2"
SLOT="0/1"
KEYWORDS="amd64 arm64 x86"
