"""Lab "vm": the heap (sbrk, mapping pages through raw PTE calls) and a
page-table printer that reads the page table through UVPT."""

import random
import re

import pytest

import console

pytestmark = pytest.mark.lab("vm")

INIT_EXITED = r"init exited with status (-?\d+)\n"


@pytest.mark.points(5)
def test_sbrk(boot, cpus):
    con = boot("sbrktest", cpus=cpus, fail_on=[console.PANIC, r"FAIL"])
    con.expect(console.ok("sbrktest"), timeout=60)
    assert con.expect(INIT_EXITED)[1] == "0"


@pytest.mark.points(6)
@pytest.mark.cpus(1)
def test_vmprint(boot, cpus):
    # three pages at random addresses, in different gigabytes, and a fourth
    # next to the first (same leaf table)
    gib = random.sample(range(4, 250), 3)
    vas = [(g << 30) + (random.randrange(0, 1 << 18) << 12) for g in gib]
    vas[1] |= 1 << 21                         # (an odd middle-level index)
    vas.append(vas[0] ^ (1 << 12))            # (one of the two has an odd leaf index)
    perms = ["rw", "r", "rx", "rw"]
    args = " ".join(f"{va:x}:{p}" for va, p in zip(vas, perms))
    con = boot("vmprinttest", cpus=cpus, args=args, fail_on=[console.PANIC, r"^lab vm: .* not written yet"])
    con.expect(rf"^vmprinttest: done {console.TOKEN}", timeout=60)
    out = con.output
    where = {int(v, 16): int(p, 16) for v, p in
             re.findall(r"^vmprinttest: va 0x([0-9a-f]+) pa 0x([0-9a-f]+)$", out, re.M)}
    n = int(re.search(r"^vmprinttest: (\d+) pages mapped$", out, re.M)[1])
    table = out[out.index("pages mapped"):out.index("vmprinttest: done")]
    assert re.search(r"^page table of env [0-9a-f]{8}$", table, re.M), "no title line"
    leaves = {int(v, 16): (int(i), int(p, 16), f.strip()) for i, v, p, f in re.findall(
        r"^ \.\. \.\. (\d+): va 0x([0-9a-f]+) pa 0x([0-9a-f]+) (.*)$", table, re.M)}
    assert len(leaves) == n, f"{len(leaves)} leaf lines, but {n} pages are mapped"
    for va, perm in zip(vas, perms):
        assert va in leaves, f"no leaf line for va {va:#x}"
        index, pa, flags = leaves[va]
        assert index == (va >> 12) & 511, f"va {va:#x}: printed leaf index {index}"
        assert pa == where[va], f"va {va:#x}: printed pa {pa:#x}, it is {where[va]:#x}"
        want = "".join(c if c in perm else "-" for c in "rwx")
        assert flags.split()[0] == want, f"va {va:#x}: printed {flags!r}, mapped {perm}"
    roots = {int(i) for i in re.findall(r"^ (\d+): pte 0x[0-9a-f]+ pa 0x[0-9a-f]+$", table, re.M)}
    for va in vas:
        assert va >> 30 in roots, f"no root-level line for index {va >> 30} (va {va:#x})"
    mids = re.findall(r"^ \.\. (\d+): pte", table, re.M)
    for va in vas:
        assert str((va >> 21) & 511) in mids, f"no middle-level line for index {(va >> 21) & 511} (va {va:#x})"
