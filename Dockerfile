# A small image with sprawl and its Hyperscan matcher: docker run --rm -v "$PWD:/src" secret-sprawl scan /src
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends git && rm -rf /var/lib/apt/lists/* \
    && git config --system --add safe.directory "*"
WORKDIR /opt/secret-sprawl
COPY pyproject.toml setup.py README.md LICENSE ./
COPY scanner ./scanner
COPY rules ./rules
RUN pip install --no-cache-dir . && rm -rf /opt/secret-sprawl && useradd --create-home sprawl
USER sprawl
WORKDIR /src
ENTRYPOINT ["sprawl"]
CMD ["--help"]
