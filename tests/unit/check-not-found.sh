#!/bin/sh
# tests/unit/check-not-found.sh: what `make check` runs in place of the
# unit tests in a build configured without Check. Skipped (77), saying why.
echo "SKIP: the unit tests need Check, which configure did not find;" \
    "install the Debian package check and run configure again"
exit 77
