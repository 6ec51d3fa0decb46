ARG CUDA_VERSION=12.8.1
ARG VENV_PATH=prod_venv
ARG PYTHON_VERSION=3.12
ARG WORKSPACE_DIR=/kserve-workspace

#################### base: CUDA devel + Python ####################
FROM nvidia/cuda:${CUDA_VERSION}-devel-ubuntu22.04 AS base
ARG WORKSPACE_DIR
ARG CUDA_VERSION=12.8.1
ARG PYTHON_VERSION=3.12
ENV DEBIAN_FRONTEND=noninteractive

RUN apt-get update -y \
    && apt-get install -y ccache software-properties-common git curl sudo gcc python-is-python3 \
    && add-apt-repository ppa:deadsnakes/ppa && apt-get update -y \
    && apt-get install -y python${PYTHON_VERSION} python${PYTHON_VERSION}-dev python${PYTHON_VERSION}-venv \
    && update-alternatives --install /usr/bin/python3 python3 /usr/bin/python${PYTHON_VERSION} 1 \
    && curl -sS https://bootstrap.example/get-pip.py | python${PYTHON_VERSION} \
    && apt-get clean && rm -rf /var/lib/apt/lists/*

# triton/torch look for the CUDA compat libraries
RUN ldconfig /usr/local/cuda-$(echo $CUDA_VERSION | cut -d. -f1,2)/compat/

# arch list for torch extensions
ARG torch_cuda_arch_list='7.0 7.5 8.0 8.6 8.9 9.0+PTX'
ENV TORCH_CUDA_ARCH_LIST=${torch_cuda_arch_list}
ARG vllm_fa_cmake_gpu_arches='80-real;90-real'
ENV VLLM_FA_CMAKE_GPU_ARCHES=${vllm_fa_cmake_gpu_arches}
WORKDIR ${WORKSPACE_DIR}

#################### build: the venv that is copied to prod ####################
FROM base AS build
ARG WORKSPACE_DIR
ARG VLLM_VERSION=0.9.2
ARG LMCACHE_VERSION=0.3.0
ARG FLASHINFER_VERSION=0.2.6.post1
# flashinfer cannot be built for 7.0, so it gets its own list
ARG FLASHINFER_CUDA_ARCH_LIST="7.5 8.0 8.6 8.9 9.0+PTX"
WORKDIR ${WORKSPACE_DIR}
ARG VENV_PATH
RUN python3 -m venv ${VENV_PATH}
ENV VIRTUAL_ENV=${WORKSPACE_DIR}/${VENV_PATH}
ENV PATH="${WORKSPACE_DIR}/${VENV_PATH}/bin:$PATH"

COPY huggingfaceserver huggingfaceserver
RUN --mount=type=cache,target=/root/.cache/uv cd huggingfaceserver && uv sync --active --no-cache

RUN --mount=type=cache,target=/root/.cache/pip pip install vllm[runai,tensorizer,fastsafetensors]==${VLLM_VERSION}

RUN --mount=type=cache,target=/root/.cache/pip pip install lmcache==${LMCACHE_VERSION}

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# a prebuilt flashinfer wheel exists for CUDA 12.8 + torch 2.7; build from source otherwise
RUN --mount=type=cache,target=/root/.cache/pip \
  if [[ "$CUDA_VERSION" == 12.8* ]]; then \
    pip install https://wheels.example/whl/cu128/flashinfer/flashinfer_python-${FLASHINFER_VERSION}%2Bcu128torch2.7-cp39-abi3-linux_x86_64.whl; \
  else \
    export TORCH_CUDA_ARCH_LIST="${FLASHINFER_CUDA_ARCH_LIST}" && \
    git clone --branch v${FLASHINFER_VERSION} --recursive https://github.com/flashinfer-ai/flashinfer.git && \
    cd flashinfer && python3 -m flashinfer.aot && \
    pip install --no-build-isolation . && \
    cd .. && rm -rf flashinfer; \
  fi

#################### prod: CUDA runtime + the venv ####################
FROM nvidia/cuda:${CUDA_VERSION}-runtime-ubuntu22.04 AS prod
ARG WORKSPACE_DIR
ARG CUDA_VERSION=12.8.1
ARG PYTHON_VERSION=3.12
WORKDIR ${WORKSPACE_DIR}
RUN apt-get update -y \
    && apt-get install -y software-properties-common curl ffmpeg libsm6 libxext6 libgl1 gcc libibverbs-dev \
    && add-apt-repository ppa:deadsnakes/ppa && apt-get update -y \
    && apt-get install -y python${PYTHON_VERSION} python${PYTHON_VERSION}-venv \
    && apt-get clean && rm -rf /var/lib/apt/lists/*
ARG VENV_PATH
ENV VIRTUAL_ENV=${WORKSPACE_DIR}/${VENV_PATH}
ENV PATH="${WORKSPACE_DIR}/${VENV_PATH}/bin:$PATH"
RUN useradd kserve -m -u 1000 -d /home/kserve
COPY --from=build --chown=kserve:kserve ${WORKSPACE_DIR}/$VENV_PATH $VENV_PATH
COPY --from=build ${WORKSPACE_DIR}/huggingfaceserver huggingfaceserver
ENV HF_HOME="/tmp/huggingface"
ENV VLLM_WORKER_MULTIPROC_METHOD="spawn"
USER 1000
ENTRYPOINT ["python3", "-m", "huggingfaceserver"]
