# syntax=docker/dockerfile:1
# Build stage: compile TypeScript with the dev dependencies.
FROM node:20-bookworm-slim AS build
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

# Runtime stage: production dependencies, the compiled code, the contract and its validators.
FROM node:20-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080
WORKDIR /app
# The executor's sandbox (embedded mode, npm run worker) and the runtimes it offers. Embedded
# mode on HOST=0.0.0.0 refuses to start when bwrap cannot make a box (a container needs user
# namespaces allowed for it); in front of external services none of this is used.
RUN apt-get update && apt-get install -y --no-install-recommends bubblewrap python3 \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY spec ./spec
COPY generated ./generated
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/server/main.js"]
