# Copyright 2026 gentoo-infra authors
# Distributed under the terms of the GNU General Public License v2

# Stand-in ebuild (see ../../README.md): no sources; installs a small script
# (eclass/gi-standin.eclass). It depends on sys-libs/zlib at build and run time, as the real
# one does, so that building the catalog pulls in a dependency.

EAPI=8

inherit gi-standin

DESCRIPTION="Stand-in for net-misc/openssh"
HOMEPAGE="https://www.gentoo.org/"
S="${WORKDIR}"

LICENSE="GPL-2"
SLOT="0"
KEYWORDS="amd64 arm64 x86"

RDEPEND="sys-libs/zlib:="
DEPEND="${RDEPEND}"
