# kube-lego: the operator (entry point) and the issuance Job program (jobs/main.ts), in one image.
# Node 24 runs the TypeScript sources directly (type stripping): there is no build step.
FROM node:24-slim AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=dependencies /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
COPY tasks ./tasks
COPY jobs ./jobs
COPY processes ./processes
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["node"]
CMD ["src/main.ts"]
