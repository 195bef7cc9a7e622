# The service image. Node 24 runs the TypeScript sources directly (type stripping), so there is no
# build stage: the image holds the sources, production dependencies and nothing else.
#
# It runs as the base image's unprivileged `node` user (uid/gid 1000, numeric so that Kubernetes'
# runAsNonRoot can check it) and writes nothing: a read-only root filesystem is fine (k8s/app/deployment.yaml
# mounts an emptyDir on /tmp all the same). test/integration/image.test.ts plays these steps in a
# temporary folder and runs the result as uid 1000 on a read-only root; test/unit/image/dockerfile.test.ts
# lints this file.
FROM node:24-slim
ENV NODE_ENV=production
# Small V8 semi-spaces bound resident memory under a fast stream (README, "Sizing memory and CPU").
ENV NODE_OPTIONS="--max-semi-space-size=4 --max-old-space-size=136"
# glibc's malloc bounded, as k8s/app/deployment.yaml sets it (README, "Sizing memory and CPU").
ENV MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 MALLOC_TRIM_THRESHOLD_=131072
# Node's module compile cache, warmed below: the service never loads the TypeScript stripper (about
# 25 MB resident) and writes nothing there at run time (bin/warm-compile-cache.js). Relative: to WORKDIR.
ENV NODE_COMPILE_CACHE=.node-compile-cache
WORKDIR /app
# The lock carries every platform's optional packages, so `npm ci` accepts it anywhere.
# --ignore-scripts: no production dependency needs an install script.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY bin ./bin
COPY src ./src
COPY config ./config
RUN node bin/warm-compile-cache.js
USER 1000:1000
EXPOSE 9464
# /healthz answers 200 while the process is alive (readiness is /readyz); no curl in the slim image.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/listing-notifier.js"]
CMD ["run", "--config", "/app/config/listing-notifier.yaml"]
