# gentoo-infra: the retention prune of a builder build script (lib/buildfarm/build.sh runs it
# with the Python that imports Portage, the retention in days as its argument). Removes the
# binary packages of PKGDIR that nothing installed in the build root needs (not the installed
# build of any package: same version and BUILD_TIME) and that are older than the retention
# (BUILD_TIME). The build root holds exactly what this build installed: the @world closure and
# the kernel packages. Prints each removed package, relative to PKGDIR.
import os
import sys
import time

import portage

days = int(sys.argv[1])
root = portage.settings["EROOT"]
bindb = portage.db[root]["bintree"]
# Rescan the files: a build that failed between an earlier prune and its reindex left an index
# naming removed files (Portage trusts the PKGDIR index by default).
bindb.populate(getbinpkgs=False, force_reindex=True)
vardb = portage.db[root]["vartree"].dbapi
# A build is identified by its BUILD_TIME too: older builds of an installed version go.
installed = {(str(cpv), vardb.aux_get(cpv, ["BUILD_TIME"])[0]) for cpv in vardb.cpv_all()}
limit = time.time() - days * 86400
for cpv in bindb.dbapi.cpv_all():
    build_time_text = bindb.dbapi.aux_get(cpv, ["BUILD_TIME"])[0]
    if (str(cpv), build_time_text) in installed:
        continue
    build_time = int(build_time_text or 0)
    if build_time >= limit:
        continue
    path = bindb.getname(cpv)
    try:
        os.unlink(path)
    except FileNotFoundError:
        continue
    print(os.path.relpath(path, bindb.pkgdir))
