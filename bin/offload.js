#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/ (built by `npm run build`, run by `npm ci` through `prepare`).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// Every durable write waits on fsyncs in libuv's thread pool; 4 threads (the default) would
// serialise concurrent uploads behind each other's disk flushes.
process.env.UV_THREADPOOL_SIZE ??= '16';
// `offload ls ... | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
const { main } = await import('../dist/cli/main.js');
await main(process.argv.slice(2));
