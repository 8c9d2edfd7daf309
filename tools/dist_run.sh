#!/usr/bin/env bash
# torchrun launcher shared by dist_train.sh and dist_test.sh:
#   bash tools/dist_run.sh SCRIPT NPROC [SCRIPT args...]
# NNODES, NODE_RANK, PORT and MASTER_ADDR come from the environment. On machines without CUDA
# the processes talk over gloo (CPU); with CUDA, over nccl.
SCRIPT=$1
NPROC=$2
PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
exec python -m torch.distributed.run \
    --nnodes="${NNODES:-1}" \
    --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --nproc_per_node="$NPROC" \
    --master_port="${PORT:-29500}" \
    "$(dirname "$0")/$SCRIPT" "${@:3}" --launcher pytorch
