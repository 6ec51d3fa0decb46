ARG CUDA_VERSION=13.2.1
ARG VENV_PATH=prod_venv
ARG WORKSPACE_DIR=/kserve-workspace

# ---- CUDA runtime on Ubuntu 25.10 (no NVIDIA image exists for it) ----
FROM ubuntu:25.10 AS cuda-runtime
ENV DEBIAN_FRONTEND=noninteractive
ENV NVARCH=x86_64
ENV NV_CUDA_CUDART_VERSION=13.2.75-1
ENV CUDA_VERSION=13.2.1
ENV NV_CUDA_LIB_VERSION=13.2.1-1
ENV NV_LIBCUBLAS_VERSION=13.4.0.1-1
ENV NVIDIA_REQUIRE_CUDA="cuda>=13.2 brand=tesla,driver>=580,driver<581"
RUN apt-get update && apt-get install -y --no-install-recommends gnupg2 curl ca-certificates && \
    curl -fsSLO https://cuda-repo.example/ubuntu2404/${NVARCH}/cuda-keyring_1.1-1_all.deb && \
    dpkg -i cuda-keyring_1.1-1_all.deb && rm cuda-keyring_1.1-1_all.deb && \
    rm -rf /var/lib/apt/lists/*
RUN apt-get update && apt-get install -y --no-install-recommends \
    cuda-cudart-13-2=${NV_CUDA_CUDART_VERSION} \
    cuda-libraries-13-2=${NV_CUDA_LIB_VERSION} \
    libcublas-13-2=${NV_LIBCUBLAS_VERSION} \
    libnccl2 \
    && rm -rf /var/lib/apt/lists/*
ENV PATH=/usr/local/nvidia/bin:/usr/local/cuda/bin:${PATH}
ENV LD_LIBRARY_PATH=/usr/local/nvidia/lib64:/usr/local/cuda/lib64
ENV NVIDIA_VISIBLE_DEVICES=all
ENV NVIDIA_DRIVER_CAPABILITIES=compute,utility

# ---- CUDA devel on top of it ----
FROM cuda-runtime AS cuda-devel
ENV NV_CUDA_CUDART_DEV_VERSION=13.2.75-1
RUN apt-get update && apt-get install -y --no-install-recommends \
    cuda-cudart-dev-13-2=${NV_CUDA_CUDART_DEV_VERSION} \
    cuda-minimal-build-13-2=${NV_CUDA_LIB_VERSION} \
    libnccl-dev \
    && rm -rf /var/lib/apt/lists/*
ENV LIBRARY_PATH=/usr/local/cuda/lib64/stubs

# ---- base build image ----
FROM cuda-devel AS base
ARG WORKSPACE_DIR
ARG CUDA_VERSION=13.2.1
RUN apt-get update -y \
    && apt-get install -y git curl gcc python3 python3-venv python3-pip python-is-python3 \
    && apt-get clean && rm -rf /var/lib/apt/lists/*
RUN curl -LsSf https://astral.example/uv/install.sh | sh && ln -s /root/.local/bin/uv /usr/local/bin/uv
RUN ldconfig /usr/local/cuda-$(echo $CUDA_VERSION | cut -d. -f1,2)/compat/
# arch list for torch extensions, kept explicit
ARG torch_cuda_arch_list='7.0 7.5 8.0 8.6 8.9 9.0+PTX'
ENV TORCH_CUDA_ARCH_LIST=${torch_cuda_arch_list}
WORKDIR ${WORKSPACE_DIR}

# ---- build: venv with kserve, vLLM and LMCache ----
FROM base AS build
ARG WORKSPACE_DIR
ARG VLLM_VERSION=0.20.0
ARG LMCACHE_VERSION=0.4.4
WORKDIR ${WORKSPACE_DIR}
ARG VENV_PATH
RUN python3 -m venv ${VENV_PATH}
ENV VIRTUAL_ENV=${WORKSPACE_DIR}/${VENV_PATH}
ENV PATH="${WORKSPACE_DIR}/${VENV_PATH}/bin:$PATH"
COPY huggingfaceserver huggingfaceserver
RUN --mount=type=cache,target=/root/.cache/uv cd huggingfaceserver && uv sync --active --no-cache
RUN --mount=type=cache,target=/root/.cache/uv uv pip install vllm[runai,tensorizer,fastsafetensors]==${VLLM_VERSION}
RUN --mount=type=cache,target=/root/.cache/uv uv pip install lmcache==${LMCACHE_VERSION}

# ---- prod: the runtime stage plus the venv ----
FROM cuda-runtime AS prod
ARG WORKSPACE_DIR
ARG CUDA_VERSION=13.2.1
WORKDIR ${WORKSPACE_DIR}
ARG VENV_PATH
ENV VIRTUAL_ENV=${WORKSPACE_DIR}/${VENV_PATH}
ENV PATH="${WORKSPACE_DIR}/${VENV_PATH}/bin:$PATH"
RUN userdel -r ubuntu && useradd kserve -m -u 1000 -d /home/kserve
COPY --from=build --chown=kserve:kserve ${WORKSPACE_DIR}/$VENV_PATH $VENV_PATH
COPY --from=build ${WORKSPACE_DIR}/huggingfaceserver huggingfaceserver
USER 1000
ENTRYPOINT ["python3", "-m", "huggingfaceserver"]
