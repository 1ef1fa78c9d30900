"""Lab "disk" (the start of the file-system issue): the kernel's virtio-blk
driver exports 4096-byte blocks checked against block capabilities."""

import pytest

import console

LAB = "base"
pytestmark = pytest.mark.lab(LAB)


@pytest.mark.points(5)
@pytest.mark.lab("ipc")            # (completion by upcall; a child signals by pipe)
def test_disk_blocks_by_capability(boot, cpus):
    con = boot("disktest", cpus=cpus, fail_on=[r"^panic:", r"BROKEN|FAIL"])
    m = con.expect(r"^exokernel: .* (\d+) disk blocks")
    assert int(m[1]) > 0, "no disk found"
    con.expect(console.ok("disktest"), timeout=90)
    status = int(con.expect(r"init exited with status (-?\d+)")[1])
    assert status == 0
