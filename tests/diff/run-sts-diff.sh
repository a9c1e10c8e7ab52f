#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run-sts-diff.sh: differential test of mxtls's MTA-STS parsers (RFC 8461) against
# postfix-mta-sts-resolver, over every case of vectors/sts/cases.txt.
#
# Usage: tests/diff/run-sts-diff.sh [options] [WORK-DIR]
#   WORK-DIR        where outputs are kept (default: a temporary directory, removed afterwards)
#   --tap           TAP output: one ok/not ok line per case
#   --mxtls PATH    the mxtls binary (default: $MXTLS or <repo>/build/cli/mxtls)
#   --cases FILE    the case file (default: <repo>/vectors/sts/cases.txt)
#   --readme FILE   where the explained disagreements are listed (default: README.md next to
#                   the case file, section "Differential test")
#   -v, --verbose   print the peer's detail for every case, not only for disagreements
#
# mxtls runs as "mxtls --json sts lint" on each policy file (synthesised ones are written to
# WORK-DIR/synth), with --txt for TXT records, and with --mx on a one-pattern policy for the
# pattern/host pairs.  The peer runs through tests/diff/sts_peer.py.  A case fails when mxtls
# misses its expectation, or when the peer disagrees with mxtls and the README's table does not
# explain that case.  An explained case on which both now agree is reported as a comment.
#
# Exit status: 0 pass (or TAP skip when the peer is not installed, unless MXTLS_TEST_NO_SKIP=1),
# 1 failure, 2 set-up error.  Needs bash, python3 and the Debian package
# postfix-mta-sts-resolver (its Python modules; /usr/bin/python3 is tried first, or only
# $MXTLS_PEER_PYTHON when set).
set -uo pipefail
export LC_ALL=C

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

tap=0 verbose=0
mxtls=${MXTLS:-$root/build/cli/mxtls}
cases=$root/vectors/sts/cases.txt
readme=""
work=""

die() { printf 'run-sts-diff: %s\n' "$*" >&2; exit 2; }

while (($#)); do
    case $1 in
        --tap) tap=1 ;;
        --mxtls) [[ $# -ge 2 ]] || die "--mxtls needs a path"; mxtls=$2; shift ;;
        --cases) [[ $# -ge 2 ]] || die "--cases needs a path"; cases=$2; shift ;;
        --readme) [[ $# -ge 2 ]] || die "--readme needs a path"; readme=$2; shift ;;
        -v | --verbose) verbose=1 ;;
        -h | --help) sed -n '3,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) die "unknown option $1" ;;
        *) [[ -z $work ]] || die "only one WORK-DIR"; work=$1 ;;
    esac
    shift
done

[[ -x $mxtls ]] || die "mxtls binary not found at $mxtls (build it, or pass --mxtls)"
[[ -r $cases ]] || die "cannot read $cases"
casedir=$(cd "$(dirname "$cases")" && pwd)
cases=$casedir/$(basename "$cases")
[[ -n $readme ]] || readme=$casedir/README.md
[[ -r $readme ]] || die "cannot read $readme"

# ---- the peer: a Python that can import postfix_mta_sts_resolver ----
py="" peer_version=""
candidates=(/usr/bin/python3 python3)
[[ -n ${MXTLS_PEER_PYTHON:-} ]] && candidates=("$MXTLS_PEER_PYTHON") # only that one, if set
for cand in "${candidates[@]}"; do
    command -v "$cand" >/dev/null 2>&1 || continue
    v=$("$cand" "$here/sts_peer.py" version 2>/dev/null) || continue
    if [[ -n $v && $v != missing ]]; then
        py=$cand peer_version=$v
        break
    fi
done
if [[ -z $py ]]; then
    why="postfix-mta-sts-resolver is not installed (apt-get install postfix-mta-sts-resolver)"
    if [[ ${MXTLS_TEST_NO_SKIP:-0} == 1 ]]; then
        ((tap)) && printf '1..0\nBail out! %s\n' "$why"
        die "$why (MXTLS_TEST_NO_SKIP=1 forbids skipping)"
    fi
    if ((tap)); then printf '1..0 # SKIP %s\n' "$why"; else printf 'run-sts-diff: skipped: %s\n' "$why"; fi
    exit 0
fi

if [[ -z $work ]]; then
    work=$(mktemp -d "${TMPDIR:-/tmp}/sts-diff.XXXXXX") || die "mktemp failed"
    trap 'rm -rf "$work"' EXIT
else
    mkdir -p "$work" || die "cannot create $work"
    work=$(cd "$work" && pwd)
fi
rm -rf "$work/mxtls" "$work/synth" "$work/mx"
mkdir -p "$work/mxtls" "$work/mx" || die "cannot write $work"
conf=$work/empty.conf
: >"$conf"
"$py" "$here/sts_peer.py" synth "$cases" "$work" || die "cannot synthesise policies"

# ---- mxtls on every case ----
run_mxtls() { # name, then the lint arguments
    local name=$1
    shift
    "$mxtls" --config "$conf" --json sts lint "$@" >"$work/mxtls/$name.json" 2>"$work/mxtls/$name.err"
    echo $? >"$work/mxtls/$name.rc"
}

names=()
name="" kind="" input="" pattern="" host=""
txts=()
lineno=0
while IFS= read -r line || [[ -n $line ]]; do
    lineno=$((lineno + 1))
    [[ -z $line || $line == \#* ]] && continue
    key=${line%% *}
    val=""
    [[ $line == *" "* ]] && val=${line#* }
    case $key in
        case) name=$val kind="" input="" pattern="" host="" txts=() ;;
        policy | synth | synthmx) kind=$key input=$val ;;
        txt) kind=txt txts+=("$(printf '%b' "$val")") ;;
        pattern) kind=mx pattern=$(printf '%b' "$val") ;;
        host) host=$(printf '%b' "$val") ;;
        end)
            [[ -n $name && -n $kind ]] || die "$cases:$lineno: incomplete case '$name'"
            names+=("$name")
            case $kind in
                policy) run_mxtls "$name" "$casedir/$input" ;;
                synth | synthmx) run_mxtls "$name" "$work/synth/$name.txt" ;;
                txt)
                    args=()
                    for t in "${txts[@]}"; do args+=(--txt "$t"); done
                    run_mxtls "$name" "${args[@]}"
                    ;;
                mx)
                    printf 'version: STSv1\nmode: enforce\nmx: %s\nmax_age: 86400\n' "$pattern" >"$work/mx/$name.txt"
                    run_mxtls "$name" "$work/mx/$name.txt" --mx "$host"
                    ;;
            esac
            ;;
        expect | mode | max_age | mx | id | error | errors | warnings | source | note) ;;
        *) die "$cases:$lineno: unknown keyword '$key'" ;;
    esac
done <"$cases"
total=${#names[@]}
((total > 0)) || die "no cases in $cases"

declare -A MS=() MOK=() MD=() PS=() PD=() KCLASS=() KWHY=()
while IFS=$'\t' read -r n k s ok d; do
    MS[$n]=$s MOK[$n]=$ok MD[$n]=$d
done < <("$py" "$here/sts_peer.py" mxtls "$cases" "$work/mxtls")
while IFS=$'\t' read -r n k s d; do
    PS[$n]=$s PD[$n]=$d
done < <("$py" "$here/sts_peer.py" peer "$cases" "$work" 2>"$work/peer.err")

# ---- the explained disagreements, from the README section "Differential test": the class
# table (rows "| CLASS | count | what the peer does | who is right |") and the case table
# (rows "| `case` | CLASS | ... |") ----
declare -A CWHY=()
while IFS=$'\t' read -r c w; do
    CWHY[$c]=$w
done < <(awk -F'|' '
    /^## / { on = ($0 ~ /Differential test/) }
    on && /^\| *[A-Z0-9]+ *\| *[0-9]+ *\|/ {
        c = $2; gsub(/ /, "", c); w = $4 " -- " $5; gsub(/^ +| +$/, "", w); gsub(/  +/, " ", w)
        printf "%s\t%s\n", c, w
    }' "$readme")
while IFS=$'\t' read -r n c; do
    KCLASS[$n]=$c KWHY[$n]=${CWHY[$c]:-}
done < <(awk -F'|' '
    /^## / { on = ($0 ~ /Differential test/) }
    on && /^\| *`[^`]+` *\|/ {
        n = $2; gsub(/[ `]/, "", n); c = $3; gsub(/ /, "", c); printf "%s\t%s\n", n, c
    }' "$readme")

# ---- compare ----
agree=0 explained=0 unexplained=0 wrong=0 stale=0
declare -A CLASSN=()
result=() note=()
for n in "${names[@]}"; do
    m=${MS[$n]:-missing} p=${PS[$n]:-missing}
    st=ok nt=""
    if [[ ${MOK[$n]:-WRONG} != ok ]]; then
        st="not ok" nt="MXTLS WRONG: ${MD[$n]:-no output}"
        wrong=$((wrong + 1))
    fi
    if [[ $m == "$p" ]]; then
        agree=$((agree + 1))
        if [[ -n ${KCLASS[$n]:-} ]]; then
            stale=$((stale + 1))
            nt+="${nt:+; }agree, but README still explains a difference (${KCLASS[$n]})"
        else
            nt+="${nt:+; }agree"
        fi
    elif [[ -n ${KCLASS[$n]:-} ]]; then
        explained=$((explained + 1))
        CLASSN[${KCLASS[$n]}]=$((${CLASSN[${KCLASS[$n]}]:-0} + 1))
        nt+="${nt:+; }differ, explained: ${KCLASS[$n]}"
    else
        unexplained=$((unexplained + 1))
        st="not ok"
        nt+="${nt:+; }differ, UNEXPLAINED (not in the README table)"
    fi
    result+=("$st")
    note+=("$nt")
done

short() { local s=$1; ((${#s} > 70)) && s="${s:0:67}..."; printf '%s' "$s"; }

if ((tap)); then
    printf 'TAP version 13\n1..%d\n' "$total"
    for i in "${!names[@]}"; do
        n=${names[$i]}
        d="$n: mxtls $(short "${MS[$n]:-missing}"); peer $(short "${PS[$n]:-missing}"); ${note[$i]}"
        printf '%s %d - %s\n' "${result[$i]}" "$((i + 1))" "${d//#/}"
    done
else
    printf '%-44s %-8s %-34s %-34s %s\n' case result mxtls peer note
    for i in "${!names[@]}"; do
        n=${names[$i]}
        printf '%-44s %-8s %-34s %-34s %s\n' "$n" "${result[$i]}" "$(short "${MS[$n]:-missing}")" \
            "$(short "${PS[$n]:-missing}")" "${note[$i]}"
    done
fi

printf '#\n# Disagreements (mxtls / peer / why):\n'
for i in "${!names[@]}"; do
    n=${names[$i]}
    [[ ${MS[$n]:-} == "${PS[$n]:-}" ]] && ((verbose == 0)) && continue
    why=UNEXPLAINED
    [[ -n ${KCLASS[$n]:-} ]] && why="${KCLASS[$n]}: ${KWHY[$n]}"
    printf '#   %s\n#     mxtls: %s  %s\n#     peer:  %s  %s\n#     -> %s\n' "$n" "${MS[$n]:-missing}" \
        "${MD[$n]:-}" "${PS[$n]:-missing}" "${PD[$n]:-}" "$why"
done
printf '#\n# peer: %s (run with %s)\n' "$peer_version" "$py"
printf '# mxtls meets the expectation of %d of %d cases\n' "$((total - wrong))" "$total"
printf '# the peer agrees with mxtls on %d of %d cases; %d differ, explained in %s' "$agree" "$total" \
    "$explained" "${readme#"$root"/}"
for c in $(printf '%s\n' "${!CLASSN[@]}" | sort); do printf ' [%s: %d]' "$c" "${CLASSN[$c]}"; done
printf '\n'
((unexplained)) && printf '# %d disagreement(s) are NOT explained in the README table\n' "$unexplained"
((stale)) && printf '# %d case(s) are explained in the README but agree now: update the table\n' "$stale"
((wrong || unexplained)) && exit 1
exit 0
