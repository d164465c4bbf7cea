# syntax=docker/dockerfile:1
# Two images from one file, on the current Node LTS:
#   docker build -t crucible-gateway .                  the gateway (the last stage, the default)
#   docker build --target worker -t crucible-worker .   a worker: bubblewrap and the runtimes;
#     also runs the reference platform: `node dist/platform/main.js`
ARG NODE_IMAGE=node:22-bookworm-slim

# Build stage: compile TypeScript with the dev dependencies.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY spec ./spec
COPY generated ./generated
COPY lib ./lib
COPY core ./core
COPY clients ./clients
COPY handlers ./handlers
COPY server ./server
COPY platform ./platform
RUN npm run build

# What both images run: production dependencies, the compiled code, the contract and validators.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production HOST=0.0.0.0
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY spec ./spec
COPY generated ./generated

# A worker: takes evaluations from the queues and runs each in a bubblewrap sandbox (which needs
# user namespaces: see deploy/ for the container settings); serves its kill endpoint on 8083.
FROM runtime AS worker
RUN apt-get update && apt-get install -y --no-install-recommends bubblewrap python3 \
  && rm -rf /var/lib/apt/lists/*
ENV PLATFORM_EXECUTOR_PORT=8083
USER node
EXPOSE 8083
CMD ["node", "dist/platform/worker-main.js"]

# The gateway, in front of external queue and storage services (embedded mode, which runs
# submitted code, belongs in the worker image).
FROM runtime AS gateway
ENV PORT=8080
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/server/main.js"]
