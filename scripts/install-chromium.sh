#!/usr/bin/env bash
# Install Debian's chromium for the browser tests (the close pack's page renders in it),
# idempotently. Never fails the build by itself: the tests say clearly whether a browser was
# found (and fail under CI=true when none is).
set -u
log() { echo "[chromium] $*"; }
if command -v chromium >/dev/null 2>&1; then
  log "ready: $(command -v chromium)"
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  log "installing Debian's chromium package"
  apt-get update -qq >/dev/null 2>&1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium \
    >/dev/null 2>&1 || { log "apt-get install chromium failed"; exit 0; }
  log "ready: $(command -v chromium)"
else
  log "chromium is not installed and this user cannot install it; browser tests will skip"
fi
