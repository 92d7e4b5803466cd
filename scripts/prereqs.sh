#!/usr/bin/env bash
# Installs the Debian packages triaged needs to build and test, when missing.
#   build: nettle-dev libclang-dev pkg-config (sequoia-openpgp's nettle backend, bindgen),
#          libssl-dev (the team's RSA keys decrypt through OpenSSL: src/read/rsa.rs)
#   test:  gnupg (interop fixtures are made and checked with gpg), dovecot-submissiond
#          (a TLS + AUTH relay in front of OpenSMTPD, whose TLS is broken on Debian 12),
#          dovecot-imapd dovecot-lmtpd opensmtpd (the real mail servers the tests start
#          on loopback), util-linux (unshare) and procps (pgrep) for the harness,
#          openssl (a private CA for the TLS tests), python3 (its email parser checks acks),
#          nodejs and curl (acks are opened with OpenPGP.js, the library of Proton Mail's
#          web client and Mailvelope, fetched from the npm registry by scripts/openpgpjs.sh)
# Usage: scripts/prereqs.sh build|test
set -euo pipefail
cd "$(dirname "$0")/.."
need=(nettle-dev libclang-dev pkg-config libssl-dev)
if [[ "${1:-build}" == test ]]; then
  need+=(gnupg dovecot-imapd dovecot-lmtpd dovecot-submissiond opensmtpd util-linux procps openssl python3 curl)
  # Node from Debian or from another source (nodesource): any node >= 18 will do.
  command -v node >/dev/null || need+=(nodejs)
fi
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  if [[ "${1:-build}" == test ]]; then scripts/openpgpjs.sh >/dev/null; fi
  exit 0
fi
echo "triaged: installing missing Debian packages: ${missing[*]}" >&2
SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "error: missing packages ${missing[*]} and not root; install them with apt-get" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# If the packages' own services start, that is harmless: the tests run their own
# instances from private configs on free loopback ports.
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if [[ "${1:-build}" == test ]]; then scripts/openpgpjs.sh >/dev/null; fi
