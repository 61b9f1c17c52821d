#!/usr/bin/env bash
# STAND-IN for the Miniforge installer, for tests only (no package index or download site is
# reachable from the build machines). It takes -b -p PREFIX like the real installer and installs a
# fake `conda` whose `create --prefix P python=V PKGS...` makes a Python virtual environment at P
# and records the requested specs in P/conda-specs.txt.
set -euo pipefail
prefix=""
while [ $# -gt 0 ]; do
  case "$1" in
    -p) prefix=$2; shift 2 ;;
    *) shift ;;
  esac
done
[ -n "$prefix" ] || { echo "usage: $0 -b -p PREFIX" >&2; exit 2; }
mkdir -p "$prefix/bin"
cat > "$prefix/bin/conda" <<'CONDA'
#!/usr/bin/env bash
set -euo pipefail
[ "${1:-}" = create ] || { echo "stand-in conda only knows 'create'" >&2; exit 1; }
shift
prefix=""
specs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix|-p) prefix=$2; shift 2 ;;
    --yes|-y|--quiet|-q) shift ;;
    *) specs+=("$1"); shift ;;
  esac
done
python3 -m venv "$prefix"
printf '%s\n' "${specs[@]}" > "$prefix/conda-specs.txt"
CONDA
chmod +x "$prefix/bin/conda"
echo "stand-in Miniforge installed into $prefix"
