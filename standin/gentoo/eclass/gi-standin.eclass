# Copyright 2026 gentoo-infra authors
# Distributed under the terms of the GNU General Public License v2

# @ECLASS: gi-standin.eclass
# @MAINTAINER:
# gentoo-infra authors
# @SUPPORTED_EAPIS: 8
# @BLURB: phases of the stand-in tree's packages (this tree is NOT Gentoo, see README.md)
# @DESCRIPTION:
# Every package of the stand-in tree builds with these phases: no compiler, no network, no
# sources (unless the ebuild names a distfile). src_compile writes a small shell script,
# src_install installs it as /usr/bin/gi-standin-${PN} together with a one-line note under
# /usr/share/gi-standin/${CATEGORY}/${PN}. The installed paths are chosen so that they never
# collide with a file of the Debian userland the builders and machines run on (the real
# /usr/bin/sudo, /usr/sbin/sshd, ... stay untouched).

case ${EAPI} in
	8) ;;
	*) die "${ECLASS}: EAPI ${EAPI:-0} not supported" ;;
esac

if [[ -z ${_GI_STANDIN_ECLASS} ]]; then
_GI_STANDIN_ECLASS=1

# @FUNCTION: gi-standin_src_compile
# @DESCRIPTION:
# Writes ${T}/gi-standin-${PN}: a script that prints the package, its repository and the
# USE flags it was built with (so a profile's USE can be seen on an installed machine).
gi-standin_src_compile() {
	local flag enabled=()
	for flag in ${IUSE}; do
		flag=${flag#[+-]}
		use "${flag}" && enabled+=( "${flag}" )
	done
	cat > "${T}/gi-standin-${PN}" <<-EOF || die
		#!/bin/sh
		# gentoo-infra STAND-IN for ${CATEGORY}/${PN}: not the real package, NOT Gentoo.
		echo "${CATEGORY}/${PF}::${PORTAGE_REPO_NAME} (gentoo-infra stand-in) USE=\"${enabled[*]}\""
	EOF
}

# @FUNCTION: gi-standin_src_install
# @DESCRIPTION:
# Installs the script of gi-standin_src_compile and the note.
gi-standin_src_install() {
	dobin "${T}/gi-standin-${PN}"
	insinto "/usr/share/gi-standin/${CATEGORY}"
	newins - "${PN}" <<< "${CATEGORY}/${PF}: a gentoo-infra stand-in package (NOT Gentoo)"
}

fi

EXPORT_FUNCTIONS src_compile src_install
