#!/usr/bin/env bash
# Check (and, as root, install) what building, booting and grading need.
#
#   tools/deps.sh [build|qemu|grade]...  check these (default: all three);
#                                        install what is missing with apt-get
#                                        when root, else print the command
#                                        to run and exit 1
#   tools/deps.sh toolprefix             print the RISC-V cross prefix
#                                        (TOOLPREFIX wins if set; installs
#                                        a cross gcc first if none, as above)
#   tools/deps.sh python                 print a python3 that has pytest
#                                        (GRADE_PYTHON wins if set; installs
#                                        python3-pytest first if none)
#
# build: make, a host C compiler (mkfs), a RISC-V cross gcc, python3 (the
#        kernel's stack check)
# qemu:  qemu-system-riscv64 >= 7.2 and OpenSBI firmware for -bios default
# grade: a python3 with pytest
#
# The checks are plain `command -v` and file tests, so this stays fast
# enough to run before every make target.
set -uo pipefail

PREFIXES="riscv64-unknown-elf- riscv64-elf- riscv64-none-elf- riscv64-linux-gnu- riscv64-unknown-linux-gnu-"
QEMU=qemu-system-riscv64
QEMU_MIN=7.2

die() { echo "deps.sh: $*" >&2; exit 1; }

# ---- probes: print the answer, or fail quietly ----

find_toolprefix() {
    if [ -n "${TOOLPREFIX:-}" ]; then
        command -v "${TOOLPREFIX}gcc" >/dev/null && { echo "$TOOLPREFIX"; return 0; }
        return 1
    fi
    local p
    for p in $PREFIXES; do
        if command -v "${p}gcc" >/dev/null; then echo "$p"; return 0; fi
    done
    return 1
}

has_pytest() {
    [ -x "$1" ] || command -v "$1" >/dev/null || return 1
    "$1" -c 'import importlib.util as u, sys; sys.exit(u.find_spec("pytest") is None)' 2>/dev/null
}

find_python() {
    local p
    if [ -n "${GRADE_PYTHON:-}" ]; then
        has_pytest "$GRADE_PYTHON" && { command -v "$GRADE_PYTHON"; return 0; }
        return 1
    fi
    # The system python first: it is where python3-pytest goes, and it is
    # fast to start (a pyenv shim on PATH takes a tenth of a second).
    for p in /usr/bin/python3 $(type -ap python3 2>/dev/null); do
        has_pytest "$p" && { echo "$p"; return 0; }
    done
    return 1
}

# "7.2.1" -> version of the qemu on PATH; empty if none
qemu_version() {
    command -v $QEMU >/dev/null || return 1
    $QEMU --version 2>/dev/null | sed -n '1s/.*version \([0-9][0-9.]*\).*/\1/p'
}

version_ok() {  # version_ok 7.2.1 7.2
    local -a have need
    local i
    IFS=. read -ra have <<<"$1"
    IFS=. read -ra need <<<"$2"
    for i in 0 1 2; do
        local h=${have[i]:-0} n=${need[i]:-0}
        [ "$h" -gt "$n" ] && return 0
        [ "$h" -lt "$n" ] && return 1
    done
    return 0
}

has_opensbi() {
    local d
    local qdir
    qdir=$(dirname "$(command -v $QEMU)")/../share/qemu
    for d in /usr/share/qemu "$qdir" /usr/local/share/qemu; do
        for f in "$d"/opensbi-riscv64-generic-fw_dynamic.{bin,elf}; do
            [ -f "$f" ] && return 0
        done
    done
    return 1
}

# ---- checks: add missing Debian packages to $missing ----

missing=""
problems=""

check_devnull() {
    # Something run as root that replaces its output file (a linker, or a
    # write-then-rename) can turn /dev/null into a regular file.  Its
    # leftover bytes then reach QEMU's UART as input and break compiler
    # probes, so repair it (as root) or say so.
    [ -c /dev/null ] && return 0
    if [ "$(id -u)" -eq 0 ]; then
        echo "deps.sh: /dev/null is not a device; recreating it" >&2
        rm -f /dev/null && mknod -m 666 /dev/null c 1 3 && return 0
    fi
    problems="$problems
  /dev/null is a regular file, not the null device; as root:
    rm -f /dev/null && mknod -m 666 /dev/null c 1 3"
}

check_build() {
    check_devnull
    command -v make >/dev/null || missing="$missing make"
    command -v python3 >/dev/null || missing="$missing python3"   # tools/stackcheck.py
    command -v cc >/dev/null || command -v gcc >/dev/null || missing="$missing gcc libc6-dev"
    find_toolprefix >/dev/null || {
        if [ -n "${TOOLPREFIX:-}" ]; then
            problems="$problems
  TOOLPREFIX=$TOOLPREFIX but ${TOOLPREFIX}gcc is not on PATH"
        else
            missing="$missing gcc-riscv64-unknown-elf"
        fi
    }
}

check_qemu() {
    local v
    v=$(qemu_version)
    if [ -z "$v" ]; then
        missing="$missing qemu-system-misc"
    elif ! version_ok "$v" $QEMU_MIN; then
        problems="$problems
  $(command -v $QEMU) is QEMU $v; this kernel needs $QEMU >= $QEMU_MIN
  (Debian 12 and Ubuntu 23.04 or later have it; or build QEMU from source)"
    fi
    [ -n "$v" ] && has_opensbi || missing="$missing opensbi"
}

check_grade() {
    find_python >/dev/null || {
        if [ -n "${GRADE_PYTHON:-}" ]; then
            problems="$problems
  GRADE_PYTHON=$GRADE_PYTHON has no pytest (try: $GRADE_PYTHON -m pip install pytest)"
        else
            missing="$missing python3-pytest"
        fi
    }
}

check() {
    local what
    for what in "$@"; do
        case $what in
        build) check_build ;;
        qemu)  check_qemu ;;
        grade) check_grade ;;
        *) die "unknown check '$what' (want build, qemu, grade, toolprefix or python)" ;;
        esac
    done
}

apt_lists_empty() {
    local f
    for f in /var/lib/apt/lists/*_Packages*; do
        [ -e "$f" ] && return 1
    done
    return 0
}

install() {  # install pkg...
    export DEBIAN_FRONTEND=noninteractive
    echo "deps.sh: installing: $*" >&2
    if apt_lists_empty; then
        apt-get update >&2 || return 1
        apt-get install -y "$@" >&2
    else
        apt-get install -y "$@" >&2 || { apt-get update >&2 && apt-get install -y "$@" >&2; }
    fi
}

# ---- main ----

# toolprefix and python install what is missing (as root) like the checks
# do; apt-get's chatter goes to stderr so that stdout is just the answer.
case "${1:-}" in
toolprefix)
    find_toolprefix && exit 0
    [ -z "${TOOLPREFIX:-}" ] && [ "$(id -u)" -eq 0 ] && "$0" build >&2 && find_toolprefix && exit 0
    if [ -n "${TOOLPREFIX:-}" ]; then
        die "TOOLPREFIX=$TOOLPREFIX, but ${TOOLPREFIX}gcc is not on PATH"
    fi
    die "no RISC-V cross compiler found (looked for {${PREFIXES// /,}}gcc);
  install one: sudo apt-get install -y gcc-riscv64-unknown-elf  (or run tools/deps.sh build)"
    ;;
python)
    find_python && exit 0
    [ -z "${GRADE_PYTHON:-}" ] && [ "$(id -u)" -eq 0 ] && "$0" grade >&2 && find_python && exit 0
    if [ -n "${GRADE_PYTHON:-}" ]; then
        die "GRADE_PYTHON=$GRADE_PYTHON has no pytest (try: $GRADE_PYTHON -m pip install pytest)"
    fi
    die "no python3 with pytest found;
  install it: sudo apt-get install -y python3-pytest  (or run tools/deps.sh grade)"
    ;;
esac

targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(build qemu grade)
check "${targets[@]}"

if [ -n "$missing" ]; then
    read -ra pkgs <<<"$missing"
    if ! command -v apt-get >/dev/null; then
        die "missing: ${pkgs[*]} (Debian package names; install the equivalents for your system)"
    elif [ "$(id -u)" -ne 0 ]; then
        die "missing packages; install them with:
  sudo apt-get install -y ${pkgs[*]}"
    fi
    install "${pkgs[@]}" || die "apt-get install -y ${pkgs[*]} failed"
    # Check again: the packages may not have been enough (an old QEMU).
    missing=""
    problems=""
    check "${targets[@]}"
    [ -z "$missing" ] || die "still missing after installing:$missing"
fi

if [ -n "$problems" ]; then
    die "not ready for ${targets[*]}:$problems"
fi
exit 0
