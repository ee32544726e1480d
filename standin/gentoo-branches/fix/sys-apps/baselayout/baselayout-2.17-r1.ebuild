# Copyright 2026 gentoo-infra authors
# Distributed under the terms of the GNU General Public License v2

# Stand-in ebuild (see ../../README.md), only on the branch `fix` of gentoo.git (a child of
# `bump`): a security fix of sys-apps/baselayout as a new revision, the commit a zero-day
# cherry-pick takes to production without the zlib bump before it.

EAPI=8

inherit gi-standin

DESCRIPTION="Stand-in for sys-apps/baselayout (security fix)"
HOMEPAGE="https://www.gentoo.org/"
S="${WORKDIR}"

LICENSE="GPL-2"
SLOT="0"
KEYWORDS="amd64 arm64 x86"
