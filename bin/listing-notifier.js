#!/usr/bin/env node
// Node 24 runs the TypeScript sources directly (type stripping); there is no build step. Node's module
// compile cache (NODE_COMPILE_CACHE, else <tmpdir>/node-compile-cache) keeps each module's stripped text
// and V8 code: with it warm (the image warms it at build time: bin/warm-compile-cache.js) the process
// never loads the TypeScript stripper, about 25 MB less resident memory (README, "Sizing memory and
// CPU"). It is a quiet optimisation: a cache that cannot be read or written changes nothing else.
import { enableCompileCache } from 'node:module';

enableCompileCache();
const { main } = await import('../src/cli/index.ts');

process.exitCode = await main(process.argv.slice(2));
