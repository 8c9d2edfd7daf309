#!/usr/bin/env bash
# Creates (or reuses) the virtual environment of this repository and installs the CPU stack:
# torch (CPU build), mmcv 2.1.0 compiled with its C++ ops, mmengine, mmdet 3.3.0, mmsegmentation 1.2.2,
# pycocotools and this package (editable, with its test extras).
#
# Re-running it is quick: the venv is reused when nothing it was built from has changed, and the mmcv wheel
# compiled once is kept in a wheelhouse outside the repository (and in pip's wheel cache).
#
# Environment:
#   VENV             venv directory (default: <repo>/.venv)
#   PYTHON           interpreter used to create the venv (default: python3.11, else python3)
#   MMPC_WHEELHOUSE  where the compiled mmcv wheel is kept (default: ~/.cache/mmpanoptic_cabb/wheels)
#   TORCH_SPEC       torch requirement (default: torch==2.13.0, the CPU build on these machines)
#   MAX_JOBS         parallel compile jobs for mmcv (default: number of cores)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$REPO/.venv}"
PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
WHEELHOUSE="${MMPC_WHEELHOUSE:-$HOME/.cache/mmpanoptic_cabb/wheels}"
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"
MMCV_VERSION="2.1.0"
export MAX_JOBS="${MAX_JOBS:-$(nproc)}"

log() { echo "[setup_env] $*" >&2; }

stamp_inputs() {
    cat "$REPO/tools/setup_env.sh" "$REPO"/requirements/*.txt "$REPO/setup.py" "$REPO/setup.cfg" 2>/dev/null
    echo "$TORCH_SPEC $PYTHON"
}
STAMP="$(stamp_inputs | sha256sum | cut -d' ' -f1)"

if [ -f "$VENV/.mmpc-setup-stamp" ] && [ "$(cat "$VENV/.mmpc-setup-stamp")" = "$STAMP" ] \
    && "$VENV/bin/python" -c "import mmcv.ops, mmdet, mmseg, mmpanoptic_cabb" 2>/dev/null; then
    log "environment in $VENV is up to date"
    exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
    log "creating venv $VENV with $PYTHON"
    "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip)

log "installing torch ($TORCH_SPEC) and build requirements"
"${PIP[@]}" install -q "$TORCH_SPEC"
"${PIP[@]}" install -q -r "$REPO/requirements/build.txt"

if ! "$PY" -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '$MMCV_VERSION'" 2>/dev/null; then
    mkdir -p "$WHEELHOUSE"
    torch_tag="$("$PY" -c 'import torch; print(torch.__version__.replace("+", "_"))')"
    house="$WHEELHOUSE/torch-$torch_tag"
    mkdir -p "$house"
    if ! ls "$house"/mmcv-"$MMCV_VERSION"-*.whl >/dev/null 2>&1; then
        log "compiling mmcv $MMCV_VERSION with ops against torch $torch_tag (one time, ~25 min on 2 cores)"
        MMCV_WITH_OPS=1 "${PIP[@]}" wheel --no-deps --no-build-isolation -w "$house" "mmcv==$MMCV_VERSION"
    fi
    "${PIP[@]}" install -q "$house"/mmcv-"$MMCV_VERSION"-*.whl
fi

log "installing OpenMMLab runtime requirements and this package"
"${PIP[@]}" install -q -r "$REPO/requirements/runtime.txt" -r "$REPO/requirements/tests.txt"
# panopticapi (the PQ reference the tests compare against) is published as panopticapi-lite; its
# metadata pins numpy<2, which its code does not need, so it is installed without dependencies.
"${PIP[@]}" install -q --no-deps "panopticapi-lite==0.2.0"
"${PIP[@]}" install -q --no-build-isolation --no-deps -e "$REPO"

"$PY" -c "import mmcv.ops, mmdet, mmseg, mmpanoptic_cabb; print('mmcv', mmcv.__version__, 'mmdet', mmdet.__version__, 'mmseg', mmseg.__version__)"
echo "$STAMP" > "$VENV/.mmpc-setup-stamp"
log "done"
