# Shared by scripts/test and scripts/run. Source it; do not run it.
# shellcheck shell=bash

GOV_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian packages the build needs. criu is one: its package ships the rpc.proto that
# runtime/ compiles with protoc-c (protobuf-c-compiler) and links with
# libprotobuf-c-dev, and governord runs its criu binary for checkpoints.
GOV_BUILD_PACKAGES=(
    build-essential cmake ninja-build pkg-config
    libboost-dev libtomlplusplus-dev prometheus-cpp-dev libsdbus-c++-dev libsdbus-c++-bin
    libspdlog-dev libcli11-dev nlohmann-json3-dev libsystemd-dev
    criu protobuf-c-compiler libprotobuf-c-dev
    # The cgroup network programs: BPF C compiled with clang, embedded through a
    # bpftool skeleton, loaded with libbpf. Private networks: netlink through libmnl,
    # NAT through libnftables (docs/network.md says why these).
    clang libbpf-dev bpftool libmnl-dev libnftables-dev
)
# What the test suite needs on top: GoogleTest, clang for the libFuzzer targets,
# the tools the test tiers start themselves (dbus-daemon, busctl, QEMU and the
# guest's kernel and userland, Prometheus and promtool, curl), and the lint tier's
# clang-format 14, systemd-analyze and man (the man pages the units name are
# looked up).
GOV_TEST_PACKAGES=(
    libgtest-dev libgmock-dev clang libclang-rt-14-dev
    dbus systemd qemu-system-x86 qemu-utils busybox-static cpio kmod e2fsprogs zstd xz-utils
    prometheus curl debootstrap
    clang-format man-db
    # Network tests: loopback traffic in namespaces the tests create (iproute2), and
    # iperf3 for the throughput runs with and without the network programs.
    iproute2 iperf3
)

gov_log() { printf '==> %s\n' "$*" >&2; }

# gov_need_root: re-run the calling script as root (sudo when not root).
gov_as_root() {
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "this needs root (and sudo is not installed)" >&2; exit 1; }
        exec sudo -E "$0" "$@"
    fi
}

# gov_ensure_packages PKG...: install whichever of PKG are not installed, with apt,
# non-interactively. Runs `apt-get update` first only when something is missing.
gov_ensure_packages() {
    local missing=()
    local p
    for p in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$p")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    gov_log "installing missing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# gov_configure_build DIR [cmake args...]: configure once (Ninja), then build
# incrementally.
gov_configure_build() {
    local dir=$1
    shift
    if [ ! -f "$dir/build.ninja" ]; then
        cmake -S "$GOV_SRC" -B "$dir" -G Ninja "$@"
    else
        cmake "$dir" "$@" >/dev/null
    fi
    cmake --build "$dir" -j "$(nproc)"
}
