# Sourced by bin/serve and bin/test: create .venv and install the project into it when needed.
# Usage: . bin/_venv.sh [extras]
PY=${PYTHON:-python3}
if ! command -v "$PY" >/dev/null 2>&1; then
  echo "Python 3.11 eller senare behövs: sudo apt-get install python3 python3-venv" >&2
  exit 1
fi
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "Python 3.11 eller senare behövs (hittade $("$PY" --version 2>&1))." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  if ! "$PY" -m venv .venv; then
    rm -rf .venv
    echo "Kunde inte skapa .venv: installera venv-modulen (sudo apt-get install python3-venv)." >&2
    exit 1
  fi
fi
_extras=${1:-}
_stamp=".venv/.installed${_extras:+-$_extras}"
if [ ! -f "$_stamp" ] || [ pyproject.toml -nt "$_stamp" ]; then
  echo "Installerar beroenden i .venv ..."
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${_extras:+[$_extras]}"
  touch "$_stamp"
fi
