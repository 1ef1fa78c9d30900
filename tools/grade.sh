#!/usr/bin/env bash
# Run the autograder: tools/grade.sh [VAR=value ...] [pytest options]
#
#   tools/grade.sh                 every lab
#   tools/grade.sh LAB=util        one lab (LAB=a,b for several)
#   tools/grade.sh CPUS=1          only the CPUS=1 runs
#   tools/grade.sh -k cowtest      any pytest option (--tb=long for tracebacks)
#
# Environment: LAB, LAB_ONLY, VERIFY (see below), CPUS, GRADE_TIMEOUT_SCALE (multiplies every timeout),
# GRADE_RESULTS (where results.json goes), GRADE_PYTHON (a python with pytest).
# Expects the kernel to be built already; `make grade` builds, then runs this.
set -euo pipefail
cd "$(dirname "$0")/.."

args=()
for a in "$@"; do
    if [[ $a =~ ^[A-Z_][A-Z0-9_]*= ]]; then
        export "${a?}"
    else
        args+=("$a")
    fi
done

py=$(tools/deps.sh python)
# VERIFY=<file>: first check the grader's own files against a SHA256SUMS
# (tools/seal.py; the instructor keeps the one of the released tree).
# VERIFY=1 uses the tree's own grade/SHA256SUMS (a check for accidents only).
if [[ -n ${VERIFY:-} && ${VERIFY} != 0 ]]; then
    sums=$VERIFY
    [[ $sums == 1 ]] && sums=grade/SHA256SUMS
    [[ -f $sums ]] || { echo "grade: VERIFY=$VERIFY: no such file" >&2; exit 2; }
    "$py" tools/seal.py check "$sums" . || exit 2
fi
export PYTHONDONTWRITEBYTECODE=1
exec "$py" -m pytest grade/ -p no:cacheprovider ${args[@]+"${args[@]}"}
