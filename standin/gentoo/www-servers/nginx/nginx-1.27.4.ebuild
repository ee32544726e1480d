# Copyright 2026 gentoo-infra authors
# Distributed under the terms of the GNU General Public License v2

# Stand-in ebuild (see ../../README.md): no sources; installs a small script
# (eclass/gi-standin.eclass).

EAPI=8

inherit gi-standin

DESCRIPTION="Stand-in for www-servers/nginx"
HOMEPAGE="https://www.gentoo.org/"
S="${WORKDIR}"

LICENSE="GPL-2"
SLOT="0"
KEYWORDS="amd64 arm64 x86"
IUSE="ssl"
