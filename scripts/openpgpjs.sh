#!/usr/bin/env bash
# Puts OpenPGP.js (the OpenPGP library of Proton Mail's web client, Mailvelope and
# FlowCrypt) where tests/interop.rs reads acks with it: target/openpgpjs/<version>/.
# The tarball comes from the npm registry and must match the integrity pinned here
# (npm's sha512); nothing of it is committed. Needs curl, openssl and tar.
# Usage: scripts/openpgpjs.sh   (prints the module's path)
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=6.3.2
INTEGRITY="sha512-wcZTzHz41LV8Y48zH/JlD1JT8YdNmpWOuMAjQ/podvvCwsjBEU37K3znJh4UQcj3hksE5z9TzvhbUbwzsGvlLQ=="
dest="target/openpgpjs/$VERSION"
module="$dest/package/dist/node/openpgp.mjs"
if [[ ! -f $module ]]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  curl -fsSL --retry 3 -o "$tmp/openpgp.tgz" "https://registry.npmjs.org/openpgp/-/openpgp-$VERSION.tgz"
  got="sha512-$(openssl dgst -sha512 -binary "$tmp/openpgp.tgz" | base64 -w0)"
  if [[ $got != "$INTEGRITY" ]]; then
    echo "error: openpgp-$VERSION.tgz from the npm registry has integrity $got, expected $INTEGRITY" >&2
    exit 1
  fi
  mkdir -p "$dest"
  tar -xzf "$tmp/openpgp.tgz" -C "$dest" package/dist/node package/package.json package/LICENSE
fi
echo "$PWD/$module"
