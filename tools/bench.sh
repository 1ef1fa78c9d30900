#!/usr/bin/env bash
# make bench: boot the kernel on one hart under -icount (one instruction per
# tick, deterministic), run user/bench.c, and print its "bench <name> <n>
# insn/<unit>" lines, then a table against the targets.  The matmul row is
# compared with the same code run with no OS at all (bench/baremetal.c).
set -euo pipefail
cd "$(dirname "$0")/.."

QEMU_CMD=$(make -s --no-print-directory qemu-cmd CPUS=1 ICOUNT=1 | tail -1)
TIMEOUT=${BENCH_TIMEOUT:-300}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

run() {   # run <kernel> [append]: QEMU output to $out; fails on timeout
    local kernel=$1; shift
    # shellcheck disable=SC2086
    if ! timeout --kill-after=5 "$TIMEOUT" ${QEMU_CMD/kernel\/kernel/$kernel} "$@" \
            </dev/null >"$out" 2>&1; then
        echo "bench: QEMU did not finish within ${TIMEOUT}s; its output:" >&2
        tail -20 "$out" >&2
        exit 1
    fi
}

run bench/baremetal
base=$(awk '$1 == "bench" && $2 == "matmul150_baremetal" {print $3}' "$out")

# The kernel run types two keys, one at a time once the program asks, so
# that irq_to_user measures an interrupt reaching an idle driver.
fifo=$(mktemp -u)
mkfifo "$fifo"
trap 'rm -f "$out" "$fifo"' EXIT
# shellcheck disable=SC2086
timeout --kill-after=5 "$TIMEOUT" ${QEMU_CMD} -append "bench irq" <"$fifo" >"$out" 2>&1 &
qemu=$!
exec 3>"$fifo"
for _ in $(seq 1 $((TIMEOUT * 10))); do
    grep -q "type a line" "$out" && break
    kill -0 $qemu 2>/dev/null || break
    sleep 0.1
done
sleep 0.5; printf 'x' >&3; sleep 0.5; printf '\r' >&3
if ! wait $qemu; then
    echo "bench: QEMU did not finish within ${TIMEOUT}s; its output:" >&2
    tail -20 "$out" >&2
    exit 1
fi
exec 3>&-
# The programs on the file system: init starts the file server, then runs
# the program on a scratch copy of the disk (fsbench: the file-system rows;
# revbench: revocation and VM, init hands it the swap area; kvbench: the
# app lab's store against the file system, on the disk's app area).
disk=$(mktemp)
fsout=$(mktemp)
todo_lines=$(mktemp)
trap 'rm -f "$out" "$fifo" "$disk" "$fsout" "$todo_lines"' EXIT
grep -E '^lab [a-z]+: .* is not written yet' "$out" >>"$todo_lines" || true
run_init() {   # run_init <prog>: its output is appended to $out
    cp fs.img "$disk"
    # shellcheck disable=SC2086
    if ! timeout --kill-after=5 "$TIMEOUT" ${QEMU_CMD/file=fs.img/file=$disk} -append "init $1" \
            </dev/null >"$fsout" 2>&1; then
        echo "bench: $1 did not finish within ${TIMEOUT}s; its output:" >&2
        tail -20 "$fsout" >&2
        exit 1
    fi
    # In a student tree a later lab's code may be missing.  The labs the
    # system works around (vm: a kernel that checks nothing, upcall: eager
    # sbrk, cow: copying fork, driver: a polled console) only mark their
    # own rows; any other missing lab skips the program's rows.
    grep -E '^lab [a-z]+: .* is not written yet' "$fsout" >>"$todo_lines" || true
    local todo
    todo=$(grep -E '^lab [a-z]+: .* is not written yet' "$fsout" | grep -v -E '^lab (vm|upcall|cow|driver): ' | head -1 || true)
    if [[ -n $todo ]]; then
        echo "bench: $1 skipped ($todo)" >&2
        return
    fi
    cat "$fsout" >>"$out"
}
# ckpttest's row (lab ckpt), on its own: bench's size must not change
# with the labs' code (the fork row depends on it).
# shellcheck disable=SC2086
if ! timeout --kill-after=5 "$TIMEOUT" ${QEMU_CMD} -append "ckpttest bench" </dev/null >"$fsout" 2>&1; then
    echo "bench: ckpttest did not finish within ${TIMEOUT}s; its output:" >&2
    tail -20 "$fsout" >&2
    exit 1
fi
grep -E '^lab [a-z]+: .* is not written yet' "$fsout" >>"$todo_lines" || true
grep -E '^bench ' "$fsout" >>"$out" || true
# The network's rows (netbench): the NIC looped back to itself on a free
# UDP port of 127.0.0.1, so the guest's frames come back to it.
port=$($(tools/deps.sh python) -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
loopnic="-device virtio-net-device,netdev=n0,bus=virtio-mmio-bus.1 -netdev dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=$port,remote.type=inet,remote.host=127.0.0.1,remote.port=$port"
# shellcheck disable=SC2086
if ! timeout --kill-after=5 "$TIMEOUT" ${QEMU_CMD} $loopnic -append "netbench" </dev/null >"$fsout" 2>&1; then
    echo "bench: netbench did not finish within ${TIMEOUT}s; its output:" >&2
    tail -20 "$fsout" >&2
    exit 1
fi
grep -E '^lab [a-z]+: .* is not written yet' "$fsout" >>"$todo_lines" || true
grep -E '^(bench |netbench: FAIL)' "$fsout" >>"$out" || true
start=$(date +%s%N)
run_init fsbench
wall_ms=$(( ($(date +%s%N) - start) / 1000000 ))
run_init revbench
run_init kvbench
grep -E '^bench [a-z0-9_]+ [0-9]+ insn/' "$out"
# The labs whose code this tree does not have yet (a student tree).
todo_labs=$(awk '{sub(":", "", $2); print $2}' "$todo_lines" | sort -u | tr '\n' ' ')
if grep -qE '^(panic|.*FAIL)' "$out"; then
    echo "bench: the run failed:" >&2
    tail -20 "$out" >&2
    exit 1
fi
echo "bench matmul150_baremetal ${base:-?} insn/run"
printf 'fsbench: the whole run (boot, 1,000 creates, 4 MiB written and read, 22 spawns) took %d.%02d s wall\n' $((wall_ms / 1000)) $((wall_ms % 1000 / 10))

# name, target (upper bound, or "1%" of the bare-metal run), xv6-riscv figure
awk -v base="${base:-0}" -v todo="$todo_labs" '
BEGIN {
    n = split("null_syscall:60:1,130 (getpid):-|upcall_roundtrip:250:-:upcall|pgfault_demand_zero:2500:40,567:upcall|cow_fork_exit_wait:50000:518,757:cow|ckpt_fault:4000:-:ckpt|yield_roundtrip:400:-:-|pct_roundtrip:300:-:-|pipe_roundtrip:1500:95,804:ipc|pipe_throughput:3000:699,427:ipc|irq_to_user:400:-:driver|idle_insn_per_s:50000:-:driver|matmul150:1%:27.2 M:-|fs_create:500000:46,200,000:-|fs_write:50000:1,040,000:-|fs_read:3000:34,792:-|spawn_wait:200000:1,304,158:-|revoke_roundtrip:report:-:revoke|swap_out:report:-:revoke|swap_in:report:-:revoke|dirty:report:-:upcall|prot1:report:-:upcall|prot100:report:-:upcall|unprot100:report:-:upcall|trap:report:-:upcall|appel1:report:-:upcall|appel2:report:-:upcall|kv_put:report:-:app|fs_put:report:-:app|kv_get:report:-:app|fs_get:report:-:app|kv_recover:report:-:app|net_demux1:report:-:net|net_demux64:300:-:net|udp_echo:6000:-:-|udp_throughput:3000:-:-", rows, "|")
    for (i = 1; i <= n; i++) { split(rows[i], f, ":"); order[i] = f[1]; target[f[1]] = f[2]; xv6[f[1]] = f[3]; lab[f[1]] = f[4] }
    split(todo, tl, " "); for (i in tl) unwritten[tl[i]] = 1
}
$1 == "bench" && $3 ~ /^[0-9]+$/ { got[$2] = $3; unit[$2] = $4 }
END {
    printf "\n%-22s %14s %-16s %12s %-16s %s\n", "benchmark", "instructions", "unit", "target", "xv6-riscv", "status"
    bad = 0
    for (i = 1; i <= n; i++) {
        b = order[i]
        if (lab[b] in unwritten) {   # a student tree: that lab is not written yet
            printf "%-22s %14s\n", b, "lab " lab[b] " not written yet"
            continue
        }
        if (!(b in got)) {   # (a reported row is missing when its lab is not written yet)
            printf "%-22s %14s\n", b, "missing"
            if (target[b] != "report") bad = 1
            continue
        }
        if (target[b] == "report") {
            ok = 1
            t = "(report)"
        } else if (target[b] == "1%") {
            pct = base > 0 ? 100 * (got[b] - base) / base : 999
            ok = base > 0 && pct <= 1 && pct >= -1
            t = sprintf("%+.2f%% of bare", pct)
        } else {
            ok = got[b] <= target[b]
            t = "<= " target[b]
        }
        if (!ok) bad = 1
        printf "%-22s %14d %-16s %12s %-16s %s\n", b, got[b], unit[b], t, xv6[b], ok ? "ok" : "OVER TARGET"
    }
    exit bad
}' "$out"
