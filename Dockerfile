# syntax=docker/dockerfile:1
# ActionTrail: build the TypeScript into dist/ in one stage, run it from a slim image as a
# non-root user in the next. Build: `docker build -t actiontrail .` (docs/deployment.md).

FROM node:20-bookworm-slim AS build
WORKDIR /src
# better-sqlite3 compiles when no prebuilt binary matches: the toolchain stays in this stage.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bin ./bin
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
  ACTIONTRAIL_HOST=0.0.0.0 \
  ACTIONTRAIL_PORT=8774 \
  ACTIONTRAIL_DB=/var/lib/actiontrail/actiontrail.db
WORKDIR /opt/actiontrail
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/bin ./bin
RUN groupadd --system actiontrail \
  && useradd --system --gid actiontrail --home-dir /var/lib/actiontrail actiontrail \
  && mkdir -p /var/lib/actiontrail \
  && chown actiontrail:actiontrail /var/lib/actiontrail
USER actiontrail
VOLUME ["/var/lib/actiontrail"]
EXPOSE 8774
# /healthz needs no token; node's fetch keeps the image free of curl.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.ACTIONTRAIL_PORT || 8774) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/actiontrail.js"]
CMD ["serve"]
