# syntax=docker/dockerfile:1
# tfs-rollout as a sidecar image. Build: docker build -t tfs-rollout:0.1.0 .
# Two stages: the build stage compiles TypeScript with the dev dependencies; the runtime stage holds only
# production dependencies and files (dist/, protos/, config/, package*.json), runs as a non-root user under tini.

FROM node:20.19-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: "prepare" would build before the sources are copied.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:20.19-bookworm-slim AS runtime
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/* \
  && groupadd --system --gid 10001 tfs-rollout \
  && useradd --system --uid 10001 --gid tfs-rollout --no-create-home --shell /usr/sbin/nologin tfs-rollout
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY protos ./protos
COPY config ./config
USER 10001:10001
# The HTTP port (/livez, /readyz, /metrics); the Kubernetes manifest passes --http 0.0.0.0:9464.
EXPOSE 9464
ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/src/cli.js"]
CMD ["daemon", "--config", "/etc/tfs-rollout/config.yaml"]
