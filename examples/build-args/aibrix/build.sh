# The build command AIBrix's build/container/README.md documents, kept as a script next to the Dockerfile.
docker build -f Dockerfile.vllm \
  --build-arg VLLM_VERSION=v0.10.2 \
  --build-arg AIBRIX_BRANCH=v0.5.0 \
  --build-arg NIXL_VERSION=0.7.1 \
  -t aibrix/vllm-openai:v0.10.2-aibrix-v0.5.0-nixl-0.7.1-$(date +'%Y%m%d') .
