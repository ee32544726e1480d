# Copyright 2026 gentoo-infra authors
# Distributed under the terms of the GNU General Public License v2

# The site's own package in the stand-in overlay (see ../../README.md): the operator tools
# that the application profile `tools` of examples/minimal installs. No sources, no compiler:
# src_compile writes a small script. It needs app-admin/sudo at run time, a dependency into
# the Gentoo tree (the overlay's master).

EAPI=8

DESCRIPTION="The site's operator tools (gentoo-infra stand-in overlay)"
HOMEPAGE="https://www.gentoo.org/"
S="${WORKDIR}"

LICENSE="GPL-2"
SLOT="0"
KEYWORDS="amd64 arm64 x86"

RDEPEND="app-admin/sudo"

src_compile() {
	cat > gi-site-tools <<-EOF || die
		#!/bin/sh
		# ${CATEGORY}/${PF}::${PORTAGE_REPO_NAME}: the site's operator tools (a stand-in).
		case "\${1:-}" in
			version) echo "${PF}" ;;
			*) echo "usage: gi-site-tools version" >&2; exit 2 ;;
		esac
	EOF
}

src_install() {
	dobin gi-site-tools
}
