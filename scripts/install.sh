#!/usr/bin/env bash
# Installs what Detonate needs on a Debian machine (idempotent): Debian packages, npm dependencies, the build.
#   scripts/install.sh          what a user needs to scan images
#   scripts/install.sh --test   also what the test suite and benchmarks need (local registry, skopeo, rpm, …)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1 ;;
    *) echo "usage: $0 [--test]" >&2; exit 2 ;;
  esac
done

# Runtime: zstd (layer decompression fallback tooling), ca-certificates (registries over HTTPS),
# yara (the YARA engine used when the YARA-X binding cannot load);
# detonation: runsc (gVisor) and runc (the sandboxes), strace (runc's syscall monitor), iproute2, nftables and
# util-linux (nsenter) for the sandbox's network namespaces and sinkhole rules;
# postgresql: the server programs of the results store's private cluster (Detonate runs its own, in its data dir);
# busybox-static: the programs of the demo image the README's first command scans (examples/demo-miner.oci.tar).
packages=(ca-certificates zstd yara runsc runc strace iproute2 nftables util-linux postgresql busybox-static)
if [ "$want_test" = 1 ]; then
  # docker-registry: a real registry on loopback; skopeo/umoci: push and build test images;
  # apache2-utils: htpasswd for basic auth; openssl: token-auth certificates; rpm: rpmdb fixtures and oracle;
  # mmdebstrap: the benchmark's Debian image;
  # ruby, python3-packaging: oracles for the RubyGems and PEP 440 version comparators;
  # openssl, curl, dig, ssh: real clients for the sinkhole's protocol tests;
  # chromium: the HTML report is opened in a real browser (driven by playwright-core).
  packages+=(docker-registry skopeo umoci apache2-utils openssl rpm mmdebstrap tar gzip ruby python3-packaging
    curl dnsutils openssh-client chromium)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  echo "installing Debian packages: ${missing[*]}" >&2
  had_postgresql_clusters=0
  [ -d /etc/postgresql ] && had_postgresql_clusters=1
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian's postgresql makes a default cluster (main) and starts it at boot. Detonate never uses it: when it was
  # made just now, by this install, it is stopped and set to start only by hand (start.conf "manual"), so it costs
  # nothing. Clusters that were there before this install are left as they are.
  if [ "$had_postgresql_clusters" = 0 ] && command -v pg_lsclusters >/dev/null; then
    { pg_lsclusters -h 2>/dev/null || true; } | while read -r version cluster _; do
      [ "$cluster" = main ] && [ -f "/etc/postgresql/$version/main/start.conf" ] || continue
      echo manual | $sudo_cmd tee "/etc/postgresql/$version/main/start.conf" >/dev/null
      $sudo_cmd pg_ctlcluster "$version" main stop 2>/dev/null || true
      echo "Debian's default PostgreSQL cluster $version/main is set to start only by hand (Detonate runs its own)" >&2
    done
    if [ -d /run/systemd/system ]; then $sudo_cmd systemctl daemon-reload || true; fi
  fi
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "Detonate needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

# npm 11 runs dependency install scripts only for packages listed in package.json "allowScripts".
if [ -d node_modules ] && [ package-lock.json -ot node_modules/.package-lock.json ]; then
  echo "npm dependencies up to date" >&2
else
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build
# the demo image of the README's first command: made here from busybox-static and examples/demo-miner/, no download
node --import tsx scripts/make-demo-image.ts >/dev/null
echo "Detonate is installed: node dist/src/cli/main.js --help  (or npm link for a 'detonate' command)" >&2
