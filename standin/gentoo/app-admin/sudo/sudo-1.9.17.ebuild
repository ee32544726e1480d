# Copyright 2026 gentoo-infra authors
# Distributed under the terms of the GNU General Public License v2

# Stand-in ebuild (see ../../README.md). The one package of the stand-in tree with a
# distfile: gi-standin-sudo-<PV>.tar.gz, made by scripts/build-tree-standin from
# standin/distfiles/ and served by the site's binhost at <binhost>/distfiles/<file>. Its
# SRC_URI is a bare file name: Portage fetches it from GENTOO_MIRRORS only
# (<mirror>/distfiles/<file>), the way a mirror-only distfile is fetched.

EAPI=8

inherit gi-standin

DESCRIPTION="Stand-in for app-admin/sudo (with a distfile from the site's binhost)"
HOMEPAGE="https://www.gentoo.org/"
SRC_URI="gi-standin-${P}.tar.gz"
S="${WORKDIR}/gi-standin-${P}"

LICENSE="GPL-2"
SLOT="0"
KEYWORDS="amd64 arm64 x86"
IUSE="sendmail"

src_compile() {
	# The distfile's script, with the version filled in: proof that the distfile arrived.
	sed -e "s/@PV@/${PV}/g" gi-standin-sudo-distfile.in > gi-standin-sudo-distfile || die
	gi-standin_src_compile
}

src_install() {
	dobin gi-standin-sudo-distfile
	gi-standin_src_install
}
