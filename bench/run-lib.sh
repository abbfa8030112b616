# Shared by the recorded-run scripts (full-run.sh, workers-run.sh): where reports go
# and how one scenario runs. Source it with the output folder as $1.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/bench/out}"
mkdir -p "$out"
node="$("$root/scripts/node24.sh")"
run() {
  echo "== $*" >&2
  "$node" --disable-warning=ExperimentalWarning "$root/bench/main.ts" "$@" --out "$out" > /dev/null
}
