"""Fixtures shared by every lab's tests.

boot            factory: boot(prog, cpus=1, args="", ...) starts QEMU with
                `-append "<prog> <args>"` and returns a console.Console;
                the QEMU is killed when the test ends, pass or fail;
                net=True gives it a NIC and con.net, the host's end
                (grade/net.py)
cpus            a test that takes a `cpus` argument runs once per value in
                CPUS_VALUES (ids like test_x[cpus=3]); @pytest.mark.cpus(1)
                narrows that for one test; env CPUS=<n> keeps only n

Scoring, LAB selection and the xv6-style report live in gradeplugin.py.
"""

import glob
import os
import shutil
import signal
import socket
import subprocess

import pytest

import console
import net as hostnet

pytest_plugins = ["gradeplugin"]

CPUS_VALUES = (1, 3)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "cpus(*n): run this test only at these CPUS values")
    try:
        console.timeout_scale()
    except ValueError as e:
        raise pytest.UsageError(str(e))
    # A CI runner stops us with SIGTERM; turn it into the same clean
    # shutdown as Ctrl-C so that every QEMU gets killed.
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _on_sigterm)


def _on_sigterm(signum, frame):
    console.kill_all()
    raise KeyboardInterrupt("SIGTERM")


def pytest_unconfigure(config):
    console.kill_all()


@pytest.hookimpl(trylast=True)   # after @parametrize: ids read test[prog-cpus=3]
def pytest_generate_tests(metafunc):
    if "cpus" not in metafunc.fixturenames:
        return
    for m in metafunc.definition.iter_markers("parametrize"):
        names = m.args[0]
        if isinstance(names, str):
            names = [n.strip() for n in names.split(",")]
        if "cpus" in names:
            return                       # the test parametrizes cpus itself
    m = metafunc.definition.get_closest_marker("cpus")
    values = m.args if m else CPUS_VALUES
    metafunc.parametrize("cpus", values, ids=lambda n: f"cpus={n}")


def _cpus_filter():
    raw = os.environ.get("CPUS", "").strip()
    if not raw:
        return None
    try:
        return {int(x) for x in raw.replace(",", " ").split()}
    except ValueError:
        raise pytest.UsageError(f"CPUS={raw!r}: expected a number of harts")


def pytest_collection_modifyitems(config, items):
    wanted = _cpus_filter()
    if wanted is None:
        return
    keep, drop = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        n = params.params.get("cpus") if params else None
        (drop if n is not None and n not in wanted else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def use_disk(argv, image):
    """Point the QEMU argv's -drive at another disk image."""
    for i, a in enumerate(argv):
        if a.startswith("file=") and "id=x0" in a:
            argv[i] = ",".join(["file=" + str(image)] + a.split(",")[1:])
            return argv
    raise AssertionError("no disk in the QEMU command: " + " ".join(argv))


# The kernel built with KCHECK=1 (kernel/kcheck.c): it panics as soon as
# its bookkeeping disagrees with the page tables.  `make grade` builds it.
KCHECK_KERNEL = "kernel/kernel.kcheck"


def use_kernel(argv, kernel):
    """Point the QEMU argv's -kernel at another image (relative to the
    tree's root)."""
    path = os.path.join(console.ROOT, kernel)
    if not os.path.exists(path):
        raise console.BootError(f"{kernel} is not built: run `make grade` "
                                f"(or `make KCHECK=1`)")
    i = argv.index("-kernel")
    argv[i + 1] = kernel
    return argv


def use_nic(argv, how):
    """Give the QEMU argv a virtio-net NIC in virtio-mmio slot 1 on the
    host's loopback only.  how=True: QEMU's end is a free UDP port A on
    127.0.0.1, ours a grade/net.py Peer bound to a free port B, which is
    returned.  how="loop": QEMU sends its frames to its own port (the
    guest receives everything it sends); returns None."""
    if how == "loop":
        a = b = hostnet.free_udp_port()
        peer = None
    elif how is True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((hostnet.LOOPBACK, 0))      # (held while the Peer picks its own port)
            a = s.getsockname()[1]
            peer = hostnet.Peer(qemu_port=a)
        b = peer.port
    else:
        raise ValueError(f"net={how!r}: True or 'loop'")
    argv += ["-netdev", f"dgram,id=n0,local.type=inet,local.host={hostnet.LOOPBACK},local.port={a},"
                        f"remote.type=inet,remote.host={hostnet.LOOPBACK},remote.port={b}",
             "-device", "virtio-net-device,netdev=n0,bus=virtio-mmio-bus.1"]
    return peer


def fresh_disk(dest):
    """A private copy of the built fs.img at dest (a test may change it).
    Only the file system's part is copied; the swap and app areas after
    it are zeros, left as a hole (a sparse file)."""
    src = os.path.join(console.ROOT, "fs.img")
    total = os.path.getsize(src)
    with open(src, "rb") as f:
        head = f.read(2 * 4096)
        fsblocks = int.from_bytes(head[4096 + 4:4096 + 8], "little")
        if int.from_bytes(head[4096:4096 + 4], "little") != 0x46584f45 or \
                not 2 <= fsblocks * 4096 <= total:
            shutil.copyfile(src, dest)
            return dest
        f.seek(0)
        with open(dest, "wb") as out:
            left = fsblocks * 4096
            while left > 0:
                chunk = f.read(min(left, 1 << 20))
                out.write(chunk)
                left -= len(chunk)
            out.truncate(total)
    return dest


def disk_with(tmp_path, files):
    """A disk image made as fs.img is (mkfs: README.md and the programs),
    with files (name: bytes) added to "/": input that no console line can
    type, or a disk filled to a chosen point."""
    extra = tmp_path / "extra"
    extra.mkdir(exist_ok=True)
    for name, data in files.items():
        (extra / name).write_bytes(data)
    image = tmp_path / "with.img"
    root = console.ROOT
    progs = sorted(glob.glob(os.path.join(root, "user", "bin", "*")))
    subprocess.run([os.path.join(root, "mkfs", "mkfs"), str(image), os.path.join(root, "README.md")]
                   + progs + [str(extra / name) for name in files], check=True)
    return image


@pytest.fixture
def boot(request, tmp_path):
    """Start QEMU running one program as the first env.

        con = boot("cowtest", cpus=3, args="x y")

    Keyword arguments: cpus (default 1), args (more boot arguments),
    icount=True (deterministic instruction counting, for benchmarks),
    mem="256M" (another RAM size than the Makefile's), fail_on (regexes
    that fail the test as soon as they appear; default a kernel panic; ()
    to allow anything), disk (the image to boot on; default a fresh copy of
    fs.img for this boot, so tests never see each other's writes), kernel
    (another kernel image, e.g. KCHECK_KERNEL, the invariant-checking
    kernel that `make grade` builds), net (True: a NIC whose frames reach
    a grade/net.py Peer on 127.0.0.1, which is con.net; "loop": a NIC
    whose frames come back to it; see use_nic)."""
    started = []
    peers = []
    request.node.grade_consoles = started

    def start(prog, cpus=1, args="", icount=False, mem=None,
              fail_on=(console.PANIC,), disk=None, kernel=None, net=None):
        argv = console.qemu_command(cpus, icount=icount)
        peer = None
        if net:
            peer = use_nic(argv, net)
            if peer is not None:
                peers.append(peer)
        if kernel is not None:
            use_kernel(argv, kernel)
        if disk is None:
            disk = fresh_disk(tmp_path / f"fs{len(started)}.img")
        use_disk(argv, disk)
        if mem is not None:
            i = argv.index("-m")
            argv[i + 1] = mem
        append = f"{prog} {args}".strip()
        name = f"{append} (cpus={cpus})"
        append += f" token={console.TOKEN}"
        con = console.Console(argv + ["-append", append], name=name,
                              fail_on=fail_on)
        con.net = peer
        started.append(con)
        return con

    yield start
    for con in started:
        con.kill()
    for peer in peers:
        peer.close()
