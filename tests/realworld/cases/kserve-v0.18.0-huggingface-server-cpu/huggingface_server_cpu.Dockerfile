ARG BASE_IMAGE=ubuntu:22.04
ARG VENV_PATH=/prod_venv

FROM ${BASE_IMAGE} AS base
ARG PYTHON=python3
RUN apt-get update && \
    apt-get install --no-install-recommends --fix-missing -y \
        g++-12 gcc-12 google-perftools libnuma1 numactl \
        python3.10-dev python3.10-venv python3-pip curl && \
    rm -rf /var/lib/apt/lists/*
RUN update-alternatives --install /usr/bin/gcc gcc /usr/bin/gcc-12 10 --slave /usr/bin/g++ g++ /usr/bin/g++-12
ENV CC=/usr/bin/gcc-12 CXX=/usr/bin/g++-12
RUN ln -sf "$(which ${PYTHON})" /usr/bin/python

FROM base AS builder
RUN curl -LsSf https://astral.example/uv/install.sh | sh && \
    ln -s /root/.local/bin/uv /usr/local/bin/uv
RUN apt-get update && apt-get install --no-install-recommends -y build-essential git libnuma-dev && \
    rm -rf /var/lib/apt/lists/*

ARG VENV_PATH
ENV VIRTUAL_ENV=${VENV_PATH}
RUN uv venv $VIRTUAL_ENV
ENV PATH="$VIRTUAL_ENV/bin:$PATH"

ARG TORCH_EXTRA_INDEX_URL="https://wheels.example/whl/cpu"
ARG TORCH_VERSION=2.10.0

COPY huggingfaceserver/pyproject.toml huggingfaceserver/uv.lock huggingfaceserver/
RUN cd huggingfaceserver && \
    uv pip install --no-cache-dir --index-url ${TORCH_EXTRA_INDEX_URL} \
        torch==${TORCH_VERSION} \
        torchvision \
        torchaudio && \
    uv sync --active --no-cache

# vLLM for CPU is built from its source tag
ARG VLLM_VERSION=0.19.0
ARG VLLM_CPU_DISABLE_AVX512=true
ENV VLLM_CPU_DISABLE_AVX512=${VLLM_CPU_DISABLE_AVX512}
ARG VLLM_TARGET_DEVICE=cpu
ENV VLLM_TARGET_DEVICE=${VLLM_TARGET_DEVICE}
RUN git clone --single-branch --branch v${VLLM_VERSION} https://github.com/vllm-project/vllm.git
RUN cd vllm && \
    uv pip install --no-cache -v --index-strategy unsafe-best-match --extra-index-url ${TORCH_EXTRA_INDEX_URL} -r requirements/cpu-build.txt && \
    uv pip install --no-cache -v --index-strategy unsafe-best-match --extra-index-url ${TORCH_EXTRA_INDEX_URL} -r requirements/cpu.txt
RUN cd vllm && python setup.py bdist_wheel
RUN uv pip install --no-cache vllm/dist/vllm-${VLLM_VERSION}*.whl

# earlier steps may have pulled CUDA wheels of torch; put the CPU builds back
RUN uv pip install --no-cache-dir --index-url ${TORCH_EXTRA_INDEX_URL} --reinstall \
    torch==${TORCH_VERSION} \
    torchvision \
    torchaudio
RUN rm -rf /vllm /root/.cache/uv /root/.cache/pip /tmp/*

FROM base AS prod
ARG VENV_PATH
ENV VIRTUAL_ENV=${VENV_PATH}
ENV PATH="$VIRTUAL_ENV/bin:$PATH"
RUN useradd kserve -m -u 1000 -d /home/kserve
COPY --from=builder --chown=kserve:kserve $VIRTUAL_ENV $VIRTUAL_ENV
COPY --from=builder --chown=kserve:kserve huggingfaceserver huggingfaceserver
ENV LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4:${LD_PRELOAD}
USER 1000
ENTRYPOINT ["python", "-m", "huggingfaceserver"]
