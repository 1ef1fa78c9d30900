"""Lab "ckpt": checkpoints of a memory region through page protection
(ulib/ckpt.c), an application of user-level faults.  user/ckpttest checks
itself against a shadow copy; its bench row is checked in test_boot.py
(bench_targets[ckpt])."""

import pytest

import console

pytestmark = pytest.mark.lab("ckpt")


@pytest.mark.points(8)
def test_ckpttest(boot, cpus):
    """Rollback restores the checkpoint exactly, commit keeps the new
    contents, one fault per written page and epoch, reads are free, the
    region's neighbours and real faults are left alone, and every saved
    copy's page comes back."""
    con = boot("ckpttest", cpus=cpus, fail_on=[console.PANIC, r"FAIL",
                                                r"^lab ckpt: .* not written yet"])
    con.expect(console.ok("ckpttest"), timeout=60)
    status = int(con.expect(r"init exited with status (-?\d+)\n")[1])
    assert status == 0, f"ckpttest exited with status {status}"
