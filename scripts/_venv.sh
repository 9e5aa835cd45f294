# Sourced by scripts/demo and scripts/test: create .venv if missing and install the
# locked dependencies (requirements/<EXTRAS or runtime>.lock, every file checked against
# its hash), then the project itself without dependencies, when pyproject.toml or the
# lock changed since the last install. docs/dependencies.md says how the locks are
# refreshed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${PYTHON:-python3}
LOCK=requirements/${EXTRAS:-runtime}.lock
if [ ! -x .venv/bin/python ]; then
  echo "creating .venv" >&2
  "$PY" -m venv .venv
fi
stamp=".venv/.vendorproof-installed${EXTRAS:+-$EXTRAS}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ "$LOCK" -nt "$stamp" ]; then
  echo "installing vendorproof${EXTRAS:+[$EXTRAS]} into .venv from $LOCK" >&2
  .venv/bin/python -m pip install -q --require-hashes --no-deps -r "$LOCK" >&2
  .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e . >&2
  touch "$stamp"
fi
