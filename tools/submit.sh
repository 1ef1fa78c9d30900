#!/usr/bin/env bash
# A student's hand-in.
#
#   tools/submit.sh check     (make submit-check) the tree is a git checkout
#                             of a lab's branch, with everything committed
#   tools/submit.sh zip       (make zipball) check, then write
#                             submit-<lab>.tar.gz: the committed tree (git
#                             archive of HEAD) and its history bundle
#
# LAB=<lab> names the lab being handed in; without it the branch's name
# must be a lab of labs/manifest.  The write-up (time.txt, answers-<lab>.txt)
# must be committed too.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "submit: $*" >&2; exit 1; }

labs=$(sed -e 's/#.*//' labs/manifest | awk 'NF {print $1}')
git rev-parse --git-dir >/dev/null 2>&1 ||
    die "this tree is not a git checkout (clone the course's repository, see labs/README.md)"
branch=$(git symbolic-ref --short -q HEAD) || die "HEAD is detached: check out your lab's branch"
lab=${LAB:-$branch}
grep -qx "$lab" <<<"$labs" || die "branch '$branch' is not a lab (the labs: $(echo $labs)); or say LAB=<lab>"
[[ $branch == "$lab" ]] || die "LAB=$lab but the branch is '$branch': check out '$lab' first"
dirty=$(git status --porcelain --untracked-files=normal -- . ':!submit-*.tar.gz' ':!handout' ':!handout-repo')
[[ -z $dirty ]] || die "uncommitted changes; commit them first:
$dirty"
for f in time.txt; do
    git cat-file -e "HEAD:$f" 2>/dev/null || die "$f is not committed (the hours the lab took)"
done
if grep -qE '^(- )?\*\*Q[0-9]+' "labs/$lab.md" 2>/dev/null; then
    git cat-file -e "HEAD:answers-$lab.txt" 2>/dev/null || die "answers-$lab.txt is not committed"
fi
echo "submit: lab $lab, commit $(git rev-parse --short HEAD), clean"

if [[ ${1:-check} == zip ]]; then
    out=submit-$lab.tar.gz
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    git archive --format=tar --prefix="submit-$lab/" HEAD | tar -x -C "$tmp"
    git bundle create -q "$tmp/submit-$lab/history.bundle" HEAD "$branch" 2>/dev/null ||
        git bundle create "$tmp/submit-$lab/history.bundle" HEAD "$branch"
    tar -czf "$out" -C "$tmp" "submit-$lab"
    echo "submit: wrote $out ($(du -h "$out" | cut -f1)): hand this file in"
fi
