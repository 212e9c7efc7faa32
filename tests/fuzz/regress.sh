#!/bin/sh
# tests/fuzz/regress.sh (make check in a build configured with
# --enable-fuzz): run each fuzz target once on its seed corpus and on every
# crash kept in tests/fuzz/regressions/, so a fixed crash stays fixed.
srcdir=${PATCHSCOPE_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
exec "${SHELL:-/bin/sh}" "$srcdir/tests/fuzz/run" "$srcdir" "$(pwd)" replay \
    http response diagnose cassette fields redact rules sanitize
