#!/usr/bin/env node
// Fills Node's module compile cache with every source module (and the dependencies they import), so
// that a process started later finds each module's type-stripped text and V8 code in the cache instead
// of loading the TypeScript stripper (about 25 MB resident for the process's whole life) and compiling
// again: README, "Sizing memory and CPU". The Dockerfile runs it at build time with NODE_COMPILE_CACHE
// set; bin/listing-notifier.js reads the same directory. Importing a module here runs nothing: the
// sources' modules only declare (the composition root acts when called).
import { readdirSync } from 'node:fs';
import { constants, enableCompileCache, flushCompileCache } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const cache = enableCompileCache();
const { ENABLED, ALREADY_ENABLED } = constants.compileCacheStatus;
if (cache.status !== ENABLED && cache.status !== ALREADY_ENABLED) {
  console.error(`warm-compile-cache: the compile cache is not enabled: ${cache.message ?? cache.status}`);
  process.exit(1);
}
const src = fileURLToPath(new URL('../src/', import.meta.url));
const modules = readdirSync(src, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.ts'))
  .sort();
for (const file of modules) await import(pathToFileURL(join(src, file)).href);
flushCompileCache();
console.log(`warm-compile-cache: ${modules.length} modules in ${cache.directory}`);
