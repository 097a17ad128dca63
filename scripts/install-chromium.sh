#!/usr/bin/env bash
# Debian's chromium for the report test (packages/runner/test/report-browser.test.ts), driven by
# playwright-core with executablePath /usr/bin/chromium. Skips the install when it is there.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
chromium --version
