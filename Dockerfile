# nest-chat: `docker build -t nest-chat .` then `docker run -p 8090:8090 -v nest-chat-data:/data nest-chat`
# (or `docker compose up`). Checked without a daemon by `npm run check:docker` (README, Deploy).
ARG NODE_VERSION=20.20

# Production dependencies. better-sqlite3 compiles from source where no prebuilt binary can be
# downloaded (about 2 minutes), so this stage has the compilers and the runtime stage does not.
# --engine-strict: fails if a runtime dependency refuses this Node version.
FROM node:${NODE_VERSION}-bookworm-slim AS deps
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --engine-strict --no-audit --no-fund

# dist/: TypeScript only, so no install scripts (no native build) are needed here.
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
RUN npm run build

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production PORT=8090 SQLITE_PATH=/data/chat.sqlite
WORKDIR /app
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Served at GET /asyncapi.yaml and read at startup.
COPY docs/asyncapi.yaml ./docs/asyncapi.yaml
# The database lives on a volume owned by the image's unprivileged `node` user (1000:1000); the
# code stays root's, read-only to the server.
RUN mkdir -p /data && chown 1000:1000 /data
VOLUME /data
USER 1000:1000
EXPOSE 8090
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.PORT + '/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form, node itself as PID 1: SIGTERM from `docker stop` reaches the server (npm or a shell would not pass it on).
CMD ["node", "dist/main.js"]
