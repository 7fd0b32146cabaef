#!/bin/sh
# make.sh - installs what the build needs (Debian packages, when missing) and runs make.
#   ./make.sh sample   build, then run the nightly batch on data/sample (out/sample/)
#   ./make.sh test     build, then run every test suite
# Any other arguments are passed to make as they are.
set -e
cd "$(dirname "$0")"
with=""
case " $* " in *" mpi-test "* | *" MPI=1 "*) with="--with-mpi" ;; esac
case " $* " in *" fuzz"*) with="$with --with-fuzz" ;; esac
scripts/setup-deps --with-tools $with
exec make -j"$(nproc 2>/dev/null || echo 2)" "$@"
