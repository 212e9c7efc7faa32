#!/bin/sh
# tests/e2e/python3-not-found.sh TEST: what runs each end-to-end test in a
# build configured without python3. Skipped (77), saying why.
echo "SKIP: $1 needs python3, which configure did not find; install the" \
    "Debian packages python3 python3-requests curl and run configure again"
exit 77
