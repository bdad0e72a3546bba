# kube-lego: the operator (src/main.ts, which Node 24 runs directly) and the issuance Job's programs
# (dist/issue.mjs, dist/respond.mjs: bundles, `npm run build`, since every certificate starts them afresh),
# in one image, with `kube-lego status` (bin/kube-lego.js).
FROM node:24-slim AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24-slim AS programs
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY scripts/build.ts ./scripts/
COPY src ./src
COPY tasks ./tasks
COPY jobs ./jobs
RUN node scripts/build.ts

FROM node:24-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=dependencies /app/node_modules ./node_modules
COPY --from=programs /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY src ./src
COPY tasks ./tasks
COPY processes ./processes
# Node's compile cache, filled once at build time, for the operator's and the Job's start-up. Read-only at
# run time.
ENV NODE_COMPILE_CACHE=/app/.node-compile-cache
RUN node dist/issue.mjs 2>/dev/null; node dist/respond.mjs 2>/dev/null; LEGO_LIFECYCLE_PROCESS=/nonexistent node src/main.ts 2>/dev/null; test -d /app/.node-compile-cache
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["node"]
CMD ["--max-old-space-size=128", "--max-semi-space-size=1", "src/main.ts"]
