ARG CUDA_VERSION=12.9.1
ARG VENV_PATH=prod_venv
ARG PYTHON_VERSION=3.12
ARG WORKSPACE_DIR=/kserve-workspace

# ---- base: CUDA devel image with deadsnakes Python ----
FROM nvidia/cuda:${CUDA_VERSION}-devel-ubuntu22.04 AS base
ARG WORKSPACE_DIR
ARG CUDA_VERSION=12.9.1
ARG PYTHON_VERSION=3.12
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -y \
    && apt-get install -y software-properties-common git curl gcc \
    && add-apt-repository ppa:deadsnakes/ppa && apt-get update -y \
    && apt-get install -y python${PYTHON_VERSION} python${PYTHON_VERSION}-dev python${PYTHON_VERSION}-venv \
    && update-alternatives --install /usr/bin/python3 python3 /usr/bin/python${PYTHON_VERSION} 1 \
    && apt-get clean && rm -rf /var/lib/apt/lists/*
RUN curl -LsSf https://astral.example/uv/install.sh | sh && ln -s /root/.local/bin/uv /usr/local/bin/uv
RUN ldconfig /usr/local/cuda-$(echo $CUDA_VERSION | cut -d. -f1,2)/compat/
ARG torch_cuda_arch_list='7.0 7.5 8.0 8.6 8.9 9.0+PTX'
ENV TORCH_CUDA_ARCH_LIST=${torch_cuda_arch_list}
WORKDIR ${WORKSPACE_DIR}

# ---- build: everything goes into a venv ----
FROM base AS build
ARG WORKSPACE_DIR
ARG VLLM_VERSION=0.19.0
ARG LMCACHE_VERSION=0.4.2
ARG FLASHINFER_VERSION=0.6.6
WORKDIR ${WORKSPACE_DIR}
ARG VENV_PATH
RUN python3 -m venv ${VENV_PATH}
ENV VIRTUAL_ENV=${WORKSPACE_DIR}/${VENV_PATH}
ENV PATH="${WORKSPACE_DIR}/${VENV_PATH}/bin:$PATH"

COPY storage/pyproject.toml storage/uv.lock storage/
COPY kserve kserve
RUN --mount=type=cache,target=/root/.cache/uv cd kserve && uv sync --active --no-cache
COPY storage storage
RUN --mount=type=cache,target=/root/.cache/uv cd storage && uv pip install . --no-cache
COPY huggingfaceserver huggingfaceserver
RUN --mount=type=cache,target=/root/.cache/uv cd huggingfaceserver && uv sync --active --no-cache

# vLLM with the model-loader extras
RUN --mount=type=cache,target=/root/.cache/pip pip install vllm[runai,tensorizer,fastsafetensors]==${VLLM_VERSION}
RUN --mount=type=cache,target=/root/.cache/pip pip install lmcache==${LMCACHE_VERSION}

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# FlashInfer kernels: prebuilt cubins plus the JIT cache for this CUDA (cu129 here)
RUN --mount=type=cache,target=/root/.cache/pip \
    pip install flashinfer-cubin==${FLASHINFER_VERSION} && \
    pip install flashinfer-jit-cache==${FLASHINFER_VERSION} \
        --extra-index-url https://wheels.example/flashinfer/whl/cu$(echo ${CUDA_VERSION} | cut -d. -f1,2 | tr -d '.') && \
    flashinfer show-config

# ---- prod: CUDA runtime + the venv ----
FROM nvidia/cuda:${CUDA_VERSION}-runtime-ubuntu22.04 AS prod
ARG WORKSPACE_DIR
ARG CUDA_VERSION=12.9.1
ARG PYTHON_VERSION=3.12
WORKDIR ${WORKSPACE_DIR}
RUN apt-get update -y \
    && apt-get install -y software-properties-common curl ffmpeg libgl1 gcc libibverbs-dev \
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
USER 1000
ENTRYPOINT ["python3", "-m", "huggingfaceserver"]
