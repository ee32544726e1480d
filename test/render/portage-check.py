"""Loads a rendered Portage configuration with Portage itself and prints what Portage saw.

Run by test/render/portage.test.ts with the venv's python and
PORTAGE_OVERRIDE_EPREFIX=<temp prefix>, so Portage reads <prefix>/etc/portage and never the
host's /etc/portage. Prints one JSON object on stdout; Portage's own warnings go to stderr.

    portage-check.py ATOM...   (atoms whose best visible ebuild and effective USE to report)
"""

import json
import os
import sys

import portage
from _emerge.actions import load_emerge_config
from portage.binrepo.config import BinRepoConfigLoader


def main(atoms):
    settings = portage.config(clone=portage.settings)
    facts = {
        "eprefix": settings["EPREFIX"],
        "profiles": list(settings.profiles),
        "variables": {
            name: settings.get(name)
            for name in (
                "ARCH",
                "CHOST",
                "COMMON_FLAGS",
                "CFLAGS",
                "CXXFLAGS",
                "MAKEOPTS",
                "BINPKG_FORMAT",
                "BINPKG_COMPRESS",
                "BINPKG_GPG_SIGNING_GPG_HOME",
                "BINPKG_GPG_SIGNING_KEY",
                "BINPKG_GPG_SIGNING_DIGEST",
                "BINPKG_GPG_VERIFY_GPG_HOME",
                "GENTOO_MIRRORS",
                "PKGDIR",
            )
        },
        "use": sorted(settings["USE"].split()),
        "features": sorted(settings.features),
    }

    repos = settings.repositories
    facts["mainRepo"] = repos.mainRepo().name if repos.mainRepo() else None
    facts["repos"] = {
        repo.name: {
            "location": repo.location,
            "syncType": repo.sync_type,
            "syncUri": repo.sync_uri,
            "autoSync": repo.auto_sync,
            "masters": [m.name for m in repo.masters],
            "priority": repo.priority,
        }
        for repo in repos
    }

    binrepos = BinRepoConfigLoader(
        (os.path.join(settings["PORTAGE_CONFIGROOT"], "etc/portage/binrepos.conf"),), settings
    )
    facts["binrepos"] = {
        name: {
            "syncUri": repo.sync_uri,
            "priority": repo.priority,
            "verifySignature": repo.verify_signature,
            "location": repo.location,
        }
        for name, repo in binrepos.items()
    }

    # The sets emerge builds @world from: @system (profile packages) and @selected (world).
    emerge_config = load_emerge_config()
    trees = emerge_config.trees
    root_config = emerge_config.running_config
    facts["sets"] = {
        name: sorted(str(a) for a in root_config.sets[name].getAtoms())
        for name in ("system", "selected")
    }

    portdb = trees[settings["EROOT"]]["porttree"].dbapi
    packages = {}
    for atom in atoms:
        best = portdb.xmatch("bestmatch-visible", atom)
        entry = {"bestVisible": best or None}
        if best:
            pkg_settings = portage.config(clone=settings)
            pkg_settings.setcpv(best, mydb=portdb)
            iuse = portdb.aux_get(best, ["IUSE"])[0].split()
            flags = {f.lstrip("+-") for f in iuse}
            entry["use"] = sorted(f for f in pkg_settings["PORTAGE_USE"].split() if f in flags)
        packages[atom] = entry
    facts["packages"] = packages
    json.dump(facts, sys.stdout, indent=1)


if __name__ == "__main__":
    main(sys.argv[1:])
