#!/usr/bin/env bash
# Build a Gradescope autograder for one lab: gradescope-<lab>.zip with
#   setup.sh        installs the Debian packages (cross gcc, QEMU, OpenSBI,
#                   pytest) on Gradescope's Ubuntu image
#   run_autograder  grades /autograder/submission against the official
#                   student tree of the lab (tools/grade_class.py --one):
#                   the grader's own files are restored from it first, then
#                   make, then the grader writes /autograder/results/results.json
#   official/       the official student tree of the lab (make handout)
#
#   tools/gradescope.sh LAB          (make gradescope LAB=cow)
set -euo pipefail
cd "$(dirname "$0")/.."
lab=${1:?usage: tools/gradescope.sh LAB}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
python3 tools/handout.py "$lab" "$out/official" >/dev/null
rm -f "$out/official.tar.gz"

cat >"$out/setup.sh" <<'SETUP'
#!/usr/bin/env bash
# Gradescope runs this once, as root, when the autograder image is built.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y make gcc gcc-riscv64-unknown-elf qemu-system-misc opensbi python3 python3-pytest
SETUP

cat >"$out/run_autograder" <<RUN
#!/usr/bin/env bash
# Gradescope runs this for each submission.
set -uo pipefail
official=/autograder/source/official
sub=/autograder/submission
# the submission's tree: where its Makefile is (the top, or one folder down)
tree=\$sub
[[ -f \$tree/Makefile ]] || tree=\$(dirname "\$(find "\$sub" -maxdepth 2 -name Makefile | head -1)")
mkdir -p /autograder/results
cd "\$official"
export GRADE_TIMEOUT_SCALE=\${GRADE_TIMEOUT_SCALE:-2}
python3 tools/grade_class.py --one $lab "\$tree" "\$official" /autograder/results/results.json
RUN
chmod +x "$out/setup.sh" "$out/run_autograder"
rm -f "gradescope-$lab.zip"
(cd "$out" && python3 -c "
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:
    for d, _, fs in os.walk('.'):
        for f in fs:
            p = os.path.join(d, f)
            info = zipfile.ZipInfo.from_file(p, os.path.relpath(p, '.'))
            with open(p, 'rb') as fh:
                z.writestr(info, fh.read())
" "$OLDPWD/gradescope-$lab.zip")
echo "gradescope: gradescope-$lab.zip (upload it as the autograder of lab $lab)"
