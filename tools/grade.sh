#!/usr/bin/env bash
# Run the autograder: tools/grade.sh [VAR=value ...] [pytest options]
#
#   tools/grade.sh                 every lab
#   tools/grade.sh LAB=util        one lab (LAB=a,b for several)
#   tools/grade.sh CPUS=1          only the CPUS=1 runs
#   tools/grade.sh -k cowtest      any pytest option (--tb=long for tracebacks)
#
# Environment: LAB, CPUS, GRADE_TIMEOUT_SCALE (multiplies every timeout),
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
export PYTHONDONTWRITEBYTECODE=1
exec "$py" -m pytest grade/ -p no:cacheprovider ${args[@]+"${args[@]}"}
