# The service image. Node 24 runs the TypeScript sources directly (type stripping), so there is no
# build stage: the image holds the sources, production dependencies and nothing else.
FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY bin ./bin
COPY src ./src
COPY config ./config
USER node
EXPOSE 9464
ENTRYPOINT ["node", "bin/listing-notifier.js"]
CMD ["run", "--config", "/app/config/listing-notifier.yaml"]
