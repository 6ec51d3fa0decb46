# CPU-only SGLang for Arm servers: built from source with the CPU pyproject, torch from a CPU index.
FROM ubuntu:24.04
SHELL ["/bin/bash", "-c"]

ARG SGLANG_REPO=https://github.com/sgl-project/sglang.git
ARG VER_SGLANG=main

RUN apt-get update && \
    apt-get full-upgrade -y && \
    DEBIAN_FRONTEND=noninteractive apt-get install --no-install-recommends -y \
    ca-certificates git curl wget vim gcc g++ make cmake libnuma-dev numactl

WORKDIR /opt

RUN curl -LsSf https://download.example/uv/install.sh | sh && \
    source $HOME/.local/bin/env && \
    uv venv --python 3.12

# route torch and triton to the CPU wheel index
RUN echo -e '[[index]]\nname = "torch"\nurl = "https://wheels.example/whl/cpu"\n\n[[index]]\nname = "triton"\nurl = "https://wheels.example/whl/cpu"' > .venv/uv.toml

ENV UV_CONFIG_FILE=/opt/.venv/uv.toml
ENV CMAKE_BUILD_PARALLEL_LEVEL=1

WORKDIR /sgl-ws
RUN source $HOME/.local/bin/env && \
    source /opt/.venv/bin/activate && \
    git clone ${SGLANG_REPO} sglang && \
    cd sglang && \
    git checkout ${VER_SGLANG} && \
    cd python && \
    cp pyproject_cpu.toml pyproject.toml && \
    uv pip install . && \
    cd ../sgl-kernel && \
    cp pyproject_cpu.toml pyproject.toml && \
    uv pip install .

ENV SGLANG_USE_CPU_ENGINE=1
RUN echo 'source /opt/.venv/bin/activate' >> /root/.bashrc

WORKDIR /sgl-ws/sglang
