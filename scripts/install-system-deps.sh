#!/usr/bin/env bash
# Debian packages that some tests need: espeak-ng (synthetic speech with known word
# times), chromium (the report's browser test) and, on x86-64, qemu-user (runs the shipped
# graphs on an emulated AVX2-only CPU). Installed when we are root with apt (CI,
# containers); otherwise we say what to install and those tests skip.
set -euo pipefail
need=()
command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ "$(uname -m)" = x86_64 ]; then command -v qemu-x86_64 >/dev/null 2>&1 || need+=(qemu-user); fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${need[*]} (apt)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
    echo "note: tests needing ${need[*]} will be skipped; install with: sudo apt-get install ${need[*]}" >&2
fi
