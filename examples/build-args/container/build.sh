#!/usr/bin/env bash
# Builds the vLLM image, in the shape of Dynamo's container/build.sh: the versions are set at the top,
# gathered into one string of build args, and the Dockerfile is found beside this script.
set -e
SOURCE_DIR=$(dirname "$(readlink -f "$0")")

VLLM_REF="v0.11.0"
FLASHINF_REF="0.3.1"
NIXL_REF=0.7.1

BUILD_ARGS=""
BUILD_ARGS+=" --build-arg VLLM_REF=${VLLM_REF} --build-arg FLASHINF_REF=${FLASHINF_REF} "
BUILD_ARGS+=" --build-arg NIXL_REF=${NIXL_REF} --build-arg GIT_SHA=$(git rev-parse --short HEAD) "

$RUN_PREFIX docker build -f ${SOURCE_DIR}/Dockerfile.vllm $BUILD_ARGS --tag dynamo:latest-vllm "$(dirname "$SOURCE_DIR")"
