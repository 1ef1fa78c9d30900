# Build, boot, grade and benchmark the exokernel.  `make` builds everything;
# `make qemu`, `make qemu-gdb`, `make grade`, `make bench`, `make clean`;
# `make fuzz N=<calls> SEED=<s>` fuzzes the system calls; KCHECK=1 with
# any of these builds and boots kernel/kernel.kcheck, which checks the
# kernel's invariants as it runs (kernel/kcheck.c).
# The course (labs/README.md): `make handout LAB=x`, `make selftest`,
# `make grade-class LAB=x SUBMISSIONS=dir`, `make gradescope LAB=x`.

CPUS  ?= 3
INIT  ?= init
FSIMG ?= fs.img
LAB   ?=
ICOUNT ?=

# Check for (and on Debian, as root, install) the cross compiler; print the
# prefix.  TOOLPREFIX=... on the command line overrides the probe.
ifndef TOOLPREFIX
TOOLPREFIX := $(shell tools/deps.sh toolprefix)
ifeq ($(TOOLPREFIX),)
$(error no RISC-V cross compiler: see the message above, or set TOOLPREFIX=)
endif
endif

CC      = $(TOOLPREFIX)gcc
LD      = $(TOOLPREFIX)ld
OBJDUMP = $(TOOLPREFIX)objdump
NM      = $(TOOLPREFIX)nm
AR      = $(TOOLPREFIX)ar
OBJCOPY = $(TOOLPREFIX)objcopy

# Newer binutils want the Zicsr/Zifencei extensions named; older ones refuse them.
MARCH := $(shell t=$$(mktemp) && if echo 'int x;' | $(CC) -march=rv64imac_zicsr_zifencei -mabi=lp64 -c -x c - -o $$t 2>/dev/null; then echo rv64imac_zicsr_zifencei; else echo rv64imac; fi; rm -f $$t)

CFLAGS  = -march=$(MARCH) -mabi=lp64 -mcmodel=medany -mno-relax -O2 -g -Wall -Werror
CFLAGS += -ffreestanding -fno-builtin -fno-common -nostdlib -fno-stack-protector
CFLAGS += -fno-pie -fno-asynchronous-unwind-tables
CFLAGS += -Ikernel -Iulib -Iulib/xv6 -MMD -MP   # ulib/xv6: xv6's headers, for xv6 programs
LDFLAGS = -z max-page-size=4096 --no-relax

KSRCS  = $(filter-out kernel/kcheck.c,$(wildcard kernel/*.c)) $(filter-out kernel/progs.S,$(wildcard kernel/*.S))
KOBJS  = $(patsubst %.c,%.o,$(patsubst %.S,%.o,$(KSRCS))) kernel/progs.o
KSTACKOBJS = $(patsubst %.c,%.o,$(filter %.c,$(KSRCS)))
# The kernel's C files also write their call graphs with frame sizes (.ci),
# for the stack-depth check (tools/stackcheck.py) when the kernel links.
$(KSTACKOBJS): CFLAGS += -fcallgraph-info=su
# The invariant-checking kernel (make KCHECK=1): the same sources and
# kernel/kcheck.c built with -DKCHECK into objects of their own (*.kc.o),
# so the normal kernel is not touched.
KCOBJS = $(patsubst %.c,%.kc.o,$(patsubst %.S,%.kc.o,$(KSRCS) kernel/kcheck.c)) kernel/progs.o
ULSRCS = $(wildcard ulib/*.c) $(wildcard ulib/*.S)
ULOBJS = $(patsubst %.c,%.o,$(patsubst %.S,%.o,$(ULSRCS)))
UPROGS = $(patsubst user/%.c,user/_%,$(wildcard user/*.c))
# What goes on the disk (and into the kernel): the programs without debug
# information.
UBINS  = $(patsubst user/_%,user/bin/%,$(UPROGS))

all: kernel/kernel kernel/kernel.kcheck fs.img   # (the checking kernel: for the attack and fuzz tests)

# mkfs runs on the host.
mkfs/mkfs: mkfs/mkfs.c ulib/fsformat.h kernel/types.h
	@echo "  HOSTCC  $@"
	$(Q)cc -O2 -Wall -Werror -o $@ mkfs/mkfs.c

# ---- the file system on corrupted images, on the host (fuzz/README.md) ----
# fuzz/fsfuzz runs the file server's core (FSCORE) in a host process on
# seeded corruptions of fs.img, and mkfs -c (built with sanitizers:
# fuzz/mkfs-san) on the same images.  With clang (or a gcc with libasan)
# both are built with AddressSanitizer and UBSan; without, plainly.  `make
# fsfuzz` runs 1,000 cases; FUZZSEED=n and FUZZCASES=n choose others.
# `make fsfuzz-lf` builds the libFuzzer target, fuzz/fsfuzz-lf (clang only).
FUZZCC   := $(shell command -v clang >/dev/null 2>&1 && echo clang || echo cc)
FUZZSAN  := $(shell echo 'int main(void){return 0;}' | $(FUZZCC) -fsanitize=address,undefined -x c - -o /dev/null 2>/dev/null && echo -fsanitize=address,undefined -fno-sanitize-recover=undefined)
FUZZFLAGS = -g -O1 -Wall -Werror $(FUZZSAN)
FUZZSEED ?= 1
FUZZCASES ?= 1000
# The file server's core, in the order fuzz/fsfuzz.c includes it.
FSCORE = ulib/bio.c ulib/log.c ulib/inode.c ulib/dir.c ulib/fs.c

fuzz/fsfuzz: fuzz/fsfuzz.c fuzz/fsshim.h $(FSCORE) ulib/fs.h ulib/fsint.h ulib/fsformat.h kernel/abi.h
	@echo "  HOSTCC  $@"
	$(Q)$(FUZZCC) $(FUZZFLAGS) -include fuzz/fsshim.h -o $@ fuzz/fsfuzz.c

fuzz/fsfuzz-lf: fuzz/fsfuzz.c fuzz/fsshim.h $(FSCORE) ulib/fs.h ulib/fsint.h ulib/fsformat.h kernel/abi.h
	@echo "  HOSTCC  $@"
	$(Q)clang -g -O1 -DLIBFUZZER -fsanitize=fuzzer,address,undefined -include fuzz/fsshim.h -o $@ fuzz/fsfuzz.c

fsfuzz-lf: fuzz/fsfuzz-lf

fuzz/mkfs-san: mkfs/mkfs.c ulib/fsformat.h kernel/types.h
	@echo "  HOSTCC  $@"
	$(Q)$(FUZZCC) $(FUZZFLAGS) -o $@ mkfs/mkfs.c

fsfuzz: fuzz/fsfuzz fuzz/mkfs-san fs.img
	ASAN_OPTIONS=exitcode=99:detect_leaks=0 UBSAN_OPTIONS=exitcode=99:print_stacktrace=1 \
	  fuzz/fsfuzz -s $(FUZZSEED) -n $(FUZZCASES) -m fuzz/mkfs-san fs.img

# The disk image: README.md and every program, in "/".
fs.img: mkfs/mkfs README.md $(UBINS)
	@echo "  MKFS    $@"
	$(Q)mkfs/mkfs $@ README.md $(UBINS)

# Flags live in this file: objects are rebuilt when it changes.
$(KOBJS) $(KCOBJS) $(ULOBJS) $(patsubst user/_%,user/%.o,$(UPROGS)): Makefile

# V=1 shows the full commands.
ifeq ($(V),1)
Q =
else
Q = @
endif

%.o: %.c
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<
%.o: %.S
	@echo "  AS      $@"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<
kernel/%.kc.o: kernel/%.c
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -DKCHECK -c -o $@ $<
kernel/%.kc.o: kernel/%.S
	@echo "  AS      $@"
	$(Q)$(CC) $(CFLAGS) -DKCHECK -c -o $@ $<

# The library OS is an archive: a program links only the parts it uses.
# Its functions are made weak, as a C library's are interposable: a program
# may define its own function with a library name (xv6's sh has its own
# panic) and its definition is the one used, by the library too, where
# with strong symbols the link would fail whenever the library's object
# holding that name came in for another one.  Data stays strong (a program
# variable with a library variable's name is an error, not shared memory).
# Two library objects must never define one name: that is checked here.
# (Each object's own definitions are weakened, not the references to them
# in other objects: a weak reference would not pull its object in.)
ulib/ulib.a: $(ULOBJS)
	@echo "  AR      $@"
	$(Q)dups=$$($(NM) -g --defined-only $(ULOBJS) | awk 'NF == 3 {print $$3}' | sort | uniq -d); \
	  if [ -n "$$dups" ]; then echo "ulib: defined twice: $$dups"; exit 1; fi
	$(Q)rm -rf $@ ulib/weak && mkdir ulib/weak && for o in $(ULOBJS); do \
	  $(NM) -g --defined-only $$o | awk '$$2 == "T" {print $$3}' > ulib/weak/list && \
	  $(OBJCOPY) --weaken-symbols=ulib/weak/list $$o ulib/weak/$$(basename $$o) || exit 1; done
	$(Q)$(AR) rcs $@ $(addprefix ulib/weak/,$(notdir $(ULOBJS))) && rm -rf ulib/weak

# Every user/*.c is a program: linked with the library OS at UTEXT.
user/_%: user/%.o ulib/ulib.a ulib/user.ld
	@echo "  LD      $@"
	$(Q)$(LD) $(LDFLAGS) -T ulib/user.ld -o $@ ulib/entry.o $< ulib/ulib.a
	$(Q)$(OBJDUMP) -S $@ > user/$*.asm
	$(Q)$(NM) -n $@ > user/$*.sym

user/bin/%: user/_%
	@mkdir -p user/bin
	$(Q)$(OBJCOPY) --strip-all $< $@

# The programs are also embedded in the kernel image: the first env is loaded
# from there (INIT=prog boots any of them directly, as the grader does).
kernel/progs.S: $(UBINS) Makefile
	@( echo '# generated by the Makefile: the embedded user programs'; \
	  echo '.section .rodata'; \
	  for p in $(UBINS); do n=$${p#user/bin/}; \
	    echo ".balign 8"; echo "name_$$n: .string \"$$n\""; \
	    echo ".balign 8"; echo "start_$$n: .incbin \"$$p\""; echo "end_$$n:"; done; \
	  echo '.balign 8'; echo '.globl progs'; echo 'progs:'; \
	  for p in $(UBINS); do n=$${p#user/bin/}; \
	    echo ".dword name_$$n, start_$$n, end_$$n"; done; \
	  echo '.dword 0, 0, 0' ) > $@

kernel/kernel: $(KOBJS) kernel/kernel.ld tools/stackcheck.py
	@echo "  STACK   $@"
	$(Q)command -v python3 >/dev/null || tools/deps.sh build
	$(Q)python3 tools/stackcheck.py $(OBJDUMP) $(KSTACKOBJS) > kernel/stackcheck.txt || \
	  { cat kernel/stackcheck.txt; exit 1; }
	@echo "  LD      $@"
	$(Q)$(LD) $(LDFLAGS) -T kernel/kernel.ld -o $@ $(KOBJS)
	$(Q)$(OBJDUMP) -S $@ > kernel/kernel.asm
	$(Q)$(NM) -n $@ > kernel/kernel.sym

kernel/kernel.kcheck: $(KCOBJS) kernel/kernel.ld
	@echo "  LD      $@"
	$(Q)$(LD) $(LDFLAGS) -T kernel/kernel.ld -o $@ $(KCOBJS)
	$(Q)$(NM) -n $@ > kernel/kernel.kcheck.sym

# The matmul baseline with no OS (make bench compares against it).
bench/baremetal: bench/start.o bench/baremetal.o bench/baremetal.ld
	@echo "  LD      $@"
	$(Q)$(LD) $(LDFLAGS) -T bench/baremetal.ld -o $@ bench/start.o bench/baremetal.o

# ---- running ----
QEMU     = qemu-system-riscv64
QEMUOPTS = -machine virt -bios default -m 128M -smp $(CPUS) -nographic
KERNEL   = $(if $(KCHECK),kernel/kernel.kcheck,kernel/kernel)
QEMUOPTS += -global virtio-mmio.force-legacy=false -kernel $(KERNEL)
# The disk: changes persist in $(FSIMG), as on a real machine (the grader
# boots each test on its own copy).
QEMUOPTS += -drive file=$(FSIMG),if=none,format=raw,id=x0
QEMUOPTS += -device virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0
ifneq ($(ICOUNT),)
QEMUOPTS += -icount shift=0,align=off,sleep=off
endif
GDBPORT := $(shell expr `id -u` % 5000 + 25000)
# The NIC (virtio-mmio slot 1) carries Ethernet frames in UDP datagrams
# between QEMU, listening on 127.0.0.1:NETPORT, and a host program on
# 127.0.0.1:NETPORT+1 (make ping, make udp-send; grade/net.py): nothing
# leaves this machine.  NETPORT=loop sends the guest's frames back to it.
NETPORT := $(shell expr `id -u` % 5000 + 30000)
NETDEV   = -device virtio-net-device,netdev=n0,bus=virtio-mmio-bus.1 -netdev dgram,id=n0,local.type=inet,local.host=127.0.0.1,remote.type=inet,remote.host=127.0.0.1
LOOPPORT := $(shell expr `id -u` % 5000 + 35000)
LOOPNET  = $(NETDEV),local.port=$(LOOPPORT),remote.port=$(LOOPPORT)
ifeq ($(NETPORT),loop)
NETOPTS  = $(LOOPNET)
else
NETOPTS  = $(NETDEV),local.port=$(NETPORT),remote.port=$(shell expr $(NETPORT) + 1)
endif

deps-qemu:
	@tools/deps.sh qemu

qemu: deps-qemu $(KERNEL) fs.img
	@echo "*** booting '$(INIT)' on $(CPUS) harts; Ctrl-a x quits"
	$(QEMU) $(QEMUOPTS) $(NETOPTS) -append "$(INIT)"

# The host's end of `make qemu`'s NIC (tools/nethost.py, grade/net.py): in
# another terminal, while the guest runs a program with the network stack
# (make qemu INIT="udpecho 7"), `make ping [COUNT=3]` sends it ICMP echo
# requests and `make udp-send PORT=7 MSG=hello` a datagram, and each prints
# what comes back (or why nothing did).
COUNT ?= 3
MSG   ?= hello
ping:
	@test "$(NETPORT)" != loop || { echo "make ping: NETPORT=loop has no host end"; exit 1; }
	@python3 tools/nethost.py --netport $(NETPORT) ping --count $(COUNT)

udp-send:
	@test -n "$(PORT)" || { echo "make udp-send PORT=<the guest's UDP port> MSG=<text>"; exit 1; }
	@test "$(NETPORT)" != loop || { echo "make udp-send: NETPORT=loop has no host end"; exit 1; }
	@python3 tools/nethost.py --netport $(NETPORT) udp-send $(PORT) "$(MSG)"

# The system-call fuzzer (user/fuzz.c) as the first env: make fuzz N=<calls>
# SEED=<s> [CPUS=n] [KCHECK=1].  QEMU powers off when it is done; the disk
# is a snapshot (the fuzzer writes blocks at its end).
N    ?= 1000000
SEED ?=
fuzz: deps-qemu $(KERNEL) fs.img
	@echo "*** fuzzing: $(N) calls$(if $(SEED), seed $(SEED)) on $(CPUS) harts, $(KERNEL)"
	$(QEMU) $(QEMUOPTS) $(LOOPNET) -snapshot -append "fuzz n=$(N)$(if $(SEED), seed=$(SEED))"

.gdbinit: tools/gdbinit.tmpl Makefile
	sed "s/:1234/:$(GDBPORT)/" < $< > $@

qemu-gdb: deps-qemu $(KERNEL) fs.img .gdbinit
	@echo "*** now run 'gdb-multiarch -x .gdbinit' in this folder (port $(GDBPORT))"
	$(QEMU) $(QEMUOPTS) $(NETOPTS) -append "$(INIT)" -S -gdb tcp::$(GDBPORT)

# The QEMU command line without -append, for the grader (which adds a
# NIC of its own when a test needs one).
qemu-cmd:
	@echo $(QEMU) $(QEMUOPTS)

grade: deps-qemu kernel/kernel kernel/kernel.kcheck fs.img
	@LAB="$(LAB)" LAB_ONLY="$(LAB_ONLY)" VERIFY="$(VERIFY)" CPUS="$(if $(filter command line,$(origin CPUS)),$(CPUS))" tools/grade.sh

bench: deps-qemu kernel/kernel fs.img bench/baremetal
	@tools/bench.sh

# The course's self-test (tools/selftest.py): each listed lab's student
# tree builds, boots, passes base and the earlier labs, and fails every test
# of its own lab.
SELFTEST_LABS ?= util vm upcall cow ckpt ipc sched driver fs revoke app net
selftest: deps-qemu
	@$$(tools/deps.sh python) tools/selftest.py $(SELFTEST_LABS)

# Grade every submission in a folder for one lab: a CSV of scores
# (tools/grade_class.py; see labs/README.md).
grade-class: deps-qemu
	@test -n "$(LAB)" -a -n "$(SUBMISSIONS)" || { echo "make grade-class LAB=<lab> SUBMISSIONS=<folder>"; exit 1; }
	@$$(tools/deps.sh python) tools/grade_class.py $(LAB) $(SUBMISSIONS) $(OUT)

# A Gradescope autograder for one lab: gradescope-<lab>.zip
# (tools/gradescope.sh; see labs/README.md).
gradescope:
	@test -n "$(LAB)" || { echo "make gradescope LAB=<lab>"; exit 1; }
	@tools/gradescope.sh $(LAB)

# The student tree for one lab (labs/manifest, tools/handout.py).
handout:
	@test -n "$(LAB)" || { echo "make handout LAB=<lab>: the labs are in labs/manifest"; exit 1; }
	@tools/handout.py $(LAB)

# The course as a git repository, one branch per lab (tools/handout_repo.py).
handout-repo:
	@tools/handout_repo.py $(OUT)

# A student's hand-in: the tree is a lab's branch with everything committed
# (submit-check); then the archive to hand in (zipball).
submit-check:
	@tools/submit.sh check

zipball:
	@tools/submit.sh zip

# Lines each lab's student writes (its reference regions), and whether the
# course meets its size rule (tools/labstats.py).
labstats:
	@tools/labstats.py

comma := ,
# Mutation testing of a lab's tests (tools/mutate.py): make mutate LAB=ipc
# [N=20 SEED=1] [CPUS=1] [JOBS=2] [WRITE=1: the table into labs/README.md]
# [CHECK=1: fail on a survivor labs/mutants.txt does not explain]
# [RENDER=1: only rewrite the table from labs/mutate-results.json]
# [ONLY=id,id: just these mutants, e.g. to see a new test kill them].
mutate: deps-qemu
	@test -n "$(LAB)" || { echo "make mutate LAB=<lab>|all: the labs are in labs/manifest"; exit 1; }
	@tools/mutate.py $(subst $(comma), ,$(LAB)) --n $(if $(filter command line,$(origin N)),$(N),0) --seed $(or $(SEED),1) \
	    --cpus $(if $(filter command line,$(origin CPUS)),$(CPUS),1) --jobs $(or $(JOBS),2) \
	    $(if $(WRITE),--write) $(if $(CHECK),--check) $(if $(RENDER),--render) \
	    $(if $(ONLY),--only $(ONLY))

clean:
	rm -f kernel/*.o kernel/*.d kernel/*.ci kernel/kernel kernel/kernel.asm kernel/kernel.sym kernel/progs.S
	rm -f kernel/stackcheck.txt kernel/kernel.kcheck kernel/kernel.kcheck.sym
	rm -rf ulib/*.o ulib/*.d ulib/ulib.a ulib/weak user/*.o user/*.d user/_* user/*.asm user/*.sym mkfs/mkfs
	rm -f fuzz/fsfuzz fuzz/fsfuzz-lf fuzz/mkfs-san
	rm -rf user/bin
	rm -f .gdbinit results.json bench/*.o bench/*.d bench/baremetal fs.img
	rm -rf grade/__pycache__ .pytest_cache handout handout-repo submit-*.tar.gz

.PHONY: all qemu fuzz qemu-gdb qemu-cmd ping udp-send grade bench clean fsfuzz deps-qemu handout selftest grade-class gradescope labstats mutate handout-repo submit-check zipball
.SECONDARY:
-include kernel/*.d ulib/*.d user/*.d bench/*.d
