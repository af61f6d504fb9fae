# roomrpc's image: the packages uv.lock pins, no compiler, no dev tools, a non-root user.
#   docker build -t roomrpc .
#   docker run -p 8080:8080 -v roomrpc-data:/data roomrpc
# Traces: docker build --build-arg EXTRAS="--extra otel" -t roomrpc .

FROM python:3.11-slim AS build
ARG EXTRAS=""
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
# Dependencies first: this layer is rebuilt only when the lock changes.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-install-project --no-editable $EXTRAS
COPY schema ./schema
COPY server ./server
COPY codegen ./codegen
RUN uv sync --locked --no-editable $EXTRAS

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin roomrpc \
 && mkdir /data && chown roomrpc /data
COPY --from=build /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8080 \
    DATA_DIR=/data
USER roomrpc
WORKDIR /data
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8080/healthz', timeout=2)"]
CMD ["roomrpc", "serve"]
