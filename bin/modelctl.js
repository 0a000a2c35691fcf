#!/usr/bin/env node
// Thin launcher: everything lives in dist/cli/main.js (built by `npm run build`). A clone
// that was never built (or whose dist/ is incomplete) is told so, not shown a stack trace.
import('../dist/cli/main.js').then(
  (m) => m.main(process.argv),
  (err) => {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !/[\\/]dist[\\/]/.test(String(err.message))) throw err;
    const built = !/dist[\\/]cli[\\/]main\.js/.test(String(err.message));
    process.stderr.write(
      `error: modelctl is ${built ? 'not completely built (a file of dist/ is missing)' : 'not built in this clone (no dist/cli/main.js)'}\n` +
        'hint: run `npm run build` in the modelctl folder (`npm ci` first if node_modules is missing)\n',
    );
    process.exitCode = 1;
  },
);
