# Copyright 2026 gentoo-infra authors
# Distributed under the terms of the GNU General Public License v2

# Stand-in ebuild (see ../../README.md), only on the branch `bump` of gentoo.git: a version
# bump of sys-libs/zlib (1.3.1 stays), for machines that upgrade.

EAPI=8

inherit gi-standin

DESCRIPTION="Stand-in for sys-libs/zlib (version bump)"
HOMEPAGE="https://www.gentoo.org/"
S="${WORKDIR}"

LICENSE="GPL-2"
SLOT="0/1"
KEYWORDS="amd64 arm64 x86"
